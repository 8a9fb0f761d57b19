#include <sipsite/store/site_repository.hpp>

#include "sipsite/store/unix_time.hpp"

namespace sipsite::store {

Result<void> SiteRepository::create(const SiteRecord& site) {
  auto r =
      db_.execute("INSERT INTO site (id, domain, certificate_pem, private_key_pem, created_at) VALUES (1, ?, ?, ?, ?)",
                  site.domain, site.certificate_pem, site.private_key_pem, unix_now());
  if (!r) {
    if (r.error().code == Errc::duplicate) return Error{Errc::duplicate, "this database already holds a site"};
    return r.error();
  }
  return {};
}

Result<SiteRecord> SiteRepository::load() {
  auto stmt = db_.query(
      "SELECT domain, certificate_pem, private_key_pem, created_at, previous_certificate_pem, rotated_at FROM site "
      "WHERE id = 1");
  if (!stmt) return stmt.error();
  auto row = stmt->step();
  if (!row) return row.error();
  if (!*row) {
    return Error{Errc::not_initialised, "the database holds no site identity (run 'sipsite init --force')"};
  }
  return SiteRecord{stmt->text(0), stmt->text(1), stmt->text(2), stmt->integer(3), stmt->text(4), stmt->integer(5)};
}

Result<void> SiteRepository::replace_identity(const std::string& certificate_pem, const std::string& private_key_pem) {
  auto r = db_.execute("UPDATE site SET certificate_pem = ?, private_key_pem = ? WHERE id = 1", certificate_pem,
                       private_key_pem);
  if (!r) return r.error();
  if (*r == 0) return Error{Errc::not_initialised, "the database holds no site identity"};
  return {};
}

Result<void> SiteRepository::rotate_identity(const std::string& expected_current_pem,
                                             const std::string& certificate_pem, const std::string& private_key_pem) {
  auto r = db_.execute(
      "UPDATE site SET previous_certificate_pem = certificate_pem, certificate_pem = ?, private_key_pem = ?, "
      "rotated_at = ? WHERE id = 1 AND certificate_pem = ?",
      certificate_pem, private_key_pem, unix_now(), expected_current_pem);
  if (!r) return r.error();
  if (*r == 0) {
    return Error{Errc::invalid, "the site identity changed meanwhile (another rotate-key?); nothing was changed"};
  }
  return {};
}

}  // namespace sipsite::store
