#include <sipsite/webadmin/api.hpp>
#include <sipsite/webadmin/address_check.hpp>
#include <sipsite/webadmin/peer_json.hpp>

#include <sipsite/admin/site_operations.hpp>

#include "static_assets.hpp"

#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/domain_name.hpp>
#include <sipsite/pki/invite.hpp>
#include <sipsite/pki/pairing.hpp>
#include <sipsite/store/admin_repository.hpp>
#include <sipsite/store/audit_repository.hpp>
#include <sipsite/store/cdr_repository.hpp>
#include <sipsite/store/message_repository.hpp>
#include <sipsite/store/peer_repository.hpp>
#include <sipsite/store/pending_repository.hpp>
#include <sipsite/store/retention_settings.hpp>
#include <sipsite/store/user_repository.hpp>
#include <sipsite/webadmin/api_tokens.hpp>
#include <sipsite/webadmin/password.hpp>
#include <sipsite/webadmin/qr_svg.hpp>

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <unordered_map>
#include <initializer_list>

namespace sipsite::webadmin {

namespace {

using json = nlohmann::json;
using Status = http::status;

constexpr std::size_t kMaxAdminPassword = 1024;
constexpr std::size_t kMaxAuditWindow = 10000;  // offset + limit reachable in the audit log

struct StaticFile {
  std::string_view path;
  std::string_view name;
  std::string_view content_type;
};
constexpr StaticFile kStaticFiles[] = {
    {"/", "index.html", "text/html; charset=utf-8"},
    {"/app.js", "app.js", "text/javascript; charset=utf-8"},
    {"/style.css", "style.css", "text/css; charset=utf-8"},
    {"/favicon.svg", "favicon.svg", "image/svg+xml"},
};

// The daemon's thread did not answer the console in time (LiveState).
Response live_state_unavailable() {
  auto res = error_response(http::status::service_unavailable, "live_state_unavailable",
                            "the daemon did not answer in time (it is busy or stopping); try again in a moment");
  res.set(http::field::retry_after, "1");
  return res;
}

// A Prometheus label value: backslash, double quote and newline escaped.
std::string label_value(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

// The federation part of /metrics: the gateway's counters and, per trusted
// peer, its live calls and links.
std::string federation_metrics(const FederationState& f) {
  std::string out;
  const auto counter = [&](std::string_view name, std::string_view help, std::uint64_t v) {
    out += "# HELP " + std::string(name) + " " + std::string(help) + "\n# TYPE " + std::string(name) + " counter\n";
    out += std::string(name) + " " + std::to_string(v) + "\n";
  };
  out += "# HELP sipsite_federation_messages_total SIP messages exchanged with peer sites.\n"
         "# TYPE sipsite_federation_messages_total counter\n";
  out += "sipsite_federation_messages_total{direction=\"sent\"} " + std::to_string(f.counters.sent) + "\n";
  out += "sipsite_federation_messages_total{direction=\"received\"} " + std::to_string(f.counters.received) + "\n";
  counter("sipsite_federation_refused_total", "Messages from or to peer sites refused by edge privacy or identity checks.",
          f.counters.refused);
  counter("sipsite_federation_rate_limited_total", "Requests from peer sites refused by the per-peer rate limit.",
          f.counters.rate_limited);
  counter("sipsite_federation_revoked_calls_total", "Calls ended because their peer site was revoked.",
          f.counters.revoked_calls);
  out += "# HELP sipsite_federation_calls Calls established with a peer site now.\n"
         "# TYPE sipsite_federation_calls gauge\n";
  for (const auto& p : f.peers) {
    out += "sipsite_federation_calls{peer=\"" + label_value(p.domain) + "\"} " + std::to_string(p.calls) + "\n";
  }
  out += "# HELP sipsite_federation_links Live mutual-TLS links with a peer site now.\n"
         "# TYPE sipsite_federation_links gauge\n";
  for (const auto& p : f.peers) {
    out += "sipsite_federation_links{peer=\"" + label_value(p.domain) + "\"} " + std::to_string(p.links.size()) + "\n";
  }
  return out;
}

// The media relay part of /metrics: its totals and the packets of the calls
// it relays now (a sum over live calls: it falls when a call ends).
std::string media_metrics(const MediaState& m) {
  std::uint64_t lan_to_peer = 0;
  std::uint64_t peer_to_lan = 0;
  for (const auto& c : m.relayed) {
    for (const auto& s : c.streams) {
      lan_to_peer += s.lan_to_peer.packets;
      peer_to_lan += s.peer_to_lan.packets;
    }
  }
  std::string out;
  out += "# HELP sipsite_media_calls Calls whose media the relay carries now.\n"
         "# TYPE sipsite_media_calls gauge\n"
         "sipsite_media_calls " + std::to_string(m.calls) + "\n";
  out += "# HELP sipsite_media_free_ports UDP ports left in the media relay's range.\n"
         "# TYPE sipsite_media_free_ports gauge\n"
         "sipsite_media_free_ports " + std::to_string(m.free_ports) + "\n";
  const auto& p = m.protection;
  out += "# HELP sipsite_media_srtp_packets_total Packets on the SRTP leg between relays, by outcome.\n"
         "# TYPE sipsite_media_srtp_packets_total counter\n";
  for (const auto& [result, n] : {std::pair<const char*, std::uint64_t>{"sealed", p.sealed},
                                  {"opened", p.opened},
                                  {"auth_failed", p.auth_failed},
                                  {"replayed", p.replayed},
                                  {"unkeyed", p.unkeyed},
                                  {"foreign", p.foreign}}) {
    out += std::string("sipsite_media_srtp_packets_total{result=\"") + result + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP sipsite_media_unprotected_refused_total SDPs from peer sites refused for want of a usable media key.\n"
         "# TYPE sipsite_media_unprotected_refused_total counter\n"
         "sipsite_media_unprotected_refused_total " + std::to_string(p.refused_sdp) + "\n";
  std::uint64_t e2e_calls = 0;
  for (const auto& c : m.relayed) e2e_calls += c.protection.end_to_end != "none" ? 1 : 0;
  out += "# HELP sipsite_media_end_to_end_calls Relayed calls whose phones encrypt end to end (DTLS-SRTP or ZRTP) now.\n"
         "# TYPE sipsite_media_end_to_end_calls gauge\n"
         "sipsite_media_end_to_end_calls " + std::to_string(e2e_calls) + "\n";
  out += "# HELP sipsite_media_live_packets Packets forwarded by the relay for the calls it carries now, summed.\n"
         "# TYPE sipsite_media_live_packets gauge\n";
  out += "sipsite_media_live_packets{direction=\"lan_to_peer\"} " + std::to_string(lan_to_peer) + "\n";
  out += "sipsite_media_live_packets{direction=\"peer_to_lan\"} " + std::to_string(peer_to_lan) + "\n";
  return out;
}

json media_direction_json(const MediaDirection& d) {
  return {{"packets", d.packets}, {"bytes", d.bytes}, {"loss", d.loss ? json(*d.loss) : json(nullptr)}};
}

json media_leg_json(const MediaLeg& l) {
  return {{"port", l.port},           {"latched", l.latched},         {"dropped", l.dropped},
          {"relatches", l.relatches}, {"auth_failed", l.auth_failed}, {"replayed", l.replayed}};
}

// One relayed call as the API shows it: no addresses, no Call-ID.
json relayed_call_json(const RelayedCall& c) {
  json streams = json::array();
  for (const auto& s : c.streams) {
    streams.push_back({{"media", s.media},
                       {"rtcp_mux", s.rtcp_mux},
                       {"lan", media_leg_json(s.lan)},
                       {"peer", media_leg_json(s.peer)},
                       {"lan_to_peer", media_direction_json(s.lan_to_peer)},
                       {"peer_to_lan", media_direction_json(s.peer_to_lan)}});
  }
  // Who could hear it: the sites that relay it, unless the phones encrypt
  // end to end; never a network observer between the sites.
  const bool e2e = c.protection.end_to_end != "none";
  json readable = json::array();
  if (!e2e) {
    readable.push_back("this site");
    if (c.scope == "edge") readable.push_back("the peer site");
  }
  json protection = {{"inter_site", c.scope == "edge" ? (c.protection.inter_site_srtp ? "srtp" : "none") : "n/a"},
                     {"lan", c.protection.lan_srtp ? "srtp" : "plain"},
                     {"end_to_end", c.protection.end_to_end},
                     {"readable_by", std::move(readable)}};
  return {{"id", c.id},         {"scope", c.scope},          {"age_s", c.age_s},
          {"idle_s", c.idle_s}, {"protection", std::move(protection)}, {"streams", std::move(streams)}};
}

bool is_state_changing(http::verb v) {
  return v == http::verb::post || v == http::verb::put || v == http::verb::patch || v == http::verb::delete_;
}

// Text safe to put in an audit entry or an error message: no control
// characters, bounded.
std::string printable(std::string_view s, std::size_t max = 64) {
  std::string out;
  for (char c : s.substr(0, max)) out += std::iscntrl(static_cast<unsigned char>(c)) ? '?' : c;
  if (s.size() > max) out += "...";
  return out;
}

Response store_error(const store::Error& e) {
  switch (e.code) {
    case store::Errc::duplicate: return error_response(Status::conflict, "conflict", e.message);
    case store::Errc::not_found: return error_response(Status::not_found, "not_found", e.message);
    case store::Errc::invalid: return error_response(Status::bad_request, "invalid", e.message);
    case store::Errc::busy:
      return error_response(Status::service_unavailable, "busy", "the database is busy; try again");
    default: return error_response(Status::internal_server_error, "store_error", e.message);
  }
}

// An admin operation's error: bad input 400, not found 404, a state that
// does not allow it 409, a busy database 503; the code is the operation's.
Response operation_error(const admin::OpError& e) {
  using admin::OpErrc;
  Status status = Status::bad_request;
  switch (e.code) {
    case OpErrc::not_found: status = Status::not_found; break;
    case OpErrc::conflict:
    case OpErrc::peer_trusted:
    case OpErrc::certificate_not_valid: status = Status::conflict; break;
    case OpErrc::busy: status = Status::service_unavailable; break;
    case OpErrc::failed: status = Status::internal_server_error; break;
    default: break;  // the input is wrong
  }
  return error_response(status, std::string(admin::to_string(e.code)), e.message);
}

std::string cookie_value(const Request& req, std::string_view name) {
  for (auto it = req.find(http::field::cookie); it != req.end() && it->name() == http::field::cookie; ++it) {
    std::string_view header = it->value();
    while (!header.empty()) {
      const auto semi = header.find(';');
      std::string_view pair = header.substr(0, semi);
      header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      const auto eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) return std::string(pair.substr(eq + 1));
    }
  }
  return {};
}

std::string session_cookie(std::string_view id, bool clear) {
  std::string c(kSessionCookie);
  c += "=";
  c += id;
  c += "; Path=/; Secure; HttpOnly; SameSite=Strict";
  if (clear) c += "; Max-Age=0";
  return c;
}

// The request body as a JSON object having only `allowed` members; an error
// response otherwise. An empty body counts as {} when `optional`.
std::optional<Response> parse_body(const Request& req, std::initializer_list<std::string_view> allowed, json& out,
                                   bool optional = false) {
  if (req.body().empty() && optional) {
    out = json::object();
    return std::nullopt;
  }
  std::string type(req[http::field::content_type]);
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  if (!type.starts_with("application/json")) {
    return error_response(Status::unsupported_media_type, "unsupported_media_type",
                          "send the body as application/json");
  }
  out = json::parse(req.body(), nullptr, false);
  if (out.is_discarded()) return error_response(Status::bad_request, "bad_json", "the body is not valid JSON");
  if (!out.is_object()) return error_response(Status::bad_request, "bad_json", "the body must be a JSON object");
  for (const auto& [key, value] : out.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return error_response(Status::bad_request, "unknown_field", "unknown field '" + printable(key) + "'");
    }
  }
  return std::nullopt;
}

// A string member; absent is nullopt with no error, another type an error.
std::optional<Response> string_field(const json& body, std::string_view key, std::optional<std::string>& out) {
  const auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    return error_response(Status::bad_request, "invalid_field", "'" + std::string(key) + "' must be a string");
  }
  out = it->get<std::string>();
  return std::nullopt;
}

std::optional<Response> required_string(const json& body, std::string_view key, std::string& out) {
  std::optional<std::string> v;
  if (auto bad = string_field(body, key, v)) return bad;
  if (!v) return error_response(Status::bad_request, "missing_field", "'" + std::string(key) + "' is required");
  out = std::move(*v);
  return std::nullopt;
}

struct Page {
  std::size_t offset = 0;
  std::size_t limit = 50;
};

std::optional<std::size_t> parse_count(std::string_view s) {
  std::size_t v = 0;
  if (s.empty() || s.size() > 9) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

json page_json(json items, std::size_t total, const Page& page) {
  return {{"items", std::move(items)}, {"total", total}, {"offset", page.offset}, {"limit", page.limit}};
}

template <class T, class ToJson>
json paginate(const std::vector<T>& rows, const Page& page, ToJson to_json) {
  json items = json::array();
  for (std::size_t i = page.offset; i < rows.size() && i < page.offset + page.limit; ++i) items.push_back(to_json(rows[i]));
  return page_json(std::move(items), rows.size(), page);
}

}  // namespace

struct Api::Call {
  const Request& req;
  const RequestContext& ctx;
  Target target;
  RouteParams params;
  Session* session = nullptr;
  std::string session_id;
  std::string actor;  // for the audit log: the admin's name, or "token:NAME"
  Page page;

