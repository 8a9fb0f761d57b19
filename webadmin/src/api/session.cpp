// The admin's console session: log in (POST), look (GET), log out (DELETE),
// change the admin password (PUT session/password).

#include "api/rest.hpp"

#include <sipsite/webadmin/password.hpp>
#include <sipsite/store/admin_repository.hpp>
#include <sipsite/store/audit_repository.hpp>

#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>

namespace sipsite::webadmin {

using namespace rest;

namespace {

constexpr std::size_t kMaxAdminPassword = 1024;

std::string session_cookie(std::string_view id, bool clear) {
  std::string c(kSessionCookie);
  c += "=";
  c += id;
  c += "; Path=/; Secure; HttpOnly; SameSite=Strict";
  if (clear) c += "; Max-Age=0";
  return c;
}

}  // namespace

Response Api::login(Call& c) {
  json body;
  if (auto bad = parse_body(c.req, {"username", "password"}, body)) return *bad;
  std::string username;
  std::string password;
  if (auto bad = required_string(body, "username", username)) return *bad;
  if (auto bad = required_string(body, "password", password)) return *bad;
  const auto now = settings_.now();
  if (auto wait = limiter_.blocked(c.ctx.client, username, now)) {
    auto res = error_response(Status::too_many_requests, "too_many_attempts",
                              "too many failed logins; try again in " + std::to_string(wait->count()) + " s");
    res.set(http::field::retry_after, std::to_string(wait->count()));
    return res;
  }
  std::optional<store::AdminRecord> admin;
  if (username.size() <= 64 && password.size() <= kMaxAdminPassword) {
    auto found = store::AdminRepository(db_).find(username);
    if (!found) return store_error(found.error());
    admin = std::move(*found);
  }
  bool ok = false;
  if (admin) {
    ok = verify_password(admin->password_hash, password);
  } else {
    // Same work for an unknown user, so timing does not tell which exist.
    static const std::string dummy = hash_password("not a real password").value_or("");
    (void)verify_password(dummy, password);
  }
  OPENSSL_cleanse(password.data(), password.size());
  if (!ok) {
    const bool locked = limiter_.failure(c.ctx.client, username, now);
    audit(c, printable(username), "login.failure", locked ? "lockout started" : "wrong username or password");
    return error_response(Status::unauthorized, "invalid_credentials", "wrong username or password");
  }
  limiter_.success(c.ctx.client, username);
  // A new session on every login (the old cookie, if any, ends here).
  if (auto old = cookie_value(c.req, kSessionCookie); !old.empty()) sessions_.remove(old);
  const std::string id = sessions_.create(admin->username, admin->must_change, now);
  if (id.empty()) return error_response(Status::internal_server_error, "internal_error", "no random session id");
  const Session* s = sessions_.find(id, now);
  audit(c, admin->username, "login.success", admin->must_change ? "one-time password" : "");
  auto res = json_response(
      Status::ok,
      {{"username", s->username}, {"csrf_token", s->csrf_token}, {"must_change_password", s->must_change_password}});
  res.set(http::field::set_cookie, session_cookie(id, false));
  return res;
}

Response Api::session_info(Call& c) {
  return json_response(Status::ok, {{"username", c.session->username},
                                    {"csrf_token", c.session->csrf_token},
                                    {"must_change_password", c.session->must_change_password}});
}

Response Api::logout(Call& c) {
  audit(c, c.session->username, "logout", "");
  sessions_.remove(c.session_id);
  Response res{Status::no_content, 11};
  res.set(http::field::set_cookie, session_cookie("", true));
  return res;
}

Response Api::change_password(Call& c) {
  json body;
  if (auto bad = parse_body(c.req, {"current", "new"}, body)) return *bad;
  std::string current;
  std::string fresh;
  if (auto bad = required_string(body, "current", current)) return *bad;
  if (auto bad = required_string(body, "new", fresh)) return *bad;
  struct Wipe {
    std::string& a;
    std::string& b;
    ~Wipe() {
      OPENSSL_cleanse(a.data(), a.size());
      OPENSSL_cleanse(b.data(), b.size());
    }
  } wipe{current, fresh};

  const std::string username = c.session->username;
  const auto now = settings_.now();
  if (auto wait = limiter_.blocked(c.ctx.client, username, now)) {
    auto res = error_response(Status::too_many_requests, "too_many_attempts",
                              "too many wrong passwords; try again in " + std::to_string(wait->count()) + " s");
    res.set(http::field::retry_after, std::to_string(wait->count()));
    return res;
  }
  if (fresh.size() < settings_.min_admin_password || fresh.size() > kMaxAdminPassword) {
    return error_response(Status::bad_request, "weak_password",
                          "the new password must be " + std::to_string(settings_.min_admin_password) + "-" +
                              std::to_string(kMaxAdminPassword) + " characters");
  }
  if (std::any_of(fresh.begin(), fresh.end(), [](char ch) { return std::iscntrl(static_cast<unsigned char>(ch)); })) {
    return error_response(Status::bad_request, "weak_password", "the new password must not contain control characters");
  }
  if (fresh == current) {
    return error_response(Status::bad_request, "weak_password", "the new password must differ from the current one");
  }
  auto admin = store::AdminRepository(db_).find(username);
  if (!admin) return store_error(admin.error());
  if (!*admin) return error_response(Status::unauthorized, "unauthenticated", "this account no longer exists");
  if (!verify_password((*admin)->password_hash, current)) {
    limiter_.failure(c.ctx.client, username, now);
    audit(c, username, "admin.password_change_failure", "wrong current password");
    return error_response(Status::forbidden, "wrong_password", "the current password is wrong");
  }
  const auto hash = hash_password(fresh);
  if (!hash) return error_response(Status::internal_server_error, "internal_error", "cannot hash the password");
  auto r = db_.transaction([&]() -> store::Result<void> {
    if (auto p = store::AdminRepository(db_).put({username, *hash, false, 0}); !p) return p;
    return store::AuditRepository(db_).append(username, c.ctx.client, "admin.password_change", "");
  });
  if (!r) return store_error(r.error());
  c.session->must_change_password = false;
  sessions_.remove_user_except(username, c.session_id);
  return json_response(Status::ok, {{"username", username}, {"must_change_password", false}});
}

}  // namespace sipsite::webadmin
