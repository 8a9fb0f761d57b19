#include <sipsite/store/admin_repository.hpp>

#include "sipsite/store/unix_time.hpp"

namespace sipsite::store {

Result<void> AdminRepository::put(const AdminRecord& admin) {
  auto r = db_.execute(
      "INSERT OR REPLACE INTO admins (username, password_hash, must_change, updated_at) VALUES (?, ?, ?, ?)",
      admin.username, admin.password_hash, static_cast<std::int64_t>(admin.must_change), unix_now());
  if (!r) return r.error();
  return {};
}

Result<std::optional<AdminRecord>> AdminRepository::find(std::string_view username) {
  return first_row(
      db_.query("SELECT username, password_hash, must_change, updated_at FROM admins WHERE username = ?", username),
      [](const Statement& s) {
        return AdminRecord{s.text(0), s.text(1), s.integer(2) != 0, s.integer(3)};
      });
}

}  // namespace sipsite::store
