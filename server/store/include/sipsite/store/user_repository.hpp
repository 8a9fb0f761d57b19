#pragma once
// Local users (AORs) and their digest credentials.

#include <sipsite/store/database.hpp>

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

class UserRepository {
 public:
  explicit UserRepository(Database& db) : db_(db) {}
  // Errc::duplicate if the AOR exists.
  Result<void> add(const UserRecord& user);
  // Errc::not_found if the AOR does not exist.
  Result<void> remove(std::string_view username, std::string_view domain);
  Result<std::optional<UserRecord>> find(std::string_view username, std::string_view domain);
  // Ordered by domain, then username.
  Result<std::vector<UserRecord>> list();

 private:
  Database& db_;
};

}  // namespace sipsite::store