  // ?offset=&limit= (defaults 0 and 50, limit at most `max`).
  std::optional<Response> read_page(std::size_t max) {
    if (auto it = target.query.find("offset"); it != target.query.end()) {
      auto v = parse_count(it->second);
      if (!v) return error_response(Status::bad_request, "invalid_query", "offset must be a whole number");
      page.offset = *v;
    }
    if (auto it = target.query.find("limit"); it != target.query.end()) {
      auto v = parse_count(it->second);
      if (!v || *v < 1 || *v > max) {
        return error_response(Status::bad_request, "invalid_query",
                              "limit must be a whole number from 1 to " + std::to_string(max));
      }
      page.limit = *v;
    }
    return std::nullopt;
  }
};

Api::Api(ApiSettings settings, store::Database& db, LiveState& live)
    : settings_(std::move(settings)),
      db_(db),
      live_(live),
      sessions_(settings_.sessions),
      limiter_(settings_.login) {
  if (auto cert = pki::Certificate::from_pem(settings_.certificate_pem)) {
    own_fingerprint_ = cert->fingerprint().to_string();
  }
  using V = http::verb;
  const auto add = [&](V v, std::string pattern, Handler h, Access a) {
    router_.add(v, std::move(pattern), RouteEntry{h, a});
  };
  for (const auto& f : kStaticFiles) add(V::get, std::string(f.path), &Api::static_file, Access::open);
  add(V::get, "/healthz", &Api::healthz, Access::open);
  add(V::get, "/metrics", &Api::metrics, Access::full);
  add(V::get, "/api/v1/openapi.json", &Api::openapi, Access::open);
  add(V::post, "/api/v1/session", &Api::login, Access::open);
  add(V::get, "/api/v1/session", &Api::session_info, Access::session_only);
  add(V::delete_, "/api/v1/session", &Api::logout, Access::session_only);
  add(V::put, "/api/v1/session/password", &Api::change_password, Access::session_only);
  add(V::get, "/api/v1/site", &Api::site, Access::full);
  add(V::get, "/api/v1/site/certificate", &Api::site_certificate, Access::full);
  add(V::get, "/api/v1/site/address-check", &Api::site_address_check, Access::full);
  add(V::get, "/api/v1/site/invite.svg", &Api::site_invite_svg, Access::full);
  add(V::get, "/api/v1/peers", &Api::list_peers, Access::full);
  add(V::post, "/api/v1/peers", &Api::import_peer, Access::full);
  add(V::post, "/api/v1/peers/bulk", &Api::bulk_peers, Access::full);
  add(V::get, "/api/v1/peers/pending", &Api::list_pending, Access::full);
  add(V::post, "/api/v1/peers/pending/{fingerprint}/ignore", &Api::ignore_pending, Access::full);
  add(V::get, "/api/v1/peers/{fingerprint}", &Api::get_peer, Access::full);
  add(V::post, "/api/v1/peers/{fingerprint}/trust", &Api::trust_peer, Access::full);
  add(V::post, "/api/v1/peers/{fingerprint}/revoke", &Api::revoke_peer, Access::full);
  add(V::delete_, "/api/v1/peers/{fingerprint}", &Api::remove_peer, Access::full);
  add(V::get, "/api/v1/users", &Api::list_users, Access::full);
  add(V::post, "/api/v1/users", &Api::add_user, Access::full);
  add(V::delete_, "/api/v1/users/{aor}", &Api::delete_user, Access::full);
  add(V::put, "/api/v1/users/{aor}/password", &Api::change_user_password, Access::full);
  add(V::get, "/api/v1/audit", &Api::list_audit, Access::full);
  add(V::get, "/api/v1/registrations", &Api::list_registrations, Access::full);
  add(V::get, "/api/v1/calls", &Api::list_calls, Access::full);
  add(V::get, "/api/v1/cdrs", &Api::list_cdrs, Access::full);
  add(V::get, "/api/v1/messages", &Api::list_messages, Access::full);
  add(V::get, "/api/v1/settings", &Api::get_settings, Access::full);
  add(V::put, "/api/v1/settings", &Api::put_settings, Access::full);
  add(V::get, "/api/v1/tokens", &Api::list_tokens, Access::session_full);
  add(V::post, "/api/v1/tokens", &Api::create_token, Access::session_full);
  add(V::delete_, "/api/v1/tokens/{id}", &Api::revoke_token, Access::session_full);
}

std::vector<std::pair<http::verb, std::string>> Api::routes() const {
  std::vector<std::pair<http::verb, std::string>> out;
  for (const auto& r : router_.routes()) out.emplace_back(r.method, r.pattern);
  return out;
}

Response Api::handle(const Request& req, const RequestContext& ctx) {
  Response res;
  try {
    res = dispatch(req, ctx);
  } catch (const std::exception&) {
    res = error_response(Status::internal_server_error, "internal_error", "the console failed to handle the request");
  }
  res.version(req.version());
  res.keep_alive(req.keep_alive());
  add_security_headers(res);
  res.prepare_payload();
  // A 304 names no length (RFC 9110 8.6: it would have to be the 200's).
  if (res.result() == Status::not_modified) res.erase(http::field::content_length);
  return res;
}

Response Api::dispatch(const Request& req, const RequestContext& ctx) {
  auto target = parse_target(req.target());
  if (!target) return error_response(Status::bad_request, "bad_target", "the request target is malformed");
  const auto match = router_.match(req.method(), target->path);
  using Kind = Router<RouteEntry>::Match::Kind;
  if (match.kind == Kind::bad_path) return error_response(Status::bad_request, "bad_target", "bad %-escape in the path");
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
    auto name = ApiTokens(db_).authenticate(authz.substr(7));
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

// --- open routes

Response Api::static_file(Call& c) {
  for (const auto& f : kStaticFiles) {
    if (f.path != c.target.path) continue;
    if (const StaticAsset* asset = find_static_asset(f.name)) return static_response(c.req, *asset, f.content_type);
  }
  return error_response(Status::not_found, "not_found", "no such resource");
}

Response Api::healthz(Call&) {
  Response res{Status::ok, 11};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = "ok\n";
  return res;
}

Response Api::openapi(Call& c) {
  const StaticAsset* asset = find_static_asset("openapi.json");
  if (asset == nullptr) return error_response(Status::not_found, "not_found", "no such resource");
  return static_response(c.req, *asset, "application/json; charset=utf-8");
}

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
  auto res = json_response(Status::ok, {{"username", s->username},
                                        {"csrf_token", s->csrf_token},
                                        {"must_change_password", s->must_change_password}});
  res.set(http::field::set_cookie, session_cookie(id, false));
  return res;
}

// --- session

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

// --- metrics, site

Response Api::metrics(Call&) {
  const auto federation = live_.federation();
  if (!federation) return live_state_unavailable();
  const auto media = live_.media();
  if (!media) return live_state_unavailable();
  Response res{Status::ok, 11};
  res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  res.body() = live_.metrics() + federation_metrics(*federation);
  if (media->relay) res.body() += media_metrics(*media);
  return res;
}

Response Api::site(Call&) {
  json out = {{"domain", settings_.domain}, {"fingerprint", own_fingerprint_}, {"invite", settings_.invite}};
  if (auto cert = pki::Certificate::from_pem(settings_.certificate_pem)) {
    out["fingerprint_grouped"] = cert->fingerprint().to_grouped_string();
    out["certificate_not_before"] = iso8601(std::chrono::system_clock::to_time_t(cert->not_before()));
    out["certificate_not_after"] = iso8601(std::chrono::system_clock::to_time_t(cert->not_after()));
  }
  return json_response(Status::ok, out);
}

// Blocks the console thread for the probe (as an invite import does).
Response Api::site_address_check(Call&) {
  const auto check = check_own_address(settings_.probe, settings_.invite, own_fingerprint_);
  return json_response(Status::ok, {{"address", check.address},
                                    {"reaches_this_site", check.reaches_this_site},
                                    {"detail", check.detail}});
}

Response Api::site_certificate(Call&) {
  Response res{Status::ok, 11};
  res.set(http::field::content_type, "application/x-pem-file");
  res.set(http::field::content_disposition, "attachment; filename=\"" + settings_.domain + ".pem\"");
  res.body() = settings_.certificate_pem;
  return res;
}

Response Api::site_invite_svg(Call&) {
  auto svg = qr_svg(settings_.invite);
  if (!svg) return error_response(Status::internal_server_error, "internal_error", "the invite does not fit a QR code");
  Response res{Status::ok, 11};
  res.set(http::field::content_type, "image/svg+xml");
  res.body() = std::move(*svg);
  return res;
}

// --- peers


namespace {

// ?q= matches a domain (substring, any case) or a fingerprint prefix (with
// or without colons, any case); ?state= one state. Both optional.
struct PeerFilter {
  std::string q;       // lowercase
  std::string q_hex;   // q without colons, uppercase: a fingerprint prefix
  std::optional<store::PeerState> state;

