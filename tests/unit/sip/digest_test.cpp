#include "sipsite/sip/auth/digest.hpp"
#include "sipsite/sip/auth/digest_authenticator.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sipsite::sip {
namespace {

// RFC 7616 §3.9.1: the same request under MD5 and SHA-256.
constexpr std::string_view kNonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
constexpr std::string_view kCnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
constexpr std::string_view kRealm = "http-auth@example.org";

std::string rfc7616_response(DigestAlgorithm a) {
  const std::string ha1 = digest_ha1(a, "Mufasa", kRealm, "Circle of Life");
  return digest_response({a, ha1, kNonce, kCnonce, "00000001", std::string_view("auth"), "GET", "/dir/index.html"});
}

TEST(DigestCompute, Rfc7616Md5Vector) {
  EXPECT_EQ(rfc7616_response(DigestAlgorithm::md5), "8ca523f5e9506fed4657c9700eebdbec");
}

TEST(DigestCompute, Rfc7616Sha256Vector) {
  EXPECT_EQ(rfc7616_response(DigestAlgorithm::sha256),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

TEST(DigestCompute, Rfc2617Vector) {
  const std::string ha1 = digest_ha1(DigestAlgorithm::md5, "Mufasa", "testrealm@host.com", "Circle Of Life");
  EXPECT_EQ(digest_response({DigestAlgorithm::md5, ha1, "dcd98b7102dd2f0e8b11d0f600bfb0c093", "0a4f113b", "00000001",
                             std::string_view("auth"), "GET", "/dir/index.html"}),
            "6629fae49393a05397450978507c4ef1");
}

TEST(DigestCompute, Rfc2069FormAndSessDiffer) {
  // RFC 2069 §2.4's example, password "CircleOfLife" (the response as
  // corrected by the RFC's erratum).
  const std::string ha1_2069 = digest_ha1(DigestAlgorithm::md5, "Mufasa", "testrealm@host.com", "CircleOfLife");
  EXPECT_EQ(digest_response({DigestAlgorithm::md5, ha1_2069, "dcd98b7102dd2f0e8b11d0f600bfb0c093", "", "", std::nullopt,
                             "GET", "/dir/index.html"}),
            "1949323746fe6a43ef61f9606e7febea");
  const std::string ha1 = digest_ha1(DigestAlgorithm::md5, "Mufasa", "testrealm@host.com", "Circle Of Life");
  const DigestResponseInput base{DigestAlgorithm::md5,     ha1,        "n",    "c", "00000001",
                                 std::string_view("auth"), "REGISTER", "sip:a"};
  DigestResponseInput sess = base;
  sess.algorithm = DigestAlgorithm::md5_sess;
  EXPECT_NE(digest_response(base), digest_response(sess));
  EXPECT_EQ(digest_response(sess).size(), 32U);
  sess.algorithm = DigestAlgorithm::sha256_sess;
  EXPECT_EQ(digest_response(sess).size(), 64U);
}

TEST(DigestCompute, ConstantTimeEqual) {
  EXPECT_TRUE(digest_equal("abc", "abc"));
  EXPECT_FALSE(digest_equal("abc", "abd"));
  EXPECT_FALSE(digest_equal("abc", "abcd"));
  EXPECT_TRUE(digest_equal("", ""));
}

TEST(DigestParse, Rfc7616Example) {
  const auto c = parse_digest_credentials(
      "Digest username=\"Mufasa\",\r\n realm=\"http-auth@example.org\", uri=\"/dir/index.html\", "
      "algorithm=SHA-256, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", nc=00000001, "
      "cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", qop=auth, "
      "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\", "
      "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"");
  // The raw CRLF above is not unfolded (the message parser does that), so
  // this value is refused; the unfolded form parses.
  EXPECT_FALSE(c);
  const auto d = parse_digest_credentials(
      "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", uri=\"/dir/index.html\", "
      "algorithm=SHA-256, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", nc=00000001, "
      "cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", qop=auth, "
      "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\", "
      "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"");
  ASSERT_TRUE(d) << to_string(d.error());
  EXPECT_EQ(d->username, "Mufasa");
  EXPECT_EQ(d->realm, "http-auth@example.org");
  EXPECT_EQ(d->uri, "/dir/index.html");
  EXPECT_EQ(d->algorithm, DigestAlgorithm::sha256);
  EXPECT_EQ(d->nc, 1U);
  EXPECT_EQ(d->nc_text, "00000001");
  EXPECT_EQ(d->qop, "auth");
  EXPECT_EQ(d->opaque, "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS");
  EXPECT_FALSE(d->userhash);
}

TEST(DigestParse, LenientWhereRealPhonesAre) {
  // Scheme and names in any case, quoted qop/nc/algorithm, no spaces, tabs,
  // empty list elements, unknown params ignored.
  const auto c = parse_digest_credentials(
      "dIgEsT\tUSERNAME=alice,Realm=\"a.example\",,nonce=\"n\" , URI=\"sip:a.example\",response=\"ABCDEF\","
      "qop=\"auth\",nc=\"0000000a\",cnonce=xyz,algorithm=\"md5\",foo=\"bar\",");
  ASSERT_TRUE(c) << to_string(c.error());
  EXPECT_EQ(c->username, "alice");
  EXPECT_EQ(c->nc, 10U);
  EXPECT_EQ(c->cnonce, "xyz");
  EXPECT_EQ(c->algorithm, DigestAlgorithm::md5);
  EXPECT_FALSE(c->opaque);
}

TEST(DigestParse, QuotedPairsAreResolved) {
  const auto c = parse_digest_credentials(R"(Digest username="a\"b\\c", realm="r", nonce="n", uri="u", response="x")");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "a\"b\\c");
  EXPECT_FALSE(c->qop);  // RFC 2069 form parses; the authenticator refuses it
}

TEST(DigestParse, AlgorithmDefaultsToMd5AndSessParses) {
  auto c = parse_digest_credentials(R"(Digest username="a", realm="r", nonce="n", uri="u", response="x")");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->algorithm, DigestAlgorithm::md5);
  c = parse_digest_credentials(
      R"(Digest username="a", realm="r", nonce="n", uri="u", response="x", algorithm=SHA-256-sess)");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->algorithm, DigestAlgorithm::sha256_sess);
}

struct Bad {
  const char* value;
  DigestErrc error;
};

class DigestParseBad : public ::testing::TestWithParam<Bad> {};

TEST_P(DigestParseBad, IsRefusedWithItsReason) {
  const auto c = parse_digest_credentials(GetParam().value);
  ASSERT_FALSE(c) << GetParam().value;
  EXPECT_EQ(c.error(), GetParam().error) << GetParam().value << " -> " << to_string(c.error());
}

INSTANTIATE_TEST_SUITE_P(
    DigestGarbage, DigestParseBad,
    ::testing::Values(
        Bad{"", DigestErrc::not_digest}, Bad{"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", DigestErrc::not_digest},
        Bad{"Digestusername=\"a\"", DigestErrc::not_digest}, Bad{"Digest", DigestErrc::missing_param},
        Bad{"Digest ,,, ", DigestErrc::missing_param},
        Bad{"Digest username=\"a\", username=\"b\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\"",
            DigestErrc::duplicate_param},
        Bad{"Digest username=\"a\", USERNAME=\"b\"", DigestErrc::duplicate_param},
        Bad{"Digest realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\"", DigestErrc::missing_param},
        Bad{"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", qop=auth",
            DigestErrc::missing_param},
        Bad{"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", qop=auth, cnonce=c, nc=1",
            DigestErrc::bad_nc},
        Bad{"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", qop=auth, cnonce=c, "
            "nc=0000000g",
            DigestErrc::bad_nc},
        Bad{"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", algorithm=SHA-512-256",
            DigestErrc::unsupported_algorithm},
        Bad{"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", userhash=maybe",
            DigestErrc::bad_userhash},
        Bad{"Digest username=\"a", DigestErrc::bad_quoted_string},
        Bad{"Digest username=\"a\\", DigestErrc::bad_quoted_string},
        Bad{"Digest username=\"a\x01\"", DigestErrc::bad_quoted_string},
        Bad{"Digest username=\"a\\\x7f\"", DigestErrc::bad_quoted_string},
        Bad{"Digest username", DigestErrc::malformed}, Bad{"Digest username=", DigestErrc::malformed},
        Bad{"Digest =a", DigestErrc::malformed}, Bad{"Digest uri=sip:a", DigestErrc::malformed},
        Bad{"Digest username=\"a\" realm=\"r\"", DigestErrc::malformed},
        Bad{"Digest username=a;b", DigestErrc::malformed}));

TEST(DigestParse, SizeLimits) {
  const std::string big_value(kMaxDigestValue + 1, 'a');
  auto c = parse_digest_credentials("Digest username=\"" + big_value + "\"");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), DigestErrc::value_too_long);
  c = parse_digest_credentials("Digest username=" + big_value);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), DigestErrc::value_too_long);

  std::string many = "Digest ";
  for (std::size_t i = 0; i <= kMaxDigestParams; ++i) many += "p" + std::to_string(i) + "=1, ";
  c = parse_digest_credentials(many);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), DigestErrc::too_many_params);

  c = parse_digest_credentials("Digest x=\"" + std::string(kMaxDigestHeader, 'a') + "\"");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), DigestErrc::too_long);
}

