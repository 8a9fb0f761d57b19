// The site's SIP users (phones): list, add, change a password, delete.

#include "api/rest.hpp"

#include <sipsite/webadmin/password.hpp>
#include <sipsite/admin/site_operations.hpp>
#include <sipsite/store/user_repository.hpp>

#include <openssl/crypto.h>

namespace sipsite::webadmin {

using namespace rest;

Response Api::list_users(Call& c) {
  if (auto bad = c.read_page(settings_.max_page)) return *bad;
  auto users = store::UserRepository(db_).list();
  if (!users) return store_error(users.error());
  return json_response(
      Status::ok, paginate(*users, c.page, [](const store::UserRecord& u) {
        return json{
            {"aor", u.aor()}, {"username", u.username}, {"domain", u.domain}, {"created_at", iso8601(u.created_at)}};
      }));
}

Response Api::add_user(Call& c) {
  json body;
  if (auto bad = parse_body(c.req, {"aor", "password"}, body)) return *bad;
  std::string aor;
  std::optional<std::string> password;
  if (auto bad = required_string(body, "aor", aor)) return *bad;
  if (auto bad = string_field(body, "password", password)) return *bad;
  // A bare user name is a user of this site.
  if (aor.find('@') == std::string::npos) aor += "@" + settings_.domain;
  const bool generated = !password || password->empty();
  if (generated) password = generate_one_time_password();
  auto user = operations(c).add_user(aor, *password);
  if (!user) {
    OPENSSL_cleanse(password->data(), password->size());
    return operation_error(user.error());
  }
  json out = {{"aor", user->aor()}, {"username", user->username}, {"domain", user->domain}};
  // A generated password is shown once, to give to the user; a typed one is
  // never echoed.
  if (generated) out["password"] = *password;
  OPENSSL_cleanse(password->data(), password->size());
  return json_response(Status::created, out);
}

Response Api::change_user_password(Call& c) {
  json body;
  if (auto bad = parse_body(c.req, {"password"}, body)) return *bad;
  std::string password;
  if (auto bad = required_string(body, "password", password)) return *bad;
  auto user = operations(c).change_user_password(c.params.at("aor"), password);
  OPENSSL_cleanse(password.data(), password.size());
  if (!user) return operation_error(user.error());
  return Response{Status::no_content, 11};
}

Response Api::delete_user(Call& c) {
  if (auto r = operations(c).delete_user(c.params.at("aor")); !r) return operation_error(r.error());
  return Response{Status::no_content, 11};
}

}  // namespace sipsite::webadmin
