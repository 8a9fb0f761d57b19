// libFuzzer target for the console's request handling: the raw bytes of an
// HTTP/1.1 request go through Beast's parser with the console's limits (as
// webadmin/src/console.cpp reads them), then Api::handle(), routing and JSON
// included, against a real encrypted database in a temporary directory.
//
// The first input byte chooses who asks: anonymous, a logged-in session with
// its CSRF token, the session without the token, or an API bearer token. The
// session and token are made once at start-up (one Argon2id login); requests
// that would end them (the /api/v1/session routes when authenticated) are
// skipped, and a revoked token is replaced.
//
// Invariants: every answer carries the security headers, is never a 500
// (a handler that threw), and a JSON answer is valid JSON. Any crash,
// sanitizer report or broken invariant (abort) is a bug.

#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/private_key.hpp>
#include <sipsite/store/admin_repository.hpp>
#include <sipsite/store/database.hpp>
#include <sipsite/webadmin/api.hpp>
#include <sipsite/webadmin/password.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unistd.h>

namespace {

using namespace sipsite;
using namespace sipsite::webadmin;
using json = nlohmann::json;

constexpr const char* kPassword = "fuzzing password, long enough";
void check(bool invariant) {
  if (!invariant) std::abort();
}

class FakeLive final : public LiveState {
 public:
  std::string metrics() override { return "sipsite_sip_requests_total 7\n"; }
  std::optional<std::vector<Registration>> registrations() override { return std::vector<Registration>{}; }
  std::optional<std::vector<PeerLinkStatus>> peer_links() override { return std::vector<PeerLinkStatus>{}; }
};

struct World {
  std::filesystem::path dir;
  std::optional<store::Database> db;
  FakeLive live;
  std::optional<Api> api;
  std::string cookie;
  std::string csrf;
  std::string token;
  int tokens_made = 0;

  World() {
    std::random_device rd;
    dir = std::filesystem::temp_directory_path() /
          ("sipsite-api-fuzz-" + std::to_string(rd()) + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    db.emplace(store::Database::open(dir / "s.db", store::DbKey::generate().value(), store::OpenMode::create).value());
    store::AdminRepository(*db).put({"admin", hash_password(kPassword).value(), false, 0}).value();
    ApiSettings s;
    s.domain = "alpha.example";
    const auto key = pki::PrivateKey::generate_p256().value();
    const auto cert =
        pki::Certificate::self_signed(key, pki::CertificateOptions::valid_for_days("alpha.example", 30)).value();
    s.certificate_pem = cert.to_pem();
    s.invite =
        "sipsite:invite?v=1&domain=alpha.example&address=alpha.example:5062&fp=" + cert.fingerprint().to_string();
    // A fixed clock: sessions never expire, the login limiter never resets.
    s.now = [] { return std::chrono::steady_clock::time_point(std::chrono::hours(1000)); };
    api.emplace(s, *db, live);

    auto r = send_json(http::verb::post, "/api/v1/session", json{{"username", "admin"}, {"password", kPassword}});
    check(r.result() == http::status::ok);
    const std::string set_cookie(r[http::field::set_cookie]);
    const auto start = set_cookie.find('=') + 1;
    cookie = set_cookie.substr(start, set_cookie.find(';') - start);
    csrf = json::parse(r.body())["csrf_token"];
    make_token();
  }
  ~World() {
    api.reset();
    db.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  Response send_json(http::verb method, std::string target, const json& body) {
    Request req{method, target, 11};
    if (!cookie.empty()) req.set(http::field::cookie, std::string(kSessionCookie) + "=" + cookie);
    if (!csrf.empty()) req.set("X-CSRF-Token", csrf);
    req.set(http::field::content_type, "application/json");
    req.body() = body.dump();
    req.prepare_payload();
    return api->handle(req, RequestContext{"192.0.2.1"});
  }

  void make_token() {
    auto r = send_json(http::verb::post, "/api/v1/tokens", json{{"name", "fuzz" + std::to_string(++tokens_made)}});
    check(r.result() == http::status::created);
    token = json::parse(r.body())["token"];
  }
};

World& world() {
  static World w;
  return w;
}

bool is_session_route(const Request& req) {
  const auto target = parse_target(req.target());
  return target && target->path.starts_with("/api/v1/session");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  World& w = world();
  const std::uint8_t mode = data[0] & 3;

  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(data + 1, size - 1), ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) return 0;
  Request req = parser.release();

  if (mode == 1 || mode == 2) {
    if (is_session_route(req)) return -1;
    req.set(http::field::cookie, std::string(kSessionCookie) + "=" + w.cookie);
    if (mode == 1) req.set("X-CSRF-Token", w.csrf);
  } else if (mode == 3) {
    if (is_session_route(req)) return -1;
    req.set(http::field::authorization, "Bearer " + w.token);
  }

  const std::string client = (data[0] & 4) ? "2001:db8::1" : "192.0.2.7";
  const Response res = w.api->handle(req, RequestContext{client});

  check(res.result() != http::status::internal_server_error);
  check(res["X-Content-Type-Options"] == "nosniff");
  check(!res["Content-Security-Policy"].empty());
  if (res[http::field::content_type].starts_with("application/json")) {
    check(json::accept(res.body()));
  }
  // A revoked token (the fuzzer may revoke ours) is replaced.
  if (req.method() == http::verb::delete_ && req.target().find("tokens") != std::string_view::npos &&
      res.result_int() < 300) {
    w.make_token();
  }
  return 0;
}
