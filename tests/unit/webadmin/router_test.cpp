#include <sipsite/webadmin/http.hpp>
#include <sipsite/webadmin/router.hpp>

#include <gtest/gtest.h>

namespace sipsite::webadmin {
namespace {

using Kind = Router<int>::Match::Kind;

Router<int> table() {
  Router<int> r;
  r.add(http::verb::get, "/api/v1/peers", 1);
  r.add(http::verb::post, "/api/v1/peers", 2);
  r.add(http::verb::post, "/api/v1/peers/{fingerprint}/trust", 3);
  r.add(http::verb::delete_, "/api/v1/users/{aor}", 4);
  r.add(http::verb::get, "/", 5);
  return r;
}

TEST(Router, FindsTheRouteForMethodAndPath) {
  const auto r = table();
  auto m = r.match(http::verb::post, "/api/v1/peers");
  ASSERT_EQ(m.kind, Kind::found);
  EXPECT_EQ(m.route->handler, 2);
  m = r.match(http::verb::get, "/");
  ASSERT_EQ(m.kind, Kind::found);
  EXPECT_EQ(m.route->handler, 5);
}

TEST(Router, DecodesParameters) {
  const auto r = table();
  auto m = r.match(http::verb::delete_, "/api/v1/users/alice%40alpha.example");
  ASSERT_EQ(m.kind, Kind::found);
  EXPECT_EQ(m.params.at("aor"), "alice@alpha.example");
  m = r.match(http::verb::post, "/api/v1/peers/AB:CD/trust");
  ASSERT_EQ(m.kind, Kind::found);
  EXPECT_EQ(m.params.at("fingerprint"), "AB:CD");
}

TEST(Router, WrongMethodIs405WithTheAllowedOnes) {
  const auto r = table();
  auto m = r.match(http::verb::put, "/api/v1/peers");
  ASSERT_EQ(m.kind, Kind::method_not_allowed);
  EXPECT_EQ(m.allowed.size(), 2u);
}

TEST(Router, UnknownPathsAndEmptyOrBadParametersAreNotFound) {
  const auto r = table();
  EXPECT_EQ(r.match(http::verb::get, "/api/v1/nope").kind, Kind::not_found);
  EXPECT_EQ(r.match(http::verb::get, "/api/v1/peers/").kind, Kind::not_found);
  EXPECT_EQ(r.match(http::verb::delete_, "/api/v1/users/").kind, Kind::not_found);
  EXPECT_EQ(r.match(http::verb::get, "/api/v1/peers/x/y/z").kind, Kind::not_found);
  EXPECT_EQ(r.match(http::verb::delete_, "/api/v1/users/%zz").kind, Kind::bad_path);
  EXPECT_EQ(r.match(http::verb::delete_, "/api/v1/users/a%00b").kind, Kind::bad_path);
}

TEST(Target, SplitsPathAndQuery) {
  auto t = parse_target("/api/v1/users?offset=10&limit=5&x=a%20b+c&flag");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/api/v1/users");
  EXPECT_EQ(t->query.at("offset"), "10");
  EXPECT_EQ(t->query.at("limit"), "5");
  EXPECT_EQ(t->query.at("x"), "a b c");
  EXPECT_EQ(t->query.at("flag"), "");
  EXPECT_FALSE(parse_target("http://evil.example/"));
  EXPECT_FALSE(parse_target(""));
  EXPECT_FALSE(parse_target("/a?b=%4"));
}

TEST(PercentDecode, RejectsTruncatedAndNulEscapes) {
  EXPECT_EQ(percent_decode("a%41").value(), "aA");
  EXPECT_FALSE(percent_decode("%"));
  EXPECT_FALSE(percent_decode("%4"));
  EXPECT_FALSE(percent_decode("%g0"));
  EXPECT_FALSE(percent_decode("%00"));
}

TEST(SecurityHeaders, AreAllSet) {
  Response res{http::status::ok, 11};
  add_security_headers(res);
  EXPECT_EQ(res["Content-Security-Policy"], kContentSecurityPolicy);
  EXPECT_NE(res["Content-Security-Policy"].find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(res["X-Frame-Options"], "DENY");
  EXPECT_EQ(res["Referrer-Policy"], "no-referrer");
  EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");
  EXPECT_TRUE(res["Strict-Transport-Security"].starts_with("max-age="));
  EXPECT_EQ(res[http::field::cache_control], "no-store");
}

}  // namespace
}  // namespace sipsite::webadmin
