#include <sipsite/store/user_repository.hpp>

#include "unix_time.hpp"

namespace sipsite::store {

namespace {

constexpr std::string_view kColumns =
    "username, domain, realm, ha1_md5, ha1_sha256, created_at, updated_at";

UserRecord read_user(const Statement& s) {
  return UserRecord{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.integer(5), s.integer(6)};
}

}  // namespace

Result<void> UserRepository::add(const UserRecord& user) {
  const auto now = detail::unix_now();
  auto r = db_.execute("INSERT INTO users (" + std::string(kColumns) + ") VALUES (?, ?, ?, ?, ?, ?, ?)",
                       user.username, user.domain, user.realm, user.ha1_md5, user.ha1_sha256, now, now);
  if (!r) {
    if (r.error().code == Errc::duplicate) return Error{Errc::duplicate, "user " + user.aor() + " already exists"};
    return r.error();
  }
  return {};
}

Result<void> UserRepository::remove(std::string_view username, std::string_view domain) {
  auto r = db_.execute("DELETE FROM users WHERE username = ? AND domain = ?", username, domain);
  if (!r) return r.error();
  if (*r == 0) {
    return Error{Errc::not_found, "no user " + std::string(username) + "@" + std::string(domain)};
  }
  return {};
}

Result<std::optional<UserRecord>> UserRepository::find(std::string_view username, std::string_view domain) {
  return first_row(
      db_.query("SELECT " + std::string(kColumns) + " FROM users WHERE username = ? AND domain = ?", username,
                domain),
      read_user);
}

Result<std::vector<UserRecord>> UserRepository::list() {
  return collect_rows(db_.query("SELECT " + std::string(kColumns) + " FROM users ORDER BY domain, username"),
                      read_user);
}

}  // namespace sipsite::store
