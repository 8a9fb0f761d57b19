// The console's request handling without sockets: Api::handle() fed
// requests directly, a real (temporary) encrypted database, a fake clock and
// a fake LiveState.

#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/private_key.hpp>
#include <sipsite/store/admin_repository.hpp>
#include <sipsite/store/audit_repository.hpp>
#include <sipsite/store/cdr_repository.hpp>
#include <sipsite/store/message_repository.hpp>
#include <sipsite/store/retention_settings.hpp>
#include <sipsite/store/peer_repository.hpp>
#include <sipsite/store/user_repository.hpp>
#include <sipsite/webadmin/api.hpp>
#include <sipsite/webadmin/password.hpp>

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <regex>
#include <set>

namespace sipsite::webadmin {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using test::TempDir;

constexpr const char* kOneTime = "abcde-fghij-kmnop-qrstu";
constexpr const char* kNewPassword = "a much longer new password";

class FakeLive final : public LiveState {
 public:
  std::string metrics() override { return "sipsite_sip_requests_total 7\n"; }
  std::optional<std::vector<Registration>> registrations() override {
    if (!answers) return std::nullopt;
    return regs;
  }
  std::optional<std::vector<PeerLinkStatus>> peer_links() override {
    if (!answers) return std::nullopt;
    return links;
  }
  std::optional<FederationState> federation() override {
    if (!answers) return std::nullopt;
    return fed;
  }
  std::optional<MediaState> media() override {
    if (!answers) return std::nullopt;
    return relay;
  }
  std::optional<UnknownCertificates> unknown_certificates() override {
    if (!answers) return std::nullopt;
    return unknown;
  }
  std::vector<PeerLinkStatus> links;
  UnknownCertificates unknown;
  std::vector<Registration> regs;
  FederationState fed;
  MediaState relay;
  bool answers = true;  // false: as if the daemon's thread did not answer in time
};

pki::Certificate make_cert(const std::string& domain) {
  auto key = pki::PrivateKey::generate_p256().value();
  return pki::Certificate::self_signed(key, pki::CertificateOptions::valid_for_days(domain, 30)).value();
}

class ApiTest : public ::testing::Test {
 protected:
  ApiTest()
      : db_(store::Database::open(dir_ / "s.db", store::DbKey::generate().value(), store::OpenMode::create).value()),
        cert_(make_cert("alpha.example")) {
    store::AdminRepository(db_).put({"admin", hash_password(kOneTime).value(), true, 0}).value();
    ApiSettings s;
    s.domain = "alpha.example";
    s.certificate_pem = cert_.to_pem();
    s.invite =
        "sipsite:invite?v=1&domain=alpha.example&address=alpha.example:5062&fp=" + cert_.fingerprint().to_string();
    s.login = LoginLimits{5, 10, 15min, 15min, 100};
    s.now = [this] { return now_; };
    api_.emplace(s, db_, live_);
  }

  Response send(http::verb method, std::string target, std::string body = "", bool with_csrf = true,
                std::string content_type = "application/json") {
    Request req{method, target, 11};
    if (!cookie_.empty()) req.set(http::field::cookie, std::string(kSessionCookie) + "=" + cookie_);
    if (with_csrf && !csrf_.empty()) req.set("X-CSRF-Token", csrf_);
    if (!body.empty()) req.set(http::field::content_type, content_type);
    req.body() = std::move(body);
    req.prepare_payload();
    return api_->handle(req, RequestContext{client_});
  }
  Response get(std::string target) { return send(http::verb::get, std::move(target)); }
  Response post(std::string target, const json& body) { return send(http::verb::post, std::move(target), body.dump()); }

  static json body(const Response& r) { return json::parse(r.body()); }
  static std::string code(const Response& r) { return body(r)["error"]["code"]; }

  Response login(const std::string& password) {
    auto r = post("/api/v1/session", {{"username", "admin"}, {"password", password}});
    if (r.result() == http::status::ok) {
      const std::string set_cookie(r[http::field::set_cookie]);
      const auto start = set_cookie.find('=') + 1;
      cookie_ = set_cookie.substr(start, set_cookie.find(';') - start);
      csrf_ = body(r)["csrf_token"];
    }
    return r;
  }
  void login_and_change() {
    ASSERT_EQ(login(kOneTime).result(), http::status::ok);
    auto r =
        send(http::verb::put, "/api/v1/session/password", json{{"current", kOneTime}, {"new", kNewPassword}}.dump());
    ASSERT_EQ(r.result(), http::status::ok) << r.body();
  }

