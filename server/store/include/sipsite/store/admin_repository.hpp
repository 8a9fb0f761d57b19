#pragma once
// Console administrator accounts.

#include <sipsite/store/database.hpp>

namespace sipsite::store {

struct AdminRecord {
  std::string username;
  std::string password_hash;  // Argon2id encoded
  bool must_change = false;   // true for the one-time password from init
  std::int64_t updated_at = 0;
};

class AdminRepository {
 public:
  explicit AdminRepository(Database& db) : db_(db) {}
  // Creates or replaces the account.
  Result<void> put(const AdminRecord& admin);
  Result<std::optional<AdminRecord>> find(std::string_view username);

 private:
  Database& db_;
};

}  // namespace sipsite::store