TEST(DigestParse, EveryPrefixOfAValidValueIsHandled) {
  // Truncation anywhere must give an error value or a result, never a crash.
  const std::string v =
      R"(Digest username="alice", realm="a.example", nonce="abc", uri="sip:a.example", response="0123", )"
      R"(algorithm=SHA-256, cnonce="c\"x", qop=auth, nc=00000001, opaque="o")";
  for (std::size_t n = 0; n <= v.size(); ++n) {
    (void)parse_digest_credentials(std::string_view(v).substr(0, n));
    (void)parse_digest_challenge(std::string_view(v).substr(0, n));
  }
  EXPECT_TRUE(parse_digest_credentials(v));
}

TEST(DigestChallengeFormat, RoundTrips) {
  DigestChallenge c;
  c.realm = "alpha.example";
  c.nonce = "abc\"def";
  c.opaque = "op";
  c.algorithm = DigestAlgorithm::sha256;
  c.qop = "auth";
  c.stale = true;
  const std::string text = format_digest_challenge(c);
  EXPECT_EQ(
      text,
      R"(Digest realm="alpha.example", nonce="abc\"def", opaque="op", algorithm=SHA-256, qop="auth", stale=true)");
  const auto back = parse_digest_challenge(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->realm, c.realm);
  EXPECT_EQ(back->nonce, c.nonce);
  EXPECT_EQ(back->opaque, c.opaque);
  EXPECT_EQ(back->algorithm, c.algorithm);
  EXPECT_EQ(back->qop, c.qop);
  EXPECT_TRUE(back->stale);
}

TEST(DigestUri, MatchesTheRequestUri) {
  EXPECT_TRUE(digest_uri_matches("sip:alpha.example", "sip:alpha.example"));
  EXPECT_TRUE(digest_uri_matches("sip:ALPHA.example:5060", "sip:alpha.example"));
  EXPECT_TRUE(digest_uri_matches("sip:alpha.example;transport=tcp", "sip:alpha.example"));
  EXPECT_TRUE(digest_uri_matches("sip:b%6fb@alpha.example", "sip:bob@alpha.example"));
  EXPECT_FALSE(digest_uri_matches("sip:beta.example", "sip:alpha.example"));
  EXPECT_FALSE(digest_uri_matches("sips:alpha.example", "sip:alpha.example"));
  EXPECT_FALSE(digest_uri_matches("sip:alpha.example:5070", "sip:alpha.example"));
  EXPECT_FALSE(digest_uri_matches("sip:carol@alpha.example", "sip:bob@alpha.example"));
  EXPECT_FALSE(digest_uri_matches("garbage", "sip:alpha.example"));
}

}  // namespace
}  // namespace sipsite::sip