  TempDir dir_;
  store::Database db_;
  pki::Certificate cert_;
  FakeLive live_;
  std::chrono::steady_clock::time_point now_{std::chrono::hours(1000)};
  std::string client_ = "192.0.2.1";
  std::string cookie_;
  std::string csrf_;
  std::optional<Api> api_;
};

TEST_F(ApiTest, HealthzNeedsNoSessionAndEveryAnswerCarriesTheSecurityHeaders) {
  auto r = get("/healthz");
  EXPECT_EQ(r.result(), http::status::ok);
  EXPECT_EQ(r.body(), "ok\n");
  for (const auto& res : {r, get("/"), get("/nope"), get("/api/v1/site")}) {
    EXPECT_NE(res["Content-Security-Policy"].find("default-src 'self'"), std::string::npos);
    EXPECT_EQ(res["X-Frame-Options"], "DENY");
    EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");
    EXPECT_EQ(res["Referrer-Policy"], "no-referrer");
    EXPECT_FALSE(res["Strict-Transport-Security"].empty());
  }
}

TEST_F(ApiTest, StaticUiIsServedWithoutInlineScript) {
  auto r = get("/");
  EXPECT_EQ(r.result(), http::status::ok);
  EXPECT_TRUE(r[http::field::content_type].starts_with("text/html"));
  EXPECT_EQ(r.body().find("<script>"), std::string::npos);
  EXPECT_EQ(get("/app.js").result(), http::status::ok);
  EXPECT_EQ(get("/style.css").result(), http::status::ok);
}

TEST_F(ApiTest, UnknownRouteIs404AndWrongMethodIs405) {
  auto r = get("/api/v1/nothing");
  EXPECT_EQ(r.result(), http::status::not_found);
  EXPECT_EQ(code(r), "not_found");
  r = send(http::verb::patch, "/api/v1/site");
  EXPECT_EQ(r.result(), http::status::method_not_allowed);
  EXPECT_EQ(r[http::field::allow], "GET");
}

TEST_F(ApiTest, EveryApiRouteButLoginNeedsASession) {
  for (const auto& [method, pattern] : api_->routes()) {
    if (!pattern.starts_with("/api/") && pattern != "/metrics") continue;
    if (pattern == "/api/v1/openapi.json" || (pattern == "/api/v1/session" && method == http::verb::post)) continue;
    std::string target = pattern;
    for (auto p = target.find('{'); p != std::string::npos; p = target.find('{')) {
      target.replace(p, target.find('}') - p + 1, "x");
    }
    auto r = send(method, target, "{}");
    EXPECT_EQ(r.result(), http::status::unauthorized) << pattern;
  }
}

TEST_F(ApiTest, LoginSetsAStrictCookieAndForcesThePasswordChange) {
  auto r = login(kOneTime);
  ASSERT_EQ(r.result(), http::status::ok);
  const std::string set_cookie(r[http::field::set_cookie]);
  EXPECT_TRUE(set_cookie.starts_with("__Host-sipsite_session="));
  for (const char* attr : {"Secure", "HttpOnly", "SameSite=Strict", "Path=/"}) {
    EXPECT_NE(set_cookie.find(attr), std::string::npos) << attr;
  }
  EXPECT_EQ(body(r)["must_change_password"], true);
  EXPECT_EQ(cookie_.size(), 43u);

  r = get("/api/v1/site");
  EXPECT_EQ(r.result(), http::status::forbidden);
  EXPECT_EQ(code(r), "password_change_required");
  EXPECT_EQ(get("/api/v1/session").result(), http::status::ok);

  r = send(http::verb::put, "/api/v1/session/password", json{{"current", kOneTime}, {"new", "short"}}.dump());
  EXPECT_EQ(r.result(), http::status::bad_request);
  EXPECT_EQ(code(r), "weak_password");
  r = send(http::verb::put, "/api/v1/session/password", json{{"current", "wrong"}, {"new", kNewPassword}}.dump());
  EXPECT_EQ(r.result(), http::status::forbidden);
  EXPECT_EQ(code(r), "wrong_password");
  r = send(http::verb::put, "/api/v1/session/password", json{{"current", kOneTime}, {"new", kNewPassword}}.dump());
  ASSERT_EQ(r.result(), http::status::ok);
  EXPECT_EQ(get("/api/v1/site").result(), http::status::ok);

  auto admin = store::AdminRepository(db_).find("admin").value();
  EXPECT_FALSE(admin->must_change);
  EXPECT_TRUE(verify_password(admin->password_hash, kNewPassword));
}

TEST_F(ApiTest, StateChangesNeedTheCsrfToken) {
  login_and_change();
  const json user = {{"aor", "alice@alpha.example"}, {"password", "alice-password"}};
  auto r = send(http::verb::post, "/api/v1/users", user.dump(), false);
  EXPECT_EQ(r.result(), http::status::forbidden);
  EXPECT_EQ(code(r), "csrf_failed");
  const auto good = csrf_;
  csrf_ = good.substr(0, 42) + (good.back() == 'A' ? "B" : "A");
  EXPECT_EQ(code(send(http::verb::post, "/api/v1/users", user.dump())), "csrf_failed");
  csrf_ = good;
  EXPECT_EQ(send(http::verb::post, "/api/v1/users", user.dump()).result(), http::status::created);
  EXPECT_EQ(send(http::verb::delete_, "/api/v1/session", "", false).result(), http::status::forbidden);
}

TEST_F(ApiTest, BadBodiesAreClear4xx) {
  login_and_change();
  auto r = send(http::verb::post, "/api/v1/users", "{not json");
  EXPECT_EQ(r.result(), http::status::bad_request);
  EXPECT_EQ(code(r), "bad_json");
  EXPECT_EQ(code(send(http::verb::post, "/api/v1/users", "[1,2]")), "bad_json");
  r = send(http::verb::post, "/api/v1/users", R"({"aor":"bob","password":"bob-password","admin":true})");
  EXPECT_EQ(code(r), "unknown_field");
  r = send(http::verb::post, "/api/v1/users", R"({"aor":"bob"})", true, "text/plain");
  EXPECT_EQ(r.result(), http::status::unsupported_media_type);
  EXPECT_EQ(code(send(http::verb::post, "/api/v1/users", R"({"aor":5})")), "invalid_field");
  EXPECT_EQ(code(send(http::verb::post, "/api/v1/users", R"({})")), "missing_field");
  EXPECT_EQ(code(post("/api/v1/session", {{"username", "admin"}})), "missing_field");
}

TEST_F(ApiTest, FailedLoginsAreAuditedAndRateLimited) {
  for (int i = 0; i < 5; ++i) {
    auto r = login("wrong password");
    EXPECT_EQ(r.result(), http::status::unauthorized);
    EXPECT_EQ(code(r), "invalid_credentials");
  }
  auto r = login(kOneTime);  // right password, but locked out
  EXPECT_EQ(r.result(), http::status::too_many_requests);
  EXPECT_EQ(r[http::field::retry_after], "900");
  client_ = "192.0.2.2";
  EXPECT_EQ(login(kOneTime).result(), http::status::ok);  // another source; the user limit is 10
  auto audit = store::AuditRepository(db_).recent(20).value();
  int failures = 0;
  for (const auto& e : audit) failures += e.action == "login.failure" ? 1 : 0;
  EXPECT_EQ(failures, 5);
  EXPECT_EQ(audit.front().action, "login.success");
  EXPECT_EQ(audit.front().source, "192.0.2.2");
}

TEST_F(ApiTest, UnknownUsersFailLikeWrongPasswords) {
  auto r = post("/api/v1/session", {{"username", "root"}, {"password", "x"}});
  EXPECT_EQ(r.result(), http::status::unauthorized);
  EXPECT_EQ(code(r), "invalid_credentials");
}

TEST_F(ApiTest, SessionsExpireWhenIdleAndLoginRotatesThem) {
  login_and_change();
  const auto first = cookie_;
  now_ += 29min;
  EXPECT_EQ(get("/api/v1/site").result(), http::status::ok);
  now_ += 31min;
  EXPECT_EQ(get("/api/v1/site").result(), http::status::unauthorized);
  ASSERT_EQ(login(kNewPassword).result(), http::status::ok);
  EXPECT_NE(cookie_, first);
  EXPECT_FALSE(body(get("/api/v1/session"))["must_change_password"]);
  ASSERT_EQ(send(http::verb::delete_, "/api/v1/session").result(), http::status::no_content);
  EXPECT_EQ(get("/api/v1/site").result(), http::status::unauthorized);
}

TEST_F(ApiTest, SiteShowsIdentityAndInviteButNoSecret) {
  login_and_change();
  auto r = get("/api/v1/site");
  auto b = body(r);
  EXPECT_EQ(b["domain"], "alpha.example");
  EXPECT_EQ(b["fingerprint"], cert_.fingerprint().to_string());
  EXPECT_EQ(b["fingerprint_grouped"], cert_.fingerprint().to_grouped_string());
  EXPECT_TRUE(b["invite"].get<std::string>().starts_with("sipsite:invite?"));
  EXPECT_EQ(r.body().find("PRIVATE KEY"), std::string::npos);
  r = get("/api/v1/site/certificate");
  EXPECT_EQ(r.body(), cert_.to_pem());
  EXPECT_NE(std::string(r[http::field::content_disposition]).find("alpha.example.pem"), std::string::npos);
  r = get("/api/v1/site/invite.svg");
  EXPECT_EQ(r[http::field::content_type], "image/svg+xml");
  EXPECT_NE(r.body().find("<svg"), std::string::npos);
}

TEST_F(ApiTest, UsersAddListPaginateAndDelete) {
  login_and_change();
  for (const char* name : {"alice", "bob", "carol"}) {
    auto r = post("/api/v1/users", {{"aor", std::string(name) + "@alpha.example"}, {"password", "a-good-password"}});
    ASSERT_EQ(r.result(), http::status::created) << r.body();
    EXPECT_FALSE(body(r).contains("password"));  // a typed password is never echoed
  }
  auto r = post("/api/v1/users", {{"aor", "dave"}});  // bare name, generated password
  ASSERT_EQ(r.result(), http::status::created);
  EXPECT_EQ(body(r)["aor"], "dave@alpha.example");
  EXPECT_EQ(body(r)["password"].get<std::string>().size(), 23u);
  EXPECT_EQ(code(post("/api/v1/users", {{"aor", "alice@alpha.example"}, {"password", "a-good-password"}})), "conflict");
  EXPECT_EQ(code(post("/api/v1/users", {{"aor", "eve@beta.example"}, {"password", "a-good-password"}})), "bad_aor");
  EXPECT_EQ(code(post("/api/v1/users", {{"aor", "eve"}, {"password", "short"}})), "bad_password");

  r = get("/api/v1/users?offset=1&limit=2");
  auto b = body(r);
  EXPECT_EQ(b["total"], 4);
  ASSERT_EQ(b["items"].size(), 2u);
  EXPECT_EQ(b["items"][0]["aor"], "bob@alpha.example");
  EXPECT_EQ(r.body().find("ha1"), std::string::npos);
  EXPECT_EQ(code(get("/api/v1/users?limit=0")), "invalid_query");
  EXPECT_EQ(code(get("/api/v1/users?limit=501")), "invalid_query");
  EXPECT_EQ(code(get("/api/v1/users?offset=-1")), "invalid_query");

  EXPECT_EQ(send(http::verb::delete_, "/api/v1/users/bob%40alpha.example").result(), http::status::no_content);
  EXPECT_EQ(send(http::verb::delete_, "/api/v1/users/bob%40alpha.example").result(), http::status::not_found);
  EXPECT_FALSE(store::UserRepository(db_).find("bob", "alpha.example").value());
  EXPECT_TRUE(store::UserRepository(db_).find("alice", "alpha.example").value());
}

TEST_F(ApiTest, PeersImportThenTrustOnlyWithTheConfirmedFingerprintThenRevoke) {
  login_and_change();
  const auto beta = make_cert("beta.example");
  const std::string fp = beta.fingerprint().to_string();
  auto r = post("/api/v1/peers", {{"pem", beta.to_pem()}, {"address", "127.0.0.1:5062"}});
  ASSERT_EQ(r.result(), http::status::created) << r.body();
  EXPECT_EQ(body(r)["state"], "untrusted");
  EXPECT_EQ(body(r)["fingerprint"], fp);
  EXPECT_EQ(body(r)["pairing_code"].get<std::string>().size(), 14u);
  EXPECT_EQ(code(post("/api/v1/peers", {{"pem", beta.to_pem()}})), "conflict");
  EXPECT_EQ(code(post("/api/v1/peers", {{"pem", cert_.to_pem()}})), "own_certificate");
  EXPECT_EQ(code(post("/api/v1/peers", {{"pem", "garbage"}})), "bad_certificate");

  const std::string path = "/api/v1/peers/" + fp;
  EXPECT_EQ(code(send(http::verb::post, path + "/trust", "")), "unsupported_media_type");
  EXPECT_EQ(code(post(path + "/trust", json::object())), "missing_field");
  EXPECT_EQ(code(post(path + "/trust", {{"confirm_fingerprint", cert_.fingerprint().to_string()}})),
            "fingerprint_not_confirmed");
  r = post(path + "/trust", {{"confirm_fingerprint", fp}});
  ASSERT_EQ(r.result(), http::status::ok) << r.body();
  EXPECT_EQ(body(r)["state"], "trusted");
  EXPECT_EQ(store::PeerRepository(db_).find_by_fingerprint(fp).value()->state, store::PeerState::trusted);

  r = send(http::verb::post, path + "/revoke", "");
  ASSERT_EQ(r.result(), http::status::ok) << r.body();
  EXPECT_EQ(body(r)["state"], "revoked");
  EXPECT_EQ(get("/api/v1/peers").result(), http::status::ok);
  EXPECT_EQ(body(get("/api/v1/peers"))["items"][0]["state"], "revoked");
  EXPECT_EQ(get("/api/v1/peers/" + make_cert("gamma.example").fingerprint().to_string()).result(),
            http::status::not_found);
  EXPECT_EQ(code(get("/api/v1/peers/nonsense")), "bad_fingerprint");
}

TEST_F(ApiTest, ImportChecksTheCertificateAgainstTheInvite) {
  login_and_change();
  const auto beta = make_cert("beta.example");
  const auto other = make_cert("beta.example");
  const std::string invite =
      "sipsite:invite?v=1&domain=beta.example&address=198.51.100.2:5062&fp=" + beta.fingerprint().to_string();
  EXPECT_EQ(code(post("/api/v1/peers", {{"pem", other.to_pem()}, {"invite", invite}})), "fingerprint_mismatch");
  auto r = post("/api/v1/peers", {{"pem", beta.to_pem()}, {"invite", invite}});
  ASSERT_EQ(r.result(), http::status::created) << r.body();
  EXPECT_EQ(body(r)["address"], "198.51.100.2:5062");
}

TEST_F(ApiTest, AuditAndRegistrationsArePaginated) {
  login_and_change();
  live_.regs = {{"alice@alpha.example", "sip:alice@192.0.2.9:5060", "UDP", "192.0.2.9:5060", 300},
                {"bob@alpha.example", "sip:bob@192.0.2.10:5060", "TCP", "192.0.2.10:40000", 60}};
  auto b = body(get("/api/v1/registrations?limit=1&offset=1"));
  EXPECT_EQ(b["total"], 2);
  EXPECT_EQ(b["items"][0]["aor"], "bob@alpha.example");
  b = body(get("/api/v1/audit?limit=1"));
  ASSERT_EQ(b["items"].size(), 1u);
  EXPECT_EQ(b["items"][0]["action"], "admin.password_change");
  EXPECT_EQ(b["has_more"], true);
  EXPECT_EQ(code(get("/api/v1/audit?offset=9999&limit=2")), "invalid_query");
}

TEST_F(ApiTest, NetworkSettingsShowWhereEachValueComesFromAndMapErrors) {
  ApiSettings s;
  s.domain = "alpha.example";
  s.certificate_pem = cert_.to_pem();
  s.now = [this] { return now_; };
  s.network.running = {{"media.ports", {"40000-40999"}}, {"sip.udp", {"127.0.0.1:5060"}}};
  s.network.file_keys = {"sip.udp"};
  // A daemon whose file sets sip.udp: a stored value applies to the others.
  s.network.next_start = [](const std::vector<admin::NetworkSetting>& stored) {
    NetworkContext::Values v{{"media.ports", {"40000-40999"}}, {"sip.udp", {"127.0.0.1:5060"}}};
    for (const auto& st : stored) {
      if (st.value && st.key != "sip.udp") v[st.key] = *st.value;
    }
    return v;
  };
  api_.emplace(s, db_, live_);
  const std::string path = "/api/v1/settings/network";
  EXPECT_EQ(get(path).result(), http::status::unauthorized);
  login_and_change();
  const auto item = [](const json& view, std::string_view key) {
    for (const auto& i : view["items"]) {
      if (i["key"] == key) return i;
    }
    return json();
  };
  auto r = get(path);
  ASSERT_EQ(r.result(), http::status::ok) << r.body();
  EXPECT_EQ(body(r)["items"].size(), admin::network_keys().size());
  EXPECT_EQ(item(body(r), "sip.udp")["source"], "file");
  EXPECT_EQ(item(body(r), "sip.udp")["editable"], false);
  EXPECT_EQ(item(body(r), "media.ports")["source"], "default");
  EXPECT_EQ(item(body(r), "media.ports")["restart_needed"], false);
  EXPECT_EQ(body(r)["restart_needed"], false);

  const auto put = [&](const json& b) { return send(http::verb::put, path, b.dump()); };
  EXPECT_EQ(code(put({{"sip.udp", json::array({"0.0.0.0:5060"})}})), "set_in_config_file");
  EXPECT_EQ(put({{"sip.udp", nullptr}}).result(), http::status::conflict);
  EXPECT_EQ(code(put({{"media.ports", 41000}})), "invalid_field");
  EXPECT_EQ(code(put({{"media.ports", json::array({"41000-41099"})}})), "invalid_field");
  EXPECT_EQ(code(put({{"sip.aliases", "pbx.alpha.example"}})), "invalid_field");
  EXPECT_EQ(code(put({{"sip.aliases", json::array({1})}})), "invalid_field");
  r = put({{"media.ports", "41001-41099"}});
  EXPECT_EQ(r.result(), http::status::bad_request);
  EXPECT_EQ(code(r), "invalid_field");
  EXPECT_TRUE(body(r)["error"]["message"].get<std::string>().starts_with("media.ports: ")) << r.body();
  EXPECT_EQ(code(put({{"admin.listen", "0.0.0.0:8443"}})), "unknown_field");
  EXPECT_EQ(code(send(http::verb::put, path, "not json")), "bad_json");
  EXPECT_EQ(item(body(get(path)), "media.ports")["source"], "default");  // nothing stored by a refusal

  r = put({{"media.ports", "41000-41099"}});
  ASSERT_EQ(r.result(), http::status::ok) << r.body();
  EXPECT_EQ(body(r)["restart_needed"], true);
  EXPECT_EQ(item(body(r), "media.ports")["value"], json::array({"41000-41099"}));
  EXPECT_EQ(item(body(r), "media.ports")["running"], json::array({"40000-40999"}));
  EXPECT_EQ(item(body(r), "media.ports")["source"], "stored");
  EXPECT_EQ(item(body(r), "media.ports")["restart_needed"], true);
}

TEST_F(ApiTest, MetricsNeedASessionAndComeFromTheLiveState) {
  EXPECT_EQ(get("/metrics").result(), http::status::unauthorized);
  login_and_change();
  auto r = get("/metrics");
  EXPECT_EQ(r.result(), http::status::ok);
  EXPECT_TRUE(r.body().starts_with("sipsite_sip_requests_total 7\n")) << r.body();
  EXPECT_TRUE(r[http::field::content_type].starts_with("text/plain; version=0.0.4"));
}

TEST_F(ApiTest, BearerTokensServeScriptsAndAreStoredHashed) {
  login_and_change();
  auto r = post("/api/v1/tokens", {{"name", "prometheus"}});
  ASSERT_EQ(r.result(), http::status::created) << r.body();
  const std::string token = body(r)["token"];
  EXPECT_TRUE(token.starts_with("sst_"));
  EXPECT_EQ(code(post("/api/v1/tokens", {{"name", "prometheus"}})), "conflict");
  EXPECT_EQ(code(post("/api/v1/tokens", {{"name", "bad name!"}})), "bad_name");
  auto listed = get("/api/v1/tokens");
  EXPECT_EQ(body(listed)["items"][0]["name"], "prometheus");
  EXPECT_EQ(listed.body().find(token), std::string::npos);
  auto rows = store::collect_rows(db_.query("SELECT token_hash FROM api_tokens"),
                                  [](const store::Statement& st) { return st.text(0); });
  ASSERT_EQ(rows.value().size(), 1u);
  EXPECT_EQ(rows.value()[0].find(token.substr(4)), std::string::npos);

  const auto with_bearer = [&](http::verb v, std::string target, std::string b, std::string t) {
    Request req{v, target, 11};
    req.set(http::field::authorization, "Bearer " + t);
    if (!b.empty()) req.set(http::field::content_type, "application/json");
    req.body() = std::move(b);
    req.prepare_payload();
    return api_->handle(req, RequestContext{client_});
  };
  EXPECT_EQ(with_bearer(http::verb::get, "/metrics", "", token).result(), http::status::ok);
  // No CSRF header with a token; the audit names the token.
  r = with_bearer(http::verb::post, "/api/v1/users", R"({"aor":"script","password":"script-password"})", token);
  EXPECT_EQ(r.result(), http::status::created) << r.body();
  EXPECT_EQ(store::AuditRepository(db_).recent(1).value()[0].actor, "token:prometheus");
  EXPECT_EQ(code(with_bearer(http::verb::get, "/api/v1/tokens", "", token)), "session_required");
  EXPECT_EQ(code(with_bearer(http::verb::get, "/api/v1/users", "", token + "x")), "invalid_token");
  EXPECT_EQ(code(with_bearer(http::verb::get, "/api/v1/users", "", "nonsense")), "invalid_token");

  const auto id = body(get("/api/v1/tokens"))["items"][0]["id"].get<std::int64_t>();
  EXPECT_EQ(send(http::verb::delete_, "/api/v1/tokens/" + std::to_string(id)).result(), http::status::no_content);
  EXPECT_EQ(with_bearer(http::verb::get, "/metrics", "", token).result(), http::status::unauthorized);
  EXPECT_EQ(send(http::verb::delete_, "/api/v1/tokens/" + std::to_string(id)).result(), http::status::not_found);
}

// The OpenAPI description and the router list the same (method, path) pairs.
TEST_F(ApiTest, OpenApiDescribesExactlyTheRoutes) {
  auto r = get("/api/v1/openapi.json");
  ASSERT_EQ(r.result(), http::status::ok);
  const auto spec = body(r);
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& [path, item] : spec["paths"].items()) {
    for (const auto& [method, op] : item.items()) documented.emplace(method, path);
  }
  std::set<std::pair<std::string, std::string>> routed;
  for (const auto& [method, pattern] : api_->routes()) {
    if (!pattern.starts_with("/api/") && pattern != "/healthz" && pattern != "/metrics") continue;  // UI files
    std::string m(http::to_string(method));
    std::transform(m.begin(), m.end(), m.begin(), [](unsigned char ch) { return std::tolower(ch); });
    routed.emplace(m, pattern);
  }
  EXPECT_EQ(documented, routed);
}

