#pragma once
// Local users (AORs) and their digest credentials.

#include <sipsite/store/database.hpp>

#include <string_view>
#include <vector>

namespace sipsite::store {

struct UserRecord {
  std::string username;  // user part of the AOR
  std::string domain;
  std::string realm;
  std::string ha1_md5;     // hex MD5(username:realm:password)
  std::string ha1_sha256;  // hex SHA-256(username:realm:password)
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;

  std::string aor() const { return username + "@" + domain; }
};

// What delete_account() removed besides the user row.
struct DeletedAccount {
  int messages = 0;
  int cdrs = 0;
  bool cdrs_kept = false;  // privacy.keep_cdrs_on_user_delete was on
};

class UserRepository {
 public:
  explicit UserRepository(Database& db) : db_(db) {}
  // Errc::duplicate if the AOR exists.
  Result<void> add(const UserRecord& user);
  // Errc::not_found if the AOR does not exist.
  Result<void> remove(std::string_view username, std::string_view domain);
  // Deleting an account, the one way the CLI and the console do it: in one
  // transaction, the user row (AOR and digest credentials), the messages
  // stored for them, their CDRs (as caller or callee) unless the setting
  // privacy.keep_cdrs_on_user_delete is on, and an audit entry "user.del"
  // by `actor` from `source`. Errc::not_found (and nothing changed) if the
  // AOR does not exist. Registrations live only in the daemon's memory:
  // the daemon drops them when it sees the user gone.
  Result<DeletedAccount> delete_account(std::string_view username, std::string_view domain, std::string_view actor,
                                        std::string_view source);
  // New digest credentials (realm and both HA1s) for the existing user
  // `user.username`@`user.domain`; everything else of the user (messages,
  // call records, created_at) stays. Errc::not_found if the AOR does not
  // exist.
  Result<void> update_credentials(const UserRecord& user);
  Result<std::optional<UserRecord>> find(std::string_view username, std::string_view domain);
  // Ordered by domain, then username.
  Result<std::vector<UserRecord>> list();

 private:
  Database& db_;
};

}  // namespace sipsite::store
