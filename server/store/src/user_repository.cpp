#include <sipsite/store/audit_repository.hpp>
#include <sipsite/store/cdr_repository.hpp>
#include <sipsite/store/message_repository.hpp>
#include <sipsite/store/retention_settings.hpp>
#include <sipsite/store/user_repository.hpp>

#include "sipsite/store/unix_time.hpp"

namespace sipsite::store {

namespace {

constexpr std::string_view kColumns = "username, domain, realm, ha1_md5, ha1_sha256, created_at, updated_at";

UserRecord read_user(const Statement& s) {
  return UserRecord{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.integer(5), s.integer(6)};
}

}  // namespace

Result<void> UserRepository::add(const UserRecord& user) {
  const auto now = unix_now();
  auto r = db_.execute("INSERT INTO users (" + std::string(kColumns) + ") VALUES (?, ?, ?, ?, ?, ?, ?)", user.username,
                       user.domain, user.realm, user.ha1_md5, user.ha1_sha256, now, now);
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

Result<void> UserRepository::update_credentials(const UserRecord& user) {
  auto r = db_.execute(
      "UPDATE users SET realm = ?, ha1_md5 = ?, ha1_sha256 = ?, updated_at = ? WHERE username = ? AND domain = ?",
      user.realm, user.ha1_md5, user.ha1_sha256, unix_now(), user.username, user.domain);
  if (!r) return r.error();
  if (*r == 0) return Error{Errc::not_found, "no user " + user.aor()};
  return {};
}

Result<DeletedAccount> UserRepository::delete_account(std::string_view username, std::string_view domain,
                                                      std::string_view actor, std::string_view source) {
  DeletedAccount deleted;
  const std::string aor = std::string(username) + "@" + std::string(domain);
  auto r = db_.transaction([&]() -> Result<void> {
    if (auto removed = remove(username, domain); !removed) return removed;
    auto messages = MessageRepository(db_).remove_for_recipient(username);
    if (!messages) return messages.error();
    deleted.messages = *messages;
    auto keep = RetentionSettingsRepository(db_).flag(setting_key::kKeepCdrsOnUserDelete);
    if (!keep) return keep.error();
    deleted.cdrs_kept = *keep;
    if (!*keep) {
      auto cdrs = CdrRepository(db_).remove_for_aor(aor);
      if (!cdrs) return cdrs.error();
      deleted.cdrs = *cdrs;
    }
    std::string detail = aor + " (" + std::to_string(deleted.messages) + " stored messages, ";
    detail += deleted.cdrs_kept ? "call records kept)" : std::to_string(deleted.cdrs) + " call records)";
    return AuditRepository(db_).append(actor, source, "user.del", detail);
  });
  if (!r) return r.error();
  return deleted;
}

Result<std::optional<UserRecord>> UserRepository::find(std::string_view username, std::string_view domain) {
  return first_row(
      db_.query("SELECT " + std::string(kColumns) + " FROM users WHERE username = ? AND domain = ?", username, domain),
      read_user);
}

Result<std::vector<UserRecord>> UserRepository::list() {
  return collect_rows(db_.query("SELECT " + std::string(kColumns) + " FROM users ORDER BY domain, username"),
                      read_user);
}

}  // namespace sipsite::store