// --- call records, stored messages, retention settings (issue 7)

TEST_F(ApiTest, CdrsArePaginatedFilteredAndShowTheRetentionWindow) {
  login_and_change();
  store::CdrRepository cdrs(db_);
  for (int i = 0; i < 3; ++i) {
    cdrs.start({"ref" + std::to_string(i), "alice@alpha.example", "bob@alpha.example", store::CdrDirection::local, "",
                1'700'000'000 + i, "10.1.2.3"})
        .value();
  }
  const auto out = cdrs.start({"ref-out", "alice@alpha.example", "carol@beta.example", store::CdrDirection::outgoing,
                               "beta.example", 1'700'000'100, std::nullopt})
                       .value();
  cdrs.answered(out, 1'700'000'105).value();
  cdrs.ended(out, 1'700'000'165, 200, "callee hung up").value();

  auto r = get("/api/v1/cdrs?limit=2");
  ASSERT_EQ(r.result(), http::status::ok) << r.body();
  auto b = body(r);
  EXPECT_EQ(b["total"], 4);
  EXPECT_EQ(b["retention_days"], 180);
  ASSERT_EQ(b["items"].size(), 2u);
  const auto& first = b["items"][0];
  EXPECT_EQ(first["callee"], "carol@beta.example");
  EXPECT_EQ(first["direction"], "outgoing");
  EXPECT_EQ(first["peer_domain"], "beta.example");
  EXPECT_EQ(first["duration_s"], 60);
  EXPECT_EQ(first["final_status"], 200);
  EXPECT_EQ(first["end_reason"], "callee hung up");
  EXPECT_TRUE(first["started_at"].is_string());
  EXPECT_TRUE(b["items"][1]["answered_at"].is_null());
  EXPECT_EQ(r.body().find("10.1.2.3"), std::string::npos);  // store_ip is off by default
  EXPECT_FALSE(b["items"][1].contains("source_ip"));

  EXPECT_EQ(body(get("/api/v1/cdrs?direction=outgoing"))["total"], 1);
  EXPECT_EQ(body(get("/api/v1/cdrs?aor=bob%40alpha.example"))["total"], 3);
  EXPECT_EQ(body(get("/api/v1/cdrs?since=1700000001&until=1700000100"))["total"], 2);
  EXPECT_EQ(code(get("/api/v1/cdrs?direction=sideways")), "invalid_query");
  EXPECT_EQ(code(get("/api/v1/cdrs?since=yesterday")), "invalid_query");
  EXPECT_EQ(code(get("/api/v1/cdrs?limit=501")), "invalid_query");
}

TEST_F(ApiTest, StoredMessagesShowMetadataButNeverTheBody) {
  login_and_change();
  store::MessageRepository messages(db_);
  messages.store({"alice", "bob@alpha.example", "text/plain", "the secret body text", 1'700'000'000}).value();
  messages.store({"carol", "bob@alpha.example", "text/plain", "another secret", 1'700'000'001}).value();
  auto r = get("/api/v1/messages");
  ASSERT_EQ(r.result(), http::status::ok) << r.body();
  auto b = body(r);
  EXPECT_EQ(b["total"], 2);
  EXPECT_EQ(b["retention_days"], 30);
  ASSERT_EQ(b["items"].size(), 2u);
  EXPECT_EQ(b["items"][0]["recipient"], "carol");
  EXPECT_EQ(b["items"][1]["sender"], "bob@alpha.example");
  EXPECT_EQ(b["items"][1]["size"], 20);
  EXPECT_EQ(b["items"][1]["expires_at"], pki::iso8601(1'700'000'000 + 30 * 86400));
  EXPECT_EQ(r.body().find("secret"), std::string::npos);
  EXPECT_EQ(body(get("/api/v1/messages?recipient=alice"))["total"], 1);
}

TEST_F(ApiTest, SettingsAreReadValidatedChangedAndAudited) {
  login_and_change();
  auto r = get("/api/v1/settings");
  ASSERT_EQ(r.result(), http::status::ok);
  EXPECT_EQ(body(r), (json{{"cdr_days", 180},
                           {"signaling_log_days", 30},
                           {"message_days", 30},
                           {"audit_days", 365},
                           {"pending_request_days", 7},
                           {"keep_cdrs_on_user_delete", false},
                           {"store_ip", false},
                           {"signaling_log_enabled", false}}));
  const auto put = [&](const json& b) { return send(http::verb::put, "/api/v1/settings", b.dump()); };
  r = put({{"cdr_days", 90}, {"store_ip", true}});
  ASSERT_EQ(r.result(), http::status::ok) << r.body();
  EXPECT_EQ(body(r)["cdr_days"], 90);
  EXPECT_EQ(body(r)["message_days"], 30);
  const auto stored = store::RetentionSettingsRepository(db_).load().value();
  EXPECT_EQ(stored.cdr_days, 90);
  EXPECT_TRUE(stored.store_ip);
  const auto audit = store::AuditRepository(db_).recent(1).value().at(0);
  EXPECT_EQ(audit.action, "settings.change");
  EXPECT_EQ(audit.actor, "admin");
  EXPECT_EQ(audit.source, client_);
  EXPECT_EQ(audit.detail, "cdr_days=90 store_ip=true");

  EXPECT_EQ(code(put({{"cdr_days", 0}})), "invalid_field");
  EXPECT_EQ(code(put({{"audit_days", 3651}})), "invalid_field");
  EXPECT_EQ(code(put({{"cdr_days", "90"}})), "invalid_field");
  EXPECT_EQ(code(put({{"cdr_days", 1.5}})), "invalid_field");
  EXPECT_EQ(code(put({{"store_ip", "yes"}})), "invalid_field");
  EXPECT_EQ(code(put({{"vacuum", true}})), "unknown_field");
  EXPECT_EQ(code(send(http::verb::put, "/api/v1/settings", "{", true)), "bad_json");
  EXPECT_EQ(code(send(http::verb::put, "/api/v1/settings", json{{"cdr_days", 5}}.dump(), false)), "csrf_failed");
  EXPECT_EQ(store::RetentionSettingsRepository(db_).load().value(), stored);  // nothing refused was kept
}

TEST_F(ApiTest, DeletingAUserRemovesTheirMessagesAndCallRecords) {
  login_and_change();
  ASSERT_EQ(post("/api/v1/users", {{"aor", "alice"}, {"password", "a-good-password"}}).result(), http::status::created);
  store::MessageRepository(db_).store({"alice", "bob@alpha.example", "text/plain", "hello", 1'700'000'000}).value();
  store::CdrRepository(db_)
      .start({"r", "bob@alpha.example", "alice@alpha.example", store::CdrDirection::local, "", 1'700'000'000, {}})
      .value();
  ASSERT_EQ(send(http::verb::delete_, "/api/v1/users/alice%40alpha.example").result(), http::status::no_content);
  EXPECT_EQ(body(get("/api/v1/messages"))["total"], 0);
  EXPECT_EQ(body(get("/api/v1/cdrs"))["total"], 0);
  const auto audit = store::AuditRepository(db_).recent(1).value().at(0);
  EXPECT_EQ(audit.action, "user.del");
  EXPECT_EQ(audit.source, client_);
}

// The front end of the admin operations: the mapping of each new operation
// to HTTP status and error code (the operations themselves are tested in
// tests/unit/admin).

TEST_F(ApiTest, UserPasswordChangeIsAPutWithCsrfAndKeepsTheUser) {
  login_and_change();
  ASSERT_EQ(post("/api/v1/users", {{"aor", "alice"}, {"password", "a-good-password"}}).result(), http::status::created);
  const auto before = store::UserRepository(db_).find("alice", "alpha.example").value().value();
  const std::string path = "/api/v1/users/alice%40alpha.example/password";
  const auto put = [&](const json& b, bool csrf = true) { return send(http::verb::put, path, b.dump(), csrf); };
  EXPECT_EQ(code(put({{"password", "another-good-one"}}, false)), "csrf_failed");
  auto r = put({{"password", "another-good-one"}});
  ASSERT_EQ(r.result(), http::status::no_content) << r.body();
  const auto after = store::UserRepository(db_).find("alice", "alpha.example").value().value();
  EXPECT_NE(after.ha1_sha256, before.ha1_sha256);
  EXPECT_EQ(after.created_at, before.created_at);
  const auto audit = store::AuditRepository(db_).recent(1).value().at(0);
  EXPECT_EQ(audit.action, "user.password_change");
  EXPECT_EQ(audit.actor, "admin");
  EXPECT_EQ(audit.source, client_);
  EXPECT_EQ(audit.detail.find("another-good-one"), std::string::npos);

  r = put({{"password", "short"}});
  EXPECT_EQ(r.result(), http::status::bad_request);
  EXPECT_EQ(code(r), "bad_password");
  r = send(http::verb::put, "/api/v1/users/ghost%40alpha.example/password", json{{"password", "long-enough"}}.dump());
  EXPECT_EQ(r.result(), http::status::not_found);
  EXPECT_EQ(code(r), "not_found");
  EXPECT_EQ(code(send(http::verb::put, "/api/v1/users/nobody/password", json{{"password", "long-enough"}}.dump())),
            "bad_aor");
  EXPECT_EQ(code(put(json::object())), "missing_field");
  EXPECT_EQ(code(put({{"password", "long-enough"}, {"aor", "x"}})), "unknown_field");
}

TEST_F(ApiTest, OnlyARevokedPeerIsRemovedAndATrustedOneIsAConflict) {
  login_and_change();
  const auto beta = make_cert("beta.example");
  const std::string fp = beta.fingerprint().to_string();
  const std::string path = "/api/v1/peers/" + fp;
  ASSERT_EQ(post("/api/v1/peers", {{"pem", beta.to_pem()}}).result(), http::status::created);
  ASSERT_EQ(post(path + "/trust", {{"confirm_fingerprint", fp}}).result(), http::status::ok);

  EXPECT_EQ(code(send(http::verb::delete_, path, "", false)), "csrf_failed");
  auto r = send(http::verb::delete_, path);
  EXPECT_EQ(r.result(), http::status::conflict);
  EXPECT_EQ(code(r), "peer_trusted");
  ASSERT_TRUE(store::PeerRepository(db_).find_by_fingerprint(fp).value());

  ASSERT_EQ(send(http::verb::post, path + "/revoke", "").result(), http::status::ok);
  EXPECT_EQ(send(http::verb::delete_, path).result(), http::status::no_content);
  EXPECT_FALSE(store::PeerRepository(db_).find_by_fingerprint(fp).value());
  const auto audit = store::AuditRepository(db_).recent(1).value().at(0);
  EXPECT_EQ(audit.action, "peer.remove");
  EXPECT_EQ(audit.source, client_);
  r = send(http::verb::delete_, path);
  EXPECT_EQ(r.result(), http::status::not_found);
  EXPECT_EQ(code(r), "not_found");
  EXPECT_EQ(code(send(http::verb::delete_, "/api/v1/peers/nonsense")), "bad_fingerprint");
}

TEST_F(ApiTest, RevokingAPeersKeyFromBeforeItsRotationRevokesThePeerAsTheCliDoes) {
  login_and_change();
  const auto old_key = make_cert("beta.example");
  const auto new_key = make_cert("beta.example");
  const std::string old_fp = old_key.fingerprint().to_string();
  ASSERT_EQ(post("/api/v1/peers", {{"pem", old_key.to_pem()}}).result(), http::status::created);
  ASSERT_EQ(post("/api/v1/peers/" + old_fp + "/trust", {{"confirm_fingerprint", old_fp}}).result(), http::status::ok);
  ASSERT_TRUE(store::PeerRepository(db_).apply_rotation(old_fp, new_key.fingerprint().to_string(), new_key.to_pem(),
                                                        4'000'000'000));
  auto r = send(http::verb::post, "/api/v1/peers/" + old_fp + "/revoke", "");
  ASSERT_EQ(r.result(), http::status::ok) << r.body();
  EXPECT_EQ(body(r)["state"], "revoked");
  EXPECT_EQ(body(r)["fingerprint"], new_key.fingerprint().to_string());
}

// --- live calls and links across sites, compressed static files

TEST_F(ApiTest, PeersShowTheirLiveLinksAndCalls) {
  login_and_change();
  const auto beta = make_cert("beta.example");
  const auto gamma = make_cert("gamma.example");
  ASSERT_EQ(post("/api/v1/peers", {{"pem", beta.to_pem()}, {"address", "127.0.0.1:5062"}}).result(),
            http::status::created);
  ASSERT_EQ(post("/api/v1/peers", {{"pem", gamma.to_pem()}}).result(), http::status::created);
  live_.fed.peers = {{beta.fingerprint().to_string(),
                      "beta.example",
                      {{"outbound", "127.0.0.1:5062", 1700000000, true}, {"inbound", "[::1]:41000", 1700000100, false}},
                      2}};
  const auto b = body(get("/api/v1/peers"));
  ASSERT_EQ(b["items"].size(), 2u);
  for (const auto& p : b["items"]) {
    if (p["domain"] == "beta.example") {
      EXPECT_EQ(p["calls"], 2);
      ASSERT_EQ(p["links"].size(), 2u);
      EXPECT_EQ(p["links"][0], (json{{"direction", "outbound"},
                                     {"remote", "127.0.0.1:5062"},
                                     {"since", "2023-11-14T22:13:20Z"},
                                     {"canonical", true}}));
      EXPECT_EQ(p["links"][1]["direction"], "inbound");
      EXPECT_EQ(p["links"][1]["canonical"], false);
    } else {
      EXPECT_EQ(p["calls"], 0);
      EXPECT_EQ(p["links"], json::array());
    }
  }
}

TEST_F(ApiTest, LiveCallsPerPeerWithTheGatewayCounters) {
  login_and_change();
  live_.fed.counters = {11, 12, 3, 4, 1};
  live_.fed.peers = {{"AA", "beta.example", {{"inbound", "192.0.2.7:5062", 1, true}}, 2},
                     {"BB", "gamma.example", {}, 0}};
  const auto b = body(get("/api/v1/calls"));
  EXPECT_EQ(b["total"], 2);
  ASSERT_EQ(b["peers"].size(), 2u);
  EXPECT_EQ(b["peers"][0],
            (json{{"domain", "beta.example"}, {"fingerprint", "AA"}, {"calls", 2}, {"connected", true}}));
  EXPECT_EQ(b["peers"][1]["connected"], false);
  EXPECT_EQ(b["counters"],
            (json{{"sent", 11}, {"received", 12}, {"refused", 3}, {"rate_limited", 4}, {"revoked_calls", 1}}));
}

TEST_F(ApiTest, MetricsCarryTheFederationCountersAndPerPeerGauges) {
  login_and_change();
  live_.fed.counters = {11, 12, 3, 4, 1};
  live_.fed.peers = {{"AA", "beta.example", {{"inbound", "192.0.2.7:5062", 1, true}}, 2}, {"BB", "we\"ird\\", {}, 0}};
  const std::string m = get("/metrics").body();
  for (const char* line :
       {"sipsite_federation_messages_total{direction=\"sent\"} 11\n",
        "sipsite_federation_messages_total{direction=\"received\"} 12\n", "sipsite_federation_refused_total 3\n",
        "sipsite_federation_rate_limited_total 4\n", "sipsite_federation_revoked_calls_total 1\n",
        "sipsite_federation_calls{peer=\"beta.example\"} 2\n", "sipsite_federation_links{peer=\"beta.example\"} 1\n",
        "sipsite_federation_calls{peer=\"we\\\"ird\\\\\"} 0\n", "# TYPE sipsite_federation_calls gauge\n",
        "# TYPE sipsite_federation_messages_total counter\n"}) {
    EXPECT_NE(m.find(line), std::string::npos) << line << " in\n" << m;
  }
}

// One relayed call with an audio stream that carried RTP both ways (loss
// measured one way only) and a video stream nobody sent on yet.
MediaState one_relayed_call() {
  MediaState m;
  m.relay = true;
  m.calls = 1;
  m.free_ports = 996;
  m.expired = 3;
  m.protection = {500, 480, 2, 1, 4, 5, 6};
  RelayedCall c;
  c.id = media_call_id("alice-call-1234@192.0.2.10");
  c.age_s = 42;
  c.idle_s = 1;
  c.protection = {true, "none", false};
  c.streams.push_back({"audio",
                       false,
                       {40000, true, 2, 0, 0, 0},
                       {40002, true, 3, 1, 2, 1},
                       {50, 8600, 0.02},
                       {48, 8256, std::nullopt}});
  c.streams.push_back({"video", true, {40004, false, 0, 0}, {40006, false, 0, 0}, {}, {}});
  m.relayed.push_back(c);
  return m;
}

TEST(MediaCallId, IsTheFirst12HexDigitsOfTheSha256OfTheKey) {
  // printf 'abc' | sha256sum: ba7816bf8f01cfea414140de5dae2223...
  EXPECT_EQ(media_call_id("abc"), "ba7816bf8f01");
  EXPECT_EQ(media_call_id(""), "e3b0c44298fc");
  EXPECT_NE(media_call_id("a@b"), media_call_id("a@c"));
}

TEST_F(ApiTest, LiveCallsShowTheRelayedMediaWithoutAddressesOrCallIds) {
  login_and_change();
  live_.fed.peers = {{"AA", "beta.example", {{"inbound", "192.0.2.7:5062", 1, true}}, 1}};
  live_.relay = one_relayed_call();
  const auto r = get("/api/v1/calls");
  ASSERT_EQ(r.result(), http::status::ok);
  const auto b = body(r);
  EXPECT_EQ(b["relay"], (json{{"calls", 1},
                              {"free_ports", 996},
                              {"expired", 3},
                              {"srtp",
                               {{"sealed", 500},
                                {"opened", 480},
                                {"auth_failed", 2},
                                {"replayed", 1},
                                {"unkeyed", 4},
                                {"foreign", 5},
                                {"refused_sdp", 6}}}}));
  ASSERT_EQ(b["media"].size(), 1u);
  const auto& call = b["media"][0];
  EXPECT_EQ(call["id"], media_call_id("alice-call-1234@192.0.2.10"));
  EXPECT_EQ(call["id"].get<std::string>().size(), 12u);
  EXPECT_EQ(call["scope"], "edge");
  EXPECT_EQ(call["age_s"], 42);
  EXPECT_EQ(call["idle_s"], 1);
  // Who could hear it: both sites (plain phones), never the path between them.
  EXPECT_EQ(call["protection"], (json{{"inter_site", "srtp"},
                                      {"lan", "plain"},
                                      {"end_to_end", "none"},
                                      {"readable_by", {"this site", "the peer site"}}}));
  ASSERT_EQ(call["streams"].size(), 2u);
  const auto& audio = call["streams"][0];
  EXPECT_EQ(audio["media"], "audio");
  EXPECT_EQ(audio["rtcp_mux"], false);
  EXPECT_EQ(
      audio["lan"],
      (json{
          {"port", 40000}, {"latched", true}, {"dropped", 2}, {"relatches", 0}, {"auth_failed", 0}, {"replayed", 0}}));
  EXPECT_EQ(
      audio["peer"],
      (json{
          {"port", 40002}, {"latched", true}, {"dropped", 3}, {"relatches", 1}, {"auth_failed", 2}, {"replayed", 1}}));
  EXPECT_EQ(audio["lan_to_peer"]["packets"], 50);
  EXPECT_EQ(audio["lan_to_peer"]["bytes"], 8600);
  EXPECT_DOUBLE_EQ(audio["lan_to_peer"]["loss"].get<double>(), 0.02);
  EXPECT_EQ(audio["peer_to_lan"], (json{{"packets", 48}, {"bytes", 8256}, {"loss", nullptr}}));
  const auto& video = call["streams"][1];
  EXPECT_EQ(video["media"], "video");
  EXPECT_EQ(video["rtcp_mux"], true);
  EXPECT_EQ(video["lan"]["latched"], false);
  EXPECT_EQ(video["lan_to_peer"], (json{{"packets", 0}, {"bytes", 0}, {"loss", nullptr}}));

  // Nothing that looks like an IP address in the media part, and never the Call-ID.
  const std::string media_text = b["media"].dump() + b["relay"].dump();
  EXPECT_EQ(media_text.find("192.0.2"), std::string::npos) << media_text;
  EXPECT_EQ(media_text.find("alice-call"), std::string::npos) << media_text;
  const std::regex ipv4(R"(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})");
  EXPECT_FALSE(std::regex_search(media_text, ipv4)) << media_text;
  const std::string whole = r.body();  // the peers' links (with their addresses) are not in /calls either
  EXPECT_EQ(whole.find("alice-call"), std::string::npos);
  EXPECT_FALSE(std::regex_search(whole, ipv4)) << whole;
}

TEST_F(ApiTest, LiveCallsSayWhichRelayedCallsAreLocal) {
  login_and_change();
  live_.relay = one_relayed_call();
  live_.relay.relayed[0].scope = "local";
  const auto b = body(get("/api/v1/calls"));
  ASSERT_EQ(b["media"].size(), 1u);
  EXPECT_EQ(b["media"][0]["scope"], "local");
  EXPECT_EQ(b["media"][0]["streams"][0]["lan_to_peer"]["packets"], 50);
}

TEST_F(ApiTest, LiveCallsWithoutARelayHaveNoneAndSayItIsNotRunning) {
  login_and_change();
  const auto b = body(get("/api/v1/calls"));
  EXPECT_TRUE(b["relay"].is_null());
  EXPECT_EQ(b["media"], json::array());
  EXPECT_EQ(get("/metrics").body().find("sipsite_media_"), std::string::npos);
}

TEST_F(ApiTest, MetricsCarryTheRelayTotalsAndPacketsPerDirection) {
  login_and_change();
  live_.relay = one_relayed_call();
  const std::string m = get("/metrics").body();
  for (const char* line :
       {"sipsite_media_calls 1\n", "sipsite_media_free_ports 996\n",
        "sipsite_media_live_packets{direction=\"lan_to_peer\"} 50\n",
        "sipsite_media_live_packets{direction=\"peer_to_lan\"} 48\n", "# TYPE sipsite_media_calls gauge\n",
        "# TYPE sipsite_media_free_ports gauge\n", "sipsite_media_srtp_packets_total{result=\"sealed\"} 500\n",
        "sipsite_media_srtp_packets_total{result=\"opened\"} 480\n",
        "sipsite_media_srtp_packets_total{result=\"auth_failed\"} 2\n",
        "sipsite_media_srtp_packets_total{result=\"replayed\"} 1\n",
        "sipsite_media_srtp_packets_total{result=\"unkeyed\"} 4\n",
        "sipsite_media_srtp_packets_total{result=\"foreign\"} 5\n", "# TYPE sipsite_media_srtp_packets_total counter\n",
        "sipsite_media_unprotected_refused_total 6\n", "sipsite_media_end_to_end_calls 0\n"}) {
    EXPECT_NE(m.find(line), std::string::npos) << line << " in\n" << m;
  }
}

TEST_F(ApiTest, EndToEndCallsShowThatNoSiteCouldHearThem) {
  login_and_change();
  live_.relay = one_relayed_call();
  live_.relay.relayed[0].protection = {true, "zrtp", true};
  const auto b = body(get("/api/v1/calls"));
  EXPECT_EQ(b["media"][0]["protection"],
            (json{{"inter_site", "srtp"}, {"lan", "srtp"}, {"end_to_end", "zrtp"}, {"readable_by", json::array()}}));
  EXPECT_NE(get("/metrics").body().find("sipsite_media_end_to_end_calls 1\n"), std::string::npos);
}

TEST_F(ApiTest, PendingListSaysWhatBecameOfEveryRefusedHandshakeAndMetricsCountThem) {
  login_and_change();
  live_.unknown = {1796280000, 1000, 30, 2, 1, 967, 5};
  const auto b = body(get("/api/v1/peers/pending"));
  EXPECT_EQ(b["since_start"], (json{{"since", 1796280000},
                                    {"handshakes", 1000},
                                    {"new_requests", 30},
                                    {"repeats", 2},
                                    {"ignored", 1},
                                    {"not_recorded", 967},
                                    {"dropped", 5}}));
  const std::string m = get("/metrics").body();
  for (const char* line : {"sipsite_federation_unknown_handshakes_total{outcome=\"new_request\"} 30\n",
                           "sipsite_federation_unknown_handshakes_total{outcome=\"repeat\"} 2\n",
                           "sipsite_federation_unknown_handshakes_total{outcome=\"ignored\"} 1\n",
                           "sipsite_federation_unknown_handshakes_total{outcome=\"not_recorded\"} 967\n",
                           "sipsite_federation_pending_dropped_total 5\n"}) {
    EXPECT_NE(m.find(line), std::string::npos) << line;
  }
  // The list does not depend on the daemon's thread: without its answer,
  // the requests are listed and the count left out.
  live_.answers = false;
  const auto r = get("/api/v1/peers/pending");
  EXPECT_EQ(r.result(), http::status::ok);
  EXPECT_FALSE(body(r).contains("since_start"));
}

TEST_F(ApiTest, LiveStateNotAnsweringIsAClear503NotAnEmptyList) {
  login_and_change();
  live_.answers = false;
  for (const char* path : {"/api/v1/registrations", "/api/v1/peers", "/api/v1/calls", "/metrics"}) {
    const auto r = get(path);
    EXPECT_EQ(r.result(), http::status::service_unavailable) << path;
    EXPECT_EQ(code(r), "live_state_unavailable") << path;
    EXPECT_EQ(r[http::field::retry_after], "1") << path;
  }
  // What does not need the daemon's thread still answers.
  EXPECT_EQ(get("/api/v1/users").result(), http::status::ok);
  live_.answers = true;
  EXPECT_EQ(get("/api/v1/registrations").result(), http::status::ok);
}

TEST_F(ApiTest, StaticFilesAndOpenApiAreGzippedWhenAcceptedAndRevalidatedWith304) {
  for (const char* path : {"/", "/app.js", "/style.css", "/api/v1/openapi.json"}) {
    Request req{http::verb::get, path, 11};
    req.set(http::field::accept_encoding, "gzip, deflate, br");
    const Response gz = api_->handle(req, RequestContext{client_});
    ASSERT_EQ(gz.result(), http::status::ok) << path;
    EXPECT_EQ(gz[http::field::content_encoding], "gzip") << path;
    EXPECT_EQ(gz[http::field::vary], "Accept-Encoding") << path;
    EXPECT_EQ(gz.body().substr(0, 2), "\x1f\x8b") << path;
    EXPECT_EQ(gz[http::field::content_length], std::to_string(gz.body().size())) << path;
    const std::string etag(gz[http::field::etag]);
    ASSERT_FALSE(etag.empty()) << path;

    req.set(http::field::if_none_match, etag);
    const Response not_modified = api_->handle(req, RequestContext{client_});
    EXPECT_EQ(not_modified.result(), http::status::not_modified) << path;
    EXPECT_TRUE(not_modified.body().empty()) << path;
    EXPECT_EQ(not_modified.find(http::field::content_length), not_modified.end()) << path;
    EXPECT_EQ(not_modified[http::field::etag], etag) << path;
    EXPECT_FALSE(not_modified["Content-Security-Policy"].empty()) << path;

    const Response plain = get(path);
    EXPECT_EQ(plain.result(), http::status::ok) << path;
    EXPECT_EQ(plain.find(http::field::content_encoding), plain.end()) << path;
    EXPECT_NE(plain[http::field::etag], etag) << path;
    EXPECT_GT(plain.body().size(), gz.body().size()) << path;
  }
}

}  // namespace
}  // namespace sipsite::webadmin
