// The console's request handling: authentication (session or API token),
// CSRF, the forced password change, then the route's handler. The routes
// are listed in api/routes.cpp, their handlers in one file per resource
// under api/.

#include <sipsite/webadmin/api.hpp>

#include "api/rest.hpp"

#include <sipsite/admin/site_operations.hpp>
#include <sipsite/pki/certificate.hpp>
#include <sipsite/store/api_token_repository.hpp>
#include <sipsite/store/audit_repository.hpp>

namespace sipsite::webadmin {

using namespace rest;

namespace {

bool is_state_changing(http::verb v) {
  return v == http::verb::post || v == http::verb::put || v == http::verb::patch || v == http::verb::delete_;
}

}  // namespace

Api::Api(ApiSettings settings, store::Database& db, LiveState& live)
    : settings_(std::move(settings)), db_(db), live_(live), sessions_(settings_.sessions), limiter_(settings_.login) {
  if (auto cert = pki::Certificate::from_pem(settings_.certificate_pem)) {
    own_fingerprint_ = cert->fingerprint().to_string();
  }
  for (const auto& r : route_table()) router_.add(r.method, std::string(r.pattern), RouteEntry{r.handler, r.access});
}

std::vector<std::pair<http::verb, std::string>> Api::routes() const {
  std::vector<std::pair<http::verb, std::string>> out;
  for (const auto& r : router_.routes()) out.emplace_back(r.method, r.pattern);
  return out;
}

Response Api::handle(const Request& req, const RequestContext& ctx) {
  Response res;
  const auto started = std::chrono::steady_clock::now();
  try {
    res = dispatch(req, ctx);
    // A write answered as done is in force when the admin reads the answer
    // (a changed password no longer registers a phone, a revoked peer's
    // link is closed), not up to the daemon's next look at the database.
    if (is_state_changing(req.method()) && res.result_int() < 300) live_.changes_applied();
  } catch (const std::exception&) {
    res = error_response(Status::internal_server_error, "internal_error", "the console failed to handle the request");
  }
  res.version(req.version());
  res.keep_alive(req.keep_alive());
  add_security_headers(res);
  res.prepare_payload();
  // A 304 names no length (RFC 9110 8.6: it would have to be the 200's).
  if (res.result() == Status::not_modified) res.erase(http::field::content_length);
  request_durations_.observe(std::chrono::steady_clock::now() - started);
  return res;
}

Response Api::dispatch(const Request& req, const RequestContext& ctx) {
  auto target = parse_target(req.target());
  if (!target) return error_response(Status::bad_request, "bad_target", "the request target is malformed");
  const auto match = router_.match(req.method(), target->path);
  using Kind = Router<RouteEntry>::Match::Kind;
  if (match.kind == Kind::bad_path)
    return error_response(Status::bad_request, "bad_target", "bad %-escape in the path");
  if (match.kind == Kind::not_found) return error_response(Status::not_found, "not_found", "no such resource");
  if (match.kind == Kind::method_not_allowed) {
    std::string allow;
    for (auto v : match.allowed) allow += (allow.empty() ? "" : ", ") + std::string(http::to_string(v));
    auto res = error_response(Status::method_not_allowed, "method_not_allowed",
                              std::string(req.method_string()) + " is not allowed here; allowed: " + allow);
    res.set(http::field::allow, allow);
    return res;
  }

  Call c{req, ctx, std::move(*target), match.params, nullptr, {}, {}, {}};
  const RouteEntry& route = match.route->handler;
  if (const auto authz = req[http::field::authorization]; route.access != Access::open && !authz.empty()) {
    // Scripts: a bearer token instead of a session. No CSRF check (no
    // ambient credential a browser would send by itself).
    if (!authz.starts_with("Bearer ")) {
      return error_response(Status::unauthorized, "invalid_token", "use Authorization: Bearer TOKEN");
    }
    if (route.access != Access::full) {
      return error_response(Status::forbidden, "session_required", "this needs a console session, not a token");
    }
    auto name = store::ApiTokenRepository(db_).authenticate(authz.substr(7));
    if (!name) return store_error(name.error());
    if (!*name) {
      auto res = error_response(Status::unauthorized, "invalid_token", "unknown or revoked API token");
      res.set(http::field::www_authenticate, "Bearer");
      return res;
    }
    c.actor = "token:" + **name;
    limiter_.mark_known_good(ctx.client);
  } else if (route.access != Access::open) {
    c.session_id = cookie_value(req, kSessionCookie);
    c.session = sessions_.find(c.session_id, settings_.now());
    if (c.session == nullptr) {
      return error_response(Status::unauthorized, "unauthenticated", "log in first (POST /api/v1/session)");
    }
    if (is_state_changing(req.method())) {
      const auto token = req["X-CSRF-Token"];
      if (token.empty() || !constant_time_equal(token, c.session->csrf_token)) {
        return error_response(Status::forbidden, "csrf_failed",
                              "missing or wrong X-CSRF-Token header (send the csrf_token of the login answer)");
      }
    }
    if (route.access != Access::session_only && c.session->must_change_password) {
      return error_response(Status::forbidden, "password_change_required",
                            "change the one-time password first (PUT /api/v1/session/password)");
    }
    c.actor = c.session->username;
    limiter_.mark_known_good(ctx.client);
  }
  return (this->*route.handler)(c);
}

admin::SiteOperations Api::operations(const Call& c) {
  return admin::SiteOperations(db_, {settings_.domain, own_fingerprint_}, {c.actor, c.ctx.client});
}

void Api::audit(const Call& c, std::string_view actor, std::string_view action, std::string_view detail) {
  // Best effort: a failed audit write must not undo what the admin did, and
  // the action's own transaction already reported any database trouble.
  (void)store::AuditRepository(db_).append(actor, c.ctx.client, action, detail);
}

}  // namespace sipsite::webadmin
