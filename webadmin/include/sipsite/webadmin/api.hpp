#pragma once
// The console's request handling, without sockets: static UI, /healthz,
// /metrics and the REST API under /api/v1, behind authentication, CSRF and
// the forced password change. The server feeds it parsed requests; tests
// call handle() directly.
//
// Authentication model:
//  - POST /api/v1/session with {"username","password"} checks the Argon2id
//    hash in the admins table and sets a session cookie
//    (__Host-sipsite_session: Secure, HttpOnly, SameSite=Strict, Path=/), a
//    fresh 256-bit id on every login; the answer carries the session's
//    csrf_token.
//  - Every state-changing request (POST, PUT, PATCH, DELETE) but the login
//    itself must send X-CSRF-Token equal to the session's token, and a JSON
//    body must be sent as application/json.
//  - While the account must change its password (the one-time password from
//    `sipsite init`), every route but GET/DELETE session and PUT
//    session/password answers 403 password_change_required.
//  - Failed logins are limited per source address and per username
//    (LoginLimiter), with audit entries.
//  - Scripts authenticate with an API token instead (Authorization: Bearer,
//    see store/api_token_repository.hpp): every API route but session and token management,
//    and /metrics (for a Prometheus scraper). No CSRF token with a bearer.
//  - /healthz and the static UI files need no authentication.
//
// Thread safety: none. One Api per console thread; it owns the database
// connection it is given for its lifetime.

#include <sipsite/admin/network_settings.hpp>
#include <sipsite/metrics/histogram.hpp>
#include <sipsite/store/database.hpp>
#include <sipsite/store/pending_repository.hpp>
#include <sipsite/webadmin/certificate_probe.hpp>
#include <sipsite/webadmin/http.hpp>
#include <sipsite/webadmin/live_state.hpp>
#include <sipsite/webadmin/login_limiter.hpp>
#include <sipsite/webadmin/router.hpp>
#include <sipsite/webadmin/sessions.hpp>

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sipsite::admin {
class SiteOperations;
}  // namespace sipsite::admin

namespace sipsite::webadmin {

// The site's network settings as the daemon sees them (see
// admin/network_settings.hpp for where each value comes from).
struct NetworkContext {
  using Values = std::map<std::string, admin::NetworkValue, std::less<>>;
  Values running;                      // what the daemon runs with, per key
  std::vector<std::string> file_keys;  // set in the configuration file: shown, not editable
  // What the daemon would start with, were these the stored values (its
  // own start-up rule). Unset: the console offers no network settings.
  std::function<Values(const std::vector<admin::NetworkSetting>& stored)> next_start;
};

struct ApiSettings {
  std::string domain;
  std::string certificate_pem;
  std::string invite;  // the one-line invite (as `sipsite invite` prints it)
  // Fetches a site's certificate for an invite-only import; empty: such
  // imports are refused. Blocks the console thread for its duration.
  CertificateProbe probe;
  SessionLimits sessions;
  LoginLimits login;
  std::size_t min_admin_password = 12;
  std::size_t max_page = 500;  // largest ?limit
  NetworkContext network;
  // The console's clock (tests substitute a fake one).
  std::function<std::chrono::steady_clock::time_point()> now = [] { return std::chrono::steady_clock::now(); };
};

struct RequestContext {
  std::string client;  // the peer's IP address, for rate limits and the audit log
};

inline constexpr std::string_view kSessionCookie = "__Host-sipsite_session";

class Api {
 public:
  // `db` and `live` must outlive the Api.
  Api(ApiSettings settings, store::Database& db, LiveState& live);

  // Never throws: a failure inside a handler is a 500 error object.
  Response handle(const Request& req, const RequestContext& ctx);

  // (method, pattern) of every route, for the OpenAPI check.
  std::vector<std::pair<http::verb, std::string>> routes() const;

  const SessionStore& sessions() const { return sessions_; }
  // `client` (an address) authenticated before: a login, a session, a token.
  [[nodiscard]] bool known_client(std::string_view client) const { return limiter_.known_good(client); }

 private:
  struct Call;
  enum class Access {
    open,          // no session needed
    session_only,  // a session, even one that must change its password
    full,          // a session whose password is changed, or an API token
    session_full,  // as full, but no API token (token management)
  };
  using Handler = Response (Api::*)(Call&);
  struct RouteEntry {
    Handler handler;
    Access access;
  };
  struct RouteSpec {
    http::verb method;
    std::string_view pattern;
    Handler handler;
    Access access;
  };
  // Every route (api/routes.cpp).
  static std::vector<RouteSpec> route_table();

  Response dispatch(const Request& req, const RequestContext& ctx);

  // The handlers, one file per resource under src/api/.
  Response static_file(Call& c);
  Response healthz(Call& c);
  Response metrics(Call& c);
  Response openapi(Call& c);
  Response login(Call& c);
  Response session_info(Call& c);
  Response logout(Call& c);
  Response change_password(Call& c);
  Response site(Call& c);
  Response site_address_check(Call& c);
  Response site_certificate(Call& c);
  Response site_invite_svg(Call& c);
  Response list_peers(Call& c);
  Response import_peer(Call& c);
  Response bulk_peers(Call& c);
  Response get_peer(Call& c);
  Response trust_peer(Call& c);
  Response revoke_peer(Call& c);
  Response list_pending(Call& c);
  Response ignore_pending(Call& c);
  Response list_users(Call& c);
  Response add_user(Call& c);
  Response delete_user(Call& c);
  Response list_audit(Call& c);
  Response list_registrations(Call& c);
  Response list_calls(Call& c);
  Response list_cdrs(Call& c);
  Response list_messages(Call& c);
  Response get_settings(Call& c);
  Response put_settings(Call& c);
  Response get_network_settings(Call& c);
  Response put_network_settings(Call& c);
  Response network_view();
  Response list_tokens(Call& c);
  Response create_token(Call& c);
  Response revoke_token(Call& c);
  Response remove_peer(Call& c);
  Response change_user_password(Call& c);

  // The admin operations, acting as this call's actor from its client.
  admin::SiteOperations operations(const Call& c);
  void audit(const Call& c, std::string_view actor, std::string_view action, std::string_view detail);

  ApiSettings settings_;
  store::Database& db_;
  LiveState& live_;
  SessionStore sessions_;
  LoginLimiter limiter_;
  metrics::Histogram request_durations_{metrics::kLatencyBuckets};  // every request handle() answers
  Router<RouteEntry> router_;
  std::string own_fingerprint_;
};

}  // namespace sipsite::webadmin
