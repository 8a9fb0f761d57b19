#pragma once
// Pending peer requests: handshakes refused because the presenting
// certificate is not trusted here, kept so that the admin can trust (after
// verifying the fingerprint out of band) or ignore them. An ignored request
// is a persistent deny entry. The table is capped so a scanner cannot fill
// the database.

#include <sipsite/store/database.hpp>

#include <vector>

namespace sipsite::store {

struct PendingRequest {
  std::string fingerprint;
  std::string certificate_pem;
  std::string claimed_domain;
  std::string source_address;
  std::int64_t first_seen = 0;
  std::int64_t last_seen = 0;
  std::int64_t attempts = 0;
  bool ignored = false;
  // The claimed domain is a trusted peer's, under another key: an impostor,
  // or that peer's new key that did not come with a rotation proof. Never
  // trust it without asking the peer's admin. Computed when read.
  bool impostor = false;
};

// recorded: a new request; replaced: a new request, for which the least
// recently seen one was dropped (the table was at its cap); updated: one
// more attempt of a known request; ignored: an ignored fingerprint, left as
// it is; full: not recorded, every request at the cap is ignored.
enum class PendingOutcome { recorded, replaced, updated, ignored, full };

class PendingRepository {
 public:
  static constexpr std::int64_t kDefaultCap = 100;

  explicit PendingRepository(Database& db) : db_(db) {}

  // Records an attempt: a new request, or one more attempt of a known one.
  // An ignored fingerprint is left as it is (`ignored`); when `cap` requests
  // exist, the least recently seen non-ignored one makes room (`replaced`),
  // unless all are ignored (`full`).
  Result<PendingOutcome> record(std::string_view fingerprint, std::string_view certificate_pem,
                                std::string_view claimed_domain, std::string_view source_address,
                                std::int64_t cap = kDefaultCap);
  Result<std::optional<PendingRequest>> find(std::string_view fingerprint);
  // Newest first; ignored ones only when asked.
  Result<std::vector<PendingRequest>> list(bool include_ignored);
  // Errc::not_found if there is no such request.
  Result<void> ignore(std::string_view fingerprint);
  Result<void> remove(std::string_view fingerprint);
  // Removes non-ignored requests last seen before `before` (retention).
  Result<int> purge_older_than(std::int64_t before);

 private:
  Database& db_;
};

}  // namespace sipsite::store
