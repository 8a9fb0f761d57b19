// SiteOperations: users.

#include <sipsite/admin/site_operations.hpp>
#include <sipsite/admin/user_credentials.hpp>

namespace sipsite::admin {

namespace {

// A user of this site: `text` parsed, and its domain the site's.
OpResult<Aor> site_aor(std::string_view text, std::string_view site_domain) {
  std::string why;
  auto aor = parse_aor(text, why);
  if (!aor) return OpError{OpErrc::bad_aor, why};
  if (aor->domain != site_domain)
    return OpError{OpErrc::bad_aor, "users of this site are @" + std::string(site_domain)};
  return std::move(*aor);
}

OpResult<store::UserRecord> user_record(std::string_view aor_text, std::string_view site_domain,
                                        std::string_view password) {
  auto aor = site_aor(aor_text, site_domain);
  if (!aor) return aor.error();
  if (auto bad = check_user_password(password)) return OpError{OpErrc::bad_password, *bad};
  // Digest credentials, realm = the site domain; the password is not kept.
  return make_user_record(*aor, site_domain, password);
}

}  // namespace

OpResult<store::UserRecord> SiteOperations::add_user(std::string_view aor, std::string_view password) {
  return write_user(aor, password, UserWrite::add);
}

OpResult<store::UserRecord> SiteOperations::change_user_password(std::string_view aor, std::string_view password) {
  return write_user(aor, password, UserWrite::replace_credentials);
}

OpResult<store::UserRecord> SiteOperations::write_user(std::string_view aor, std::string_view password,
                                                       UserWrite write) {
  auto user = user_record(aor, site_.domain, password);
  if (!user) return user;
  auto r = db_.transaction([&]() -> store::Result<void> {
    store::UserRepository users(db_);
    if (write == UserWrite::add) {
      if (auto a = users.add(*user); !a) return a;
      return audit("user.add", user->aor());
    }
    if (auto u = users.update_credentials(*user); !u) return u;
    return audit("user.password_change", user->aor());
  });
  if (!r) return from_store(r.error());
  return user;
}

OpResult<store::DeletedAccount> SiteOperations::delete_user(std::string_view aor_text) {
  std::string why;
  const auto aor = parse_aor(aor_text, why);
  if (!aor) return OpError{OpErrc::bad_aor, why};
  // The account deletion is one transaction with its audit entry already.
  auto r = store::UserRepository(db_).delete_account(aor->username, aor->domain, actor_.name, actor_.source);
  if (!r) return from_store(r.error());
  return *r;
}

}  // namespace sipsite::admin
