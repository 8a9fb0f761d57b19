#pragma once
// Stored (offline) MESSAGEs: a MESSAGE for a local user who is not
// registered is kept, encrypted like everything in the database, until the
// user registers (then delivered in arrival order and deleted) or until it
// expires (the retention window; see Purger). Capped per user (count and
// bytes) and in total, so no sender can fill the disk.
//
// Synchronous calls, for the SIP core's database thread.

#include <sipsite/store/database.hpp>

#include <vector>

namespace sipsite::store {

struct MessageLimits {
  std::int64_t max_body_bytes = 64 * 1024;      // one message
  std::int64_t per_user_count = 100;            // messages waiting for one user
  std::int64_t per_user_bytes = 1024 * 1024;    // their bodies together
  std::int64_t total_bytes = 64 * 1024 * 1024;  // every stored body together
};

struct NewMessage {
  std::string recipient;  // local username
  std::string sender_aor;
  std::string content_type;
  std::string body;  // bytes, stored as a BLOB
  std::int64_t created_at = 0;
};

// What the console may show of a stored message: never the body.
struct StoredMessageInfo {
  std::int64_t id = 0;  // increasing: delivery order
  std::string recipient;
  std::string sender_aor;
  std::string content_type;
  std::int64_t size = 0;
  std::int64_t created_at = 0;
};

// What delivery needs: the same, and the body.
struct StoredMessage : StoredMessageInfo {
  std::string body;
};

class MessageRepository {
 public:
  explicit MessageRepository(Database& db, MessageLimits limits = {}) : db_(db), limits_(limits) {}

  // Returns the new message's id. Errc::invalid for a body over
  // max_body_bytes; Errc::full (message says which cap) when the
  // recipient's count or bytes, or the total, would go over its cap.
  Result<std::int64_t> store(const NewMessage& message);
  // The recipient's oldest `limit` messages, oldest first; they stay queued
  // until delivered() removes each one.
  Result<std::vector<StoredMessage>> queued_for(std::string_view recipient, int limit);
  // Every recipient with a stored message.
  Result<std::vector<std::string>> recipients();
  // Deletes a message once delivered (not found is not an error: another
  // delivery or the purge got there first).
  Result<void> delivered(std::int64_t id);
  // Metadata only, newest first; `recipient` empty: everyone's.
  Result<std::vector<StoredMessageInfo>> list(std::string_view recipient, std::int64_t offset, std::int64_t limit);
  Result<std::int64_t> count(std::string_view recipient);
  // Deletes at most `batch` messages created before `before`.
  Result<int> purge_before(std::int64_t before, int batch);
  Result<int> remove_for_recipient(std::string_view recipient);

 private:
  Database& db_;
  MessageLimits limits_;
};

}  // namespace sipsite::store