  bool matches(const std::string& domain, const std::string& fingerprint) const {
    if (q.empty()) return true;
    if (pki::lowercase_domain(domain).find(q) != std::string::npos) return true;
    if (q_hex.empty()) return false;
    std::string hex;
    hex.reserve(64);
    for (char ch : fingerprint) {
      if (ch != ':') hex += ch;
      if (hex.size() >= q_hex.size()) break;
    }
    return hex == q_hex;
  }
};

std::optional<Response> read_peer_filter(const Target& target, PeerFilter& out, bool with_state) {
  if (auto it = target.query.find("q"); it != target.query.end()) {
    if (it->second.size() > 128) return error_response(Status::bad_request, "invalid_query", "q is too long");
    out.q = pki::lowercase_domain(it->second);
    bool hex = !out.q.empty();
    for (char ch : out.q) {
      if (ch == ':') continue;
      if (!std::isxdigit(static_cast<unsigned char>(ch))) hex = false;
      out.q_hex += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    }
    if (!hex) out.q_hex.clear();
  }
  if (!with_state) return std::nullopt;
  if (auto it = target.query.find("state"); it != target.query.end()) {
    auto state = store::peer_state_from_string(it->second);
    if (!state) {
      return error_response(Status::bad_request, "invalid_query", "state must be trusted, untrusted or revoked");
    }
    out.state = *state;
  }
  return std::nullopt;
}

}  // namespace

Response Api::list_peers(Call& c) {
  if (auto bad = c.read_page(settings_.max_page)) return *bad;
  PeerFilter filter;
  if (auto bad = read_peer_filter(c.target, filter, true)) return *bad;
  auto peers = store::PeerRepository(db_).list();
  if (!peers) return store_error(peers.error());
  // Counts by state over the whole table; the page over what matches.
  json counts = {{"all", peers->size()}, {"trusted", 0}, {"untrusted", 0}, {"revoked", 0}};
  std::vector<const store::PeerRecord*> matching;
  for (const auto& p : *peers) {
    counts[std::string(store::to_string(p.state))] = counts[std::string(store::to_string(p.state))].get<std::size_t>() + 1;
    if ((!filter.state || p.state == *filter.state) && filter.matches(p.domain, p.fingerprint)) matching.push_back(&p);
  }
  // One bounded wait at most: when the daemon's thread did not answer the
  // first question, it is not asked the second.
  const auto links = live_.peer_links();
  if (!links) return live_state_unavailable();
  const auto federation = live_.federation();
  if (!federation) return live_state_unavailable();
  // Indexed once, so that a page costs its rows, not rows x links.
  std::unordered_map<std::string, const FederationPeer*> federation_of;
  for (const auto& f : federation->peers) federation_of.emplace(f.fingerprint, &f);
  std::unordered_map<std::string, const PeerLinkStatus*> link_of;
  for (const auto& l : *links) link_of[l.fingerprint] = &l;
  json out = paginate(matching, c.page, [&](const store::PeerRecord* row_peer) {
    const store::PeerRecord& p = *row_peer;
    json row = peer_json(p, own_fingerprint_);
    row["links"] = json::array();
    row["calls"] = 0;
    if (const auto f = federation_of.find(p.fingerprint); f != federation_of.end()) {
      for (const auto& l : f->second->links) {
        row["links"].push_back({{"direction", l.direction},
                                {"remote", l.remote},
                                {"since", l.since ? iso8601(l.since) : ""},
                                {"canonical", l.canonical}});
      }
      row["calls"] = f->second->calls;
    }
    if (const auto it = link_of.find(p.fingerprint); it != link_of.end()) {
      const auto& l = *it->second;
      row["link"] = {{"state", l.state},
                     {"since", l.since ? iso8601(l.since) : ""},
                     {"last_seen", l.last_seen ? iso8601(l.last_seen) : ""},
                     {"rtt_ms", l.rtt_ms},
                     {"detail", l.detail}};
    }
    return row;
  });
  out["counts"] = std::move(counts);
  return json_response(Status::ok, out);
}

// Many peers at once (admin::SiteOperations::import_peers / revoke_peers):
// {"action": "import", "pem": BUNDLE, "trust": bool} or
// {"action": "revoke", "fingerprints": [...]}; all or none.
Response Api::bulk_peers(Call& c) {
  json body;
  if (auto bad = parse_body(c.req, {"action", "pem", "trust", "fingerprints"}, body)) return *bad;
  std::optional<std::string> action, pem;
  if (auto bad = string_field(body, "action", action)) return *bad;
  if (auto bad = string_field(body, "pem", pem)) return *bad;
  if (action == "import") {
    if (!pem || pem->empty()) return error_response(Status::bad_request, "missing_field", "'pem' holds the certificates");
    const auto trust = body.find("trust");
    if (trust != body.end() && !trust->is_boolean()) {
      return error_response(Status::bad_request, "invalid_field", "'trust' must be true or false");
    }
    auto certs = pki::parse_peer_certificates(*pem);
    if (!certs) return error_response(Status::bad_request, "bad_certificate", certs.error().message);
    auto peers = operations(c).import_peers(*certs, trust != body.end() && trust->get<bool>());
    if (!peers) return operation_error(peers.error());
    json items = json::array();
    for (const auto& p : *peers) items.push_back({{"domain", p.domain}, {"fingerprint", p.fingerprint}, {"state", store::to_string(p.state)}});
    return json_response(Status::created, {{"imported", peers->size()}, {"items", std::move(items)}});
  }
  if (action == "revoke") {
    const auto list = body.find("fingerprints");
    if (list == body.end() || !list->is_array() || list->empty()) {
      return error_response(Status::bad_request, "missing_field", "'fingerprints' must be a non-empty array");
    }
    if (list->size() > pki::kMaxBundleCertificates) {
      return error_response(Status::bad_request, "invalid_field", "too many fingerprints in one request");
    }
    std::vector<admin::PeerRef> refs;
    for (const auto& fp : *list) {
      if (!fp.is_string()) return error_response(Status::bad_request, "invalid_field", "each fingerprint must be a string");
      refs.push_back({fp.get<std::string>(), ""});
    }
    auto changes = operations(c).revoke_peers(refs);
    if (!changes) return operation_error(changes.error());
    std::size_t changed = 0;
    for (const auto& ch : *changes) changed += ch.changed ? 1 : 0;
    return json_response(Status::ok, {{"revoked", changed}, {"already_revoked", changes->size() - changed}});
  }
  return error_response(Status::bad_request, "invalid_field", "'action' must be \"import\" or \"revoke\"");
}

Response Api::get_peer(Call& c) {
  auto fp = pki::Fingerprint::parse(c.params.at("fingerprint"));
  if (!fp) return error_response(Status::bad_request, "bad_fingerprint", fp.error().message);
  auto peer = store::PeerRepository(db_).find_by_fingerprint(fp->to_string());
  if (!peer) return store_error(peer.error());
  if (!*peer) return error_response(Status::not_found, "not_found", "no peer with fingerprint " + fp->to_string());
  return json_response(Status::ok, peer_json(**peer, own_fingerprint_));
}

Response Api::import_peer(Call& c) {
  json body;
  if (auto bad = parse_body(c.req, {"pem", "invite", "address"}, body)) return *bad;
  std::optional<std::string> pem, invite_text, address_text;
  if (auto bad = string_field(body, "pem", pem)) return *bad;
  if (auto bad = string_field(body, "invite", invite_text)) return *bad;
  if (auto bad = string_field(body, "address", address_text)) return *bad;
  const bool has_pem = pem && !pem->empty();
  const bool has_invite = invite_text && !invite_text->empty();
  if (!has_pem && !has_invite) {
    return error_response(Status::bad_request, "missing_field",
                          "paste the other site's invite or its certificate (PEM)");
  }
  std::optional<pki::Invite> invite;
  if (has_invite) {
    auto parsed = pki::Invite::parse(*invite_text);
    if (!parsed) return error_response(Status::bad_request, "bad_invite", parsed.error().message);
    invite = std::move(*parsed);
  }
  std::optional<pki::Certificate> cert;
  if (has_pem) {
    if (pem->size() > 64 * 1024) return error_response(Status::bad_request, "bad_certificate", "not a certificate");
    auto parsed = pki::parse_peer_certificate(*pem);
    if (!parsed) return error_response(Status::bad_request, "bad_certificate", parsed.error().message);
    cert = std::move(*parsed);
  } else {
    if (invite->domain == settings_.domain) {
      return error_response(Status::bad_request, "own_domain", "this is this site's own invite");
    }
    if (!settings_.probe) {
      return error_response(Status::bad_request, "missing_field", "paste the other site's certificate (PEM) too");
    }
    // The certificate the site presents at the invite's address; the
    // import checks it against the invite (fingerprint, domain, dates).
    auto probed = settings_.probe(invite->address);
    if (!probed.certificate) return error_response(Status::bad_gateway, "site_unreachable", probed.error);
    cert = std::move(probed.certificate);
  }
  admin::PeerImport import{std::move(*cert), std::move(invite), address_text.value_or(""), false};
  auto peer = operations(c).import_peer(import);
  if (!peer) return operation_error(peer.error());
  return json_response(Status::created, peer_json(*peer, own_fingerprint_));
}

Response Api::trust_peer(Call& c) {
  json body;
  if (auto bad = parse_body(c.req, {"confirm_fingerprint", "address"}, body)) return *bad;
  const std::string& fingerprint = c.params.at("fingerprint");
  auto fp = pki::Fingerprint::parse(fingerprint);
  if (!fp) return error_response(Status::bad_request, "bad_fingerprint", fp.error().message);
  // The explicit verification step: the admin restates the fingerprint
  // they confirmed with the other site.
  std::string confirm;
  if (auto bad = required_string(body, "confirm_fingerprint", confirm)) return *bad;
  auto confirmed = pki::Fingerprint::parse(confirm);
  if (!confirmed || *confirmed != *fp) {
    return error_response(Status::bad_request, "fingerprint_not_confirmed",
                          "confirm_fingerprint must repeat the peer's fingerprint once verified out of band");
  }
  std::optional<std::string> address;
  if (auto bad = string_field(body, "address", address)) return *bad;
  auto change = operations(c).trust_peer({fingerprint, ""}, address.value_or(""));
  if (!change) return operation_error(change.error());
  return json_response(Status::ok, peer_json(change->peer, own_fingerprint_));
}

Response Api::revoke_peer(Call& c) {
  json body;
  if (auto bad = parse_body(c.req, {}, body, true)) return *bad;
  auto change = operations(c).revoke_peer({c.params.at("fingerprint"), ""});
  if (!change) return operation_error(change.error());
  return json_response(Status::ok, peer_json(change->peer, own_fingerprint_));
}

Response Api::remove_peer(Call& c) {
  auto removed = operations(c).remove_peer(c.params.at("fingerprint"));
  if (!removed) return operation_error(removed.error());
  return Response{Status::no_content, 11};
}

Response Api::list_pending(Call& c) {
  if (auto bad = c.read_page(settings_.max_page)) return *bad;
  PeerFilter filter;
  if (auto bad = read_peer_filter(c.target, filter, false)) return *bad;
  auto requests = store::PendingRepository(db_).list(false);
  if (!requests) return store_error(requests.error());
  std::vector<const store::PendingRequest*> matching;
  for (const auto& r : *requests) {
    if (filter.matches(r.claimed_domain, r.fingerprint)) matching.push_back(&r);
  }
  json out = paginate(matching, c.page, [&](const store::PendingRequest* r) { return pending_json(*r, own_fingerprint_); });
  out["counts"] = {{"all", requests->size()}};
  return json_response(Status::ok, out);
}

Response Api::ignore_pending(Call& c) {
  json body;
  if (auto bad = parse_body(c.req, {}, body, true)) return *bad;
  if (auto r = operations(c).ignore_pending(c.params.at("fingerprint")); !r) return operation_error(r.error());
  return Response{Status::no_content, 11};
}

// --- users

Response Api::list_users(Call& c) {
  if (auto bad = c.read_page(settings_.max_page)) return *bad;
  auto users = store::UserRepository(db_).list();
  if (!users) return store_error(users.error());
  return json_response(Status::ok, paginate(*users, c.page, [](const store::UserRecord& u) {
                         return json{{"aor", u.aor()},
                                     {"username", u.username},
                                     {"domain", u.domain},
                                     {"created_at", iso8601(u.created_at)}};
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

// --- call records, stored messages, retention settings

namespace {

// ?name= as Unix seconds (0 to 10^12), if present.
std::optional<Response> time_query(const Target& target, std::string_view name, std::optional<std::int64_t>& out) {
  const auto it = target.query.find(std::string(name));
  if (it == target.query.end()) return std::nullopt;
  const std::string_view v = it->second;
  std::int64_t t = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), t);
  if (v.empty() || v.size() > 12 || ec != std::errc() || p != v.data() + v.size() || t < 0) {
    return error_response(Status::bad_request, "invalid_query", std::string(name) + " must be Unix seconds");
  }
  out = t;
  return std::nullopt;
}

std::string query_text(const Target& target, std::string_view name) {
  const auto it = target.query.find(std::string(name));
  return it == target.query.end() ? std::string() : it->second;
}

json optional_time(const std::optional<std::int64_t>& t) { return t ? json(iso8601(*t)) : json(nullptr); }

json settings_json(const store::RetentionSettings& s) {
  return {{"cdr_days", s.cdr_days},
          {"signaling_log_days", s.signaling_log_days},
          {"message_days", s.message_days},
          {"audit_days", s.audit_days},
          {"pending_request_days", s.pending_request_days},
          {"keep_cdrs_on_user_delete", s.keep_cdrs_on_user_delete},
          {"store_ip", s.store_ip},
          {"signaling_log_enabled", s.signaling_log_enabled}};
}

}  // namespace

Response Api::list_cdrs(Call& c) {
  if (auto bad = c.read_page(settings_.max_page)) return *bad;
  store::CdrFilter filter;
  filter.aor = query_text(c.target, "aor");
  filter.peer_domain = query_text(c.target, "peer_domain");
  if (const auto d = query_text(c.target, "direction"); !d.empty()) {
    filter.direction = store::cdr_direction_from_string(d);
    if (!filter.direction) {
      return error_response(Status::bad_request, "invalid_query", "direction must be local, outgoing or incoming");
    }
  }
  if (auto bad = time_query(c.target, "since", filter.since)) return *bad;
  if (auto bad = time_query(c.target, "until", filter.until)) return *bad;
  auto settings = store::RetentionSettingsRepository(db_).load();
  if (!settings) return store_error(settings.error());
  auto page = store::CdrRepository(db_).list(filter, static_cast<std::int64_t>(c.page.offset),
                                              static_cast<std::int64_t>(c.page.limit));
  if (!page) return store_error(page.error());
  json items = json::array();
  for (const auto& r : page->items) {
    json item = {{"id", r.id},
                 {"caller", r.caller_aor},
                 {"callee", r.callee_aor},
                 {"direction", store::to_string(r.direction)},
                 {"peer_domain", r.peer_domain},
                 {"started_at", iso8601(r.started_at)},
                 {"answered_at", optional_time(r.answered_at)},
                 {"ended_at", optional_time(r.ended_at)},
                 {"duration_s", r.duration_s},
                 {"final_status", r.final_status},
                 {"end_reason", r.end_reason},
                 {"media",
                  {{"inter_site", r.media_inter_site}, {"lan", r.media_lan}, {"end_to_end", r.media_end_to_end}}}};
    if (r.source_ip) item["source_ip"] = *r.source_ip;
    items.push_back(std::move(item));
  }
  json out = page_json(std::move(items), static_cast<std::size_t>(page->total), c.page);
  out["retention_days"] = settings->cdr_days;
  return json_response(Status::ok, out);
}

Response Api::list_messages(Call& c) {
  if (auto bad = c.read_page(settings_.max_page)) return *bad;
  const std::string recipient = query_text(c.target, "recipient");
  auto settings = store::RetentionSettingsRepository(db_).load();
  if (!settings) return store_error(settings.error());
  store::MessageRepository messages(db_);
  auto total = messages.count(recipient);
  if (!total) return store_error(total.error());
  auto rows = messages.list(recipient, static_cast<std::int64_t>(c.page.offset),
                            static_cast<std::int64_t>(c.page.limit));
  if (!rows) return store_error(rows.error());
  // Metadata only: the console never shows a message's body.
  json items = json::array();
  for (const auto& m : *rows) {
    items.push_back({{"id", m.id},
                     {"recipient", m.recipient},
                     {"sender", m.sender_aor},
                     {"content_type", m.content_type},
                     {"size", m.size},
                     {"created_at", iso8601(m.created_at)},
                     {"expires_at", iso8601(m.created_at + settings->message_days * 86400)}});
  }
  json out = page_json(std::move(items), static_cast<std::size_t>(*total), c.page);
  out["retention_days"] = settings->message_days;
  return json_response(Status::ok, out);
}

Response Api::get_settings(Call&) {
  auto settings = store::RetentionSettingsRepository(db_).load();
  if (!settings) return store_error(settings.error());
  return json_response(Status::ok, settings_json(*settings));
}

Response Api::put_settings(Call& c) {
  json body;
  if (auto bad = parse_body(c.req,
                            {"cdr_days", "signaling_log_days", "message_days", "audit_days", "pending_request_days",
                             "keep_cdrs_on_user_delete", "store_ip", "signaling_log_enabled"},
                            body)) {
    return *bad;
  }
  store::RetentionSettingsRepository repo(db_);
  auto current = repo.load();
  if (!current) return store_error(current.error());
  store::RetentionSettings next = *current;
  const std::pair<std::string_view, std::int64_t store::RetentionSettings::*> days[] = {
      {"cdr_days", &store::RetentionSettings::cdr_days},
      {"signaling_log_days", &store::RetentionSettings::signaling_log_days},
      {"message_days", &store::RetentionSettings::message_days},
      {"audit_days", &store::RetentionSettings::audit_days},
      {"pending_request_days", &store::RetentionSettings::pending_request_days}};
  const std::pair<std::string_view, bool store::RetentionSettings::*> flags[] = {
      {"keep_cdrs_on_user_delete", &store::RetentionSettings::keep_cdrs_on_user_delete},
      {"store_ip", &store::RetentionSettings::store_ip},
      {"signaling_log_enabled", &store::RetentionSettings::signaling_log_enabled}};
  std::string changes;
  for (const auto& [name, member] : days) {
    const auto it = body.find(name);
    if (it == body.end()) continue;
    if (!it->is_number_integer()) {
      return error_response(Status::bad_request, "invalid_field", "'" + std::string(name) + "' must be a whole number");
    }
    next.*member = it->get<std::int64_t>();
    if (next.*member != (*current).*member) changes += (changes.empty() ? "" : " ") + std::string(name) + "=" + std::to_string(next.*member);
  }
  for (const auto& [name, member] : flags) {
    const auto it = body.find(name);
    if (it == body.end()) continue;
    if (!it->is_boolean()) {
      return error_response(Status::bad_request, "invalid_field", "'" + std::string(name) + "' must be true or false");
    }
    next.*member = it->get<bool>();
    if (next.*member != (*current).*member) {
      changes += (changes.empty() ? "" : " ") + std::string(name) + "=" + (next.*member ? "true" : "false");
    }
  }
  if (auto bad = store::validate(next)) return error_response(Status::bad_request, "invalid_field", *bad);
  if (!changes.empty()) {
    auto r = db_.transaction([&]() -> store::Result<void> {
      if (auto saved = repo.save(next); !saved) return saved;
      return store::AuditRepository(db_).append(c.actor, c.ctx.client, "settings.change", changes);
    });
    if (!r) return store_error(r.error());
  }
  return json_response(Status::ok, settings_json(next));
}

// --- API tokens

Response Api::list_tokens(Call&) {
  auto tokens = ApiTokens(db_).list();
  if (!tokens) return store_error(tokens.error());
  json items = json::array();
  for (const auto& t : *tokens) {
    items.push_back({{"id", t.id},
                     {"name", t.name},
                     {"created_by", t.created_by},
                     {"created_at", iso8601(t.created_at)},
                     {"last_used", t.last_used ? iso8601(t.last_used) : ""}});
  }
  const auto total = items.size();
  return json_response(Status::ok, {{"items", std::move(items)}, {"total", total}});
}

Response Api::create_token(Call& c) {
  json body;
  if (auto bad = parse_body(c.req, {"name"}, body)) return *bad;
  std::string name;
  if (auto bad = required_string(body, "name", name)) return *bad;
  if (name.empty() || name.size() > 64 ||
      !std::all_of(name.begin(), name.end(), [](unsigned char ch) { return std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.'; })) {
    return error_response(Status::bad_request, "bad_name", "a token name is 1-64 letters, digits or -_.");
  }
  std::string token;
  auto r = db_.transaction([&]() -> store::Result<void> {
    auto t = ApiTokens(db_).create(name, c.actor);
    if (!t) return t.error();
    token = std::move(*t);
    return store::AuditRepository(db_).append(c.actor, c.ctx.client, "token.create", name);
  });
  if (!r) return store_error(r.error());
  // The token is shown this once; only its hash is kept.
  return json_response(Status::created, {{"name", name}, {"token", token}});
}

Response Api::revoke_token(Call& c) {
  const auto id = parse_count(c.params.at("id"));
  if (!id) return error_response(Status::not_found, "not_found", "no such token");
  auto r = db_.transaction([&]() -> store::Result<void> {
    if (auto d = ApiTokens(db_).revoke(static_cast<std::int64_t>(*id)); !d) return d;
    return store::AuditRepository(db_).append(c.actor, c.ctx.client, "token.revoke", std::to_string(*id));
  });
  if (!r) return store_error(r.error());
  return Response{Status::no_content, 11};
}

// --- audit, registrations

Response Api::list_audit(Call& c) {
  if (auto bad = c.read_page(settings_.max_page)) return *bad;
  if (c.page.offset + c.page.limit > kMaxAuditWindow) {
    return error_response(Status::bad_request, "invalid_query",
                          "the console shows the newest " + std::to_string(kMaxAuditWindow) + " entries");
  }
  // One more than the page, to tell whether there is a next page.
  auto rows = store::AuditRepository(db_).recent(static_cast<int>(c.page.offset + c.page.limit + 1));
  if (!rows) return store_error(rows.error());
  json items = json::array();
  for (std::size_t i = c.page.offset; i < rows->size() && i < c.page.offset + c.page.limit; ++i) {
    const auto& e = (*rows)[i];
    items.push_back({{"id", e.id},
                     {"at", iso8601(e.at)},
                     {"actor", e.actor},
                     {"source", e.source},
                     {"action", e.action},
                     {"detail", e.detail}});
  }
  return json_response(Status::ok, {{"items", std::move(items)},
                                    {"offset", c.page.offset},
                                    {"limit", c.page.limit},
                                    {"has_more", rows->size() > c.page.offset + c.page.limit}});
}

Response Api::list_registrations(Call& c) {
  if (auto bad = c.read_page(settings_.max_page)) return *bad;
  const auto regs = live_.registrations();
  if (!regs) return live_state_unavailable();
  return json_response(Status::ok, paginate(*regs, c.page, [](const Registration& r) {
                         return json{{"aor", r.aor},
                                     {"contact", r.contact},
                                     {"transport", r.transport},
                                     {"source", r.source},
                                     {"expires_in", r.expires_in}};
                       }));
}

}  // namespace sipsite::webadmin

namespace sipsite::webadmin {

// Calls in progress with peer sites (the gateway's dialogs; local calls do
// not cross it), per trusted peer, with the gateway's counters; and the
// relay's calls (local ones too, when it anchors them).
Response Api::list_calls(Call&) {
  const auto federation = live_.federation();
  if (!federation) return live_state_unavailable();
  const auto media = live_.media();
  if (!media) return live_state_unavailable();
  json peers = json::array();
  std::int64_t total = 0;
  for (const auto& p : federation->peers) {
    total += p.calls;
    peers.push_back({{"domain", p.domain},
                     {"fingerprint", p.fingerprint},
                     {"calls", p.calls},
                     {"connected", !p.links.empty()}});
  }
  json relay = nullptr;
  if (media->relay) {
    const auto& p = media->protection;
    relay = {{"calls", media->calls},
             {"free_ports", media->free_ports},
             {"expired", media->expired},
             {"srtp",
              {{"sealed", p.sealed},
               {"opened", p.opened},
               {"auth_failed", p.auth_failed},
               {"replayed", p.replayed},
               {"unkeyed", p.unkeyed},
               {"foreign", p.foreign},
               {"refused_sdp", p.refused_sdp}}}};
  }
  json relayed = json::array();
  for (const auto& c : media->relayed) relayed.push_back(relayed_call_json(c));
  const auto& n = federation->counters;
  return json_response(Status::ok, {{"total", total},
                                    {"peers", std::move(peers)},
                                    {"counters",
                                     {{"sent", n.sent},
                                      {"received", n.received},
                                      {"refused", n.refused},
                                      {"rate_limited", n.rate_limited},
                                      {"revoked_calls", n.revoked_calls}}},
                                    {"relay", relay},
                                    {"media", std::move(relayed)}});
}

}  // namespace sipsite::webadmin
