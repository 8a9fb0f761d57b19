#include "sipsite/sip/auth/digest_authenticator.hpp"
#include "sipsite/sip/manual_timers.hpp"

#include "registrar_fakes.hpp"

#include <gtest/gtest.h>

#include <regex>

namespace sipsite::sip {
namespace {

using namespace std::chrono_literals;
using Verdict = AuthDecision::Verdict;

DigestAuthenticatorSettings test_settings() {
  DigestAuthenticatorSettings s;
  s.secret.assign(32, 0x5A);
  s.per_source = RateLimiterSettings{5, 1min, 2min, 100};
  s.per_user = RateLimiterSettings{3, 1min, 3min, 100};
  return s;
}

struct DigestAuthenticatorTest : ::testing::Test {
  DigestAuthenticatorTest() {
    dir.add_user("alice", "wonderland");
    dir.add_user("bob", "builder");
  }

  regtest::SimPhone phone(std::string user, std::string password, std::string ip = "203.0.113.5") {
    return regtest::SimPhone(std::move(user), std::move(password), "alpha.example",
                             Endpoint{Protocol::udp, std::move(ip), 40000});
  }

  // A REGISTER from p, challenged first when p has no challenge yet.
  AuthDecision attempt(regtest::SimPhone& p, bool proxy = false) {
    return auth.authenticate(p.inbound(p.make_register({"<sip:x@192.168.1.20>"}, 3600)), proxy);
  }

  void challenge(regtest::SimPhone& p, DigestAlgorithm alg = DigestAlgorithm::sha256, bool proxy = false) {
    p.forget_challenge();
    const auto d = attempt(p, proxy);
    ASSERT_EQ(d.verdict, Verdict::challenge);
    ASSERT_TRUE(p.take_challenge(*d.response, alg));
  }

  // A REGISTER carrying exactly `authorization`.
  AuthDecision with_header(regtest::SimPhone& p, const std::string& authorization) {
    return auth.authenticate(
        p.inbound(p.make_register({"<sip:x@192.168.1.20>"}, 3600, "Authorization: " + authorization + "\r\n", false)),
        false);
  }

  ManualTimers time;
  regtest::SeqRandom random;
  Counters counters;
  regtest::FakeDirectory dir{"alpha.example"};
  DigestAuthenticator auth{dir, time, random, counters, test_settings()};
};

TEST_F(DigestAuthenticatorTest, ChallengeOffersSha256ThenMd5) {
  auto p = phone("alice", "wonderland");
  const auto d = attempt(p);
  ASSERT_EQ(d.verdict, Verdict::challenge);
  ASSERT_TRUE(d.response);
  const Message& r = *d.response;
  EXPECT_EQ(r.status_code(), 401);
  EXPECT_NE(r.value("To")->find(";tag="), std::string_view::npos);
  const auto challenges = r.values("WWW-Authenticate");
  ASSERT_EQ(challenges.size(), 2U);
  const auto sha = parse_digest_challenge(challenges[0]);
  const auto md5 = parse_digest_challenge(challenges[1]);
  ASSERT_TRUE(sha && md5);
  EXPECT_EQ(sha->algorithm, DigestAlgorithm::sha256);
  EXPECT_EQ(md5->algorithm, DigestAlgorithm::md5);
  for (const auto* c : {&*sha, &*md5}) {
    EXPECT_EQ(c->realm, "alpha.example");
    EXPECT_EQ(c->qop, "auth");
    EXPECT_TRUE(c->opaque);
    EXPECT_FALSE(c->stale);
    EXPECT_EQ(auth.nonces().check(c->nonce, "alpha.example"), NonceCheck::ok);
  }
  EXPECT_EQ(regtest::metric(counters, "sipsite_sip_auth_failures_total"), 0);
}

TEST_F(DigestAuthenticatorTest, PhoneAuthenticatesWithSha256AndMd5) {
  for (const auto alg : {DigestAlgorithm::sha256, DigestAlgorithm::md5}) {
    auto p = phone("alice", "wonderland");
    challenge(p, alg);
    ASSERT_EQ(p.challenge()->algorithm, alg);
    const auto d = attempt(p);
    EXPECT_EQ(d.verdict, Verdict::accepted) << to_string(alg);
    EXPECT_EQ(d.username, "alice");
    EXPECT_FALSE(d.response);
    // The nonce is reusable with a higher nc until it expires.
    EXPECT_EQ(attempt(p).verdict, Verdict::accepted);
  }
  EXPECT_EQ(regtest::metric(counters, "sipsite_sip_auth_failures_total"), 0);
}

TEST_F(DigestAuthenticatorTest, ProxyAuthenticationUses407) {
  auto p = phone("bob", "builder");
  p.forget_challenge();
  const auto d = attempt(p, true);
  ASSERT_EQ(d.verdict, Verdict::challenge);
  EXPECT_EQ(d.response->status_code(), 407);
  EXPECT_EQ(d.response->values("Proxy-Authenticate").size(), 2U);
  EXPECT_FALSE(d.response->find("WWW-Authenticate"));
  ASSERT_TRUE(p.take_challenge(*d.response));
  EXPECT_EQ(attempt(p, true).verdict, Verdict::accepted);
  // Authorization (not Proxy-) is not looked at by a proxy challenge.
  challenge(p);
  EXPECT_EQ(attempt(p, true).verdict, Verdict::challenge);
}

TEST_F(DigestAuthenticatorTest, WrongPasswordIsChallengedAgainAndCounted) {
  auto p = phone("alice", "guess");
  challenge(p);
  const auto d = attempt(p);
  ASSERT_EQ(d.verdict, Verdict::challenge);
  EXPECT_EQ(d.response->status_code(), 401);
  const auto c = parse_digest_challenge(*d.response->value("WWW-Authenticate"));
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->stale);
  EXPECT_EQ(regtest::metric(counters, "sipsite_sip_auth_failures_total"), 1);
}

// Everything but the nonce (and To tag) of a challenge response.
std::string shape(const Message& r) {
  std::string out = std::to_string(r.status_code()) + " " + std::string(r.reason_phrase()) + "\n";
  static const std::regex nonce("nonce=\"[^\"]*\"");
  for (const auto& h : r.headers()) {
    if (h.id == HeaderId::to || h.id == HeaderId::via || h.id == HeaderId::call_id || h.id == HeaderId::cseq ||
        h.id == HeaderId::from) {
      out += std::string(h.name) + "\n";
      continue;
    }
    out += std::string(h.name) + ": " + std::regex_replace(std::string(h.value), nonce, "nonce=N") + "\n";
  }
  return out;
}

TEST_F(DigestAuthenticatorTest, UnknownUserGetsTheSameChallengeAsAWrongPassword) {
  auto known = phone("alice", "guess");
  auto unknown = phone("mallory", "guess");
  challenge(known);
  challenge(unknown);
  const int lookups = dir.lookups;
  const auto a = attempt(known);
  const auto b = attempt(unknown);
  EXPECT_EQ(dir.lookups, lookups + 2);  // both went through the same path
  ASSERT_EQ(a.verdict, Verdict::challenge);
  ASSERT_EQ(b.verdict, Verdict::challenge);
  EXPECT_EQ(shape(*a.response), shape(*b.response));
  // And before any credentials, too.
  known.forget_challenge();
  unknown.forget_challenge();
  EXPECT_EQ(shape(*attempt(known).response), shape(*attempt(unknown).response));
  EXPECT_EQ(regtest::metric(counters, "sipsite_sip_auth_failures_total"), 2);
}

TEST_F(DigestAuthenticatorTest, ReplayedRequestGetsAStaleChallenge) {
  auto p = phone("alice", "wonderland");
  challenge(p);
  const Message req = p.make_register({"<sip:x@192.168.1.20>"}, 3600);
  EXPECT_EQ(auth.authenticate(p.inbound(req), false).verdict, Verdict::accepted);
  const auto replay = auth.authenticate(p.inbound(req), false);
  ASSERT_EQ(replay.verdict, Verdict::challenge);
  const auto c = parse_digest_challenge(*replay.response->value("WWW-Authenticate"));
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->stale);
  // A lower nc on the same nonce too.
  p.set_nc(5);
  EXPECT_EQ(attempt(p).verdict, Verdict::accepted);  // nc 6
  p.set_nc(2);
  EXPECT_EQ(attempt(p).verdict, Verdict::challenge);  // nc 3
  EXPECT_EQ(regtest::metric(counters, "sipsite_sip_auth_failures_total"), 2);
  // Replays are not password guesses: the rate limiter does not see them.
  EXPECT_EQ(auth.source_limiter().size(), 0U);
}

TEST_F(DigestAuthenticatorTest, ExpiredNonceGetsStaleOnlyWithTheRightPassword) {
  auto good = phone("alice", "wonderland");
  auto bad = phone("alice", "guess");
  challenge(good);
  challenge(bad);
  time.advance(5min + 1s);
  const auto g = attempt(good);
  ASSERT_EQ(g.verdict, Verdict::challenge);
  const auto gc = parse_digest_challenge(*g.response->value("WWW-Authenticate"));
  ASSERT_TRUE(gc);
  EXPECT_TRUE(gc->stale);
  const auto b = attempt(bad);
  ASSERT_EQ(b.verdict, Verdict::challenge);
  EXPECT_FALSE(parse_digest_challenge(*b.response->value("WWW-Authenticate"))->stale);
  // The phone retries on the stale challenge and succeeds.
  ASSERT_TRUE(good.take_challenge(*g.response));
  EXPECT_EQ(attempt(good).verdict, Verdict::accepted);
}

TEST_F(DigestAuthenticatorTest, NonceFromBeforeARestartIsStale) {
  auto p = phone("alice", "wonderland");
  challenge(p);
  auto settings = test_settings();
  settings.secret.assign(32, 0x11);
  DigestAuthenticator restarted{dir, time, random, counters, settings};
  const auto d = restarted.authenticate(p.inbound(p.make_register({"<sip:x@192.168.1.20>"}, 3600)), false);
  ASSERT_EQ(d.verdict, Verdict::challenge);
  EXPECT_TRUE(parse_digest_challenge(*d.response->value("WWW-Authenticate"))->stale);
}

TEST_F(DigestAuthenticatorTest, SourceRateLimitKicksInAndRecovers) {
  // A different username each time, so that only the source limit applies.
  for (int i = 0; i < 6; ++i) {
    auto attacker = phone("user" + std::to_string(i), "guess");
    challenge(attacker);
    EXPECT_EQ(attempt(attacker).verdict, Verdict::challenge) << i;  // the 6th failure starts the cool-down
  }
  // Now even the right password from that address is refused, without a challenge.
  auto same_ip = phone("bob", "builder");
  const auto d = attempt(same_ip);
  ASSERT_EQ(d.verdict, Verdict::rate_limited);
  ASSERT_TRUE(d.response);
  EXPECT_EQ(d.response->status_code(), 403);
  EXPECT_EQ(d.response->value("Retry-After"), "120");
  EXPECT_EQ(regtest::metric(counters, "sipsite_sip_auth_rate_limited_total"), 1);
  // Another address is unaffected.
  auto elsewhere = phone("bob", "builder", "198.51.100.9");
  challenge(elsewhere);
  EXPECT_EQ(attempt(elsewhere).verdict, Verdict::accepted);
  // After the cool-down the source may try again.
  time.advance(2min);
  challenge(same_ip);
  EXPECT_EQ(attempt(same_ip).verdict, Verdict::accepted);
}

TEST_F(DigestAuthenticatorTest, UserRateLimitSpansSourcesAndUnknownUsers) {
  for (const auto* user : {"alice", "nobody"}) {
    for (int i = 0; i < 4; ++i) {
      auto p = phone(user, "guess", "198.51.100." + std::to_string(i + 1));
      challenge(p);
      EXPECT_EQ(attempt(p).verdict, Verdict::challenge);
    }
    auto p = phone(user, user == std::string("alice") ? "wonderland" : "x", "192.0.2.200");
    challenge(p);
    EXPECT_EQ(attempt(p).verdict, Verdict::rate_limited) << user;
  }
  // bob is unaffected, and alice recovers.
  auto bob = phone("bob", "builder", "192.0.2.201");
  challenge(bob);
  EXPECT_EQ(attempt(bob).verdict, Verdict::accepted);
  time.advance(3min);
  auto alice = phone("alice", "wonderland", "192.0.2.202");
  challenge(alice);
  EXPECT_EQ(attempt(alice).verdict, Verdict::accepted);
}

TEST_F(DigestAuthenticatorTest, AUsersOwnPhoneKeepsRegisteringWhileSomeoneElseGuessesItsPassword) {
  auto own = phone("alice", "wonderland", "192.0.2.10");  // alice's desk phone, registered before
  challenge(own);
  ASSERT_EQ(attempt(own).verdict, Verdict::accepted);
  for (int i = 0; i < 4; ++i) {  // guesses from elsewhere put alice in cool-down
    auto p = phone("alice", "guess", "198.51.100." + std::to_string(i + 1));
    challenge(p);
    EXPECT_EQ(attempt(p).verdict, Verdict::challenge);
  }
  auto stranger = phone("alice", "wonderland", "203.0.113.9");
  challenge(stranger);
  EXPECT_EQ(attempt(stranger).verdict, Verdict::rate_limited) << "the cool-down holds other sources";
  auto again = phone("alice", "wonderland", "192.0.2.10");
  challenge(again);
  EXPECT_EQ(attempt(again).verdict, Verdict::accepted) << "the phone at its known address was locked out";
}

TEST_F(DigestAuthenticatorTest, RefusesWhatItDidNotOffer) {
  auto p = phone("alice", "wonderland");
  challenge(p);
  const auto refused = [&](const std::string& header) {
    const auto d = with_header(p, header);
    return d.verdict == Verdict::challenge && d.response->status_code() == 401;
  };
  // Sanity: the unmodified header (fresh nc) passes.
  EXPECT_EQ(with_header(p, p.authorization("REGISTER", "sip:alpha.example")).verdict, Verdict::accepted);
  // RFC 2069 form (no qop, cnonce, nc), computed correctly.
  const auto& c = *p.challenge();
  const std::string ha1 = digest_ha1(c.algorithm, "alice", "alpha.example", "wonderland");
  const std::string r2069 =
      digest_response({c.algorithm, ha1, c.nonce, "", "", std::nullopt, "REGISTER", "sip:alpha.example"});
  EXPECT_TRUE(refused("Digest username=\"alice\", realm=\"alpha.example\", nonce=\"" + c.nonce +
                      "\", uri=\"sip:alpha.example\", response=\"" + r2069 + "\", algorithm=SHA-256"));
  // Digest uri naming another resource (correctly hashed over it).
  EXPECT_TRUE(refused(p.authorization("REGISTER", "sip:beta.example")));
  // auth-int.
  std::string h = p.authorization("REGISTER", "sip:alpha.example");
  h.replace(h.find("qop=auth"), 8, "qop=auth-int");
  EXPECT_TRUE(refused(h));
  // Garbage.
  EXPECT_TRUE(refused("Digest username=\"alice"));
  EXPECT_EQ(regtest::metric(counters, "sipsite_sip_auth_failures_total"), 4);
  // A wrong opaque with the right password: stale, not a failure.
  h = p.authorization("REGISTER", "sip:alpha.example");
  h.replace(h.find("opaque=\"") + 8, 3, "xyz");
  const auto d = with_header(p, h);
  ASSERT_EQ(d.verdict, Verdict::challenge);
  EXPECT_TRUE(parse_digest_challenge(*d.response->value("WWW-Authenticate"))->stale);
  EXPECT_EQ(regtest::metric(counters, "sipsite_sip_auth_failures_total"), 4);
}

TEST_F(DigestAuthenticatorTest, Md5CanBeTurnedOff) {
  auto settings = test_settings();
  settings.algorithms = {DigestAlgorithm::sha256};
  DigestAuthenticator sha_only{dir, time, random, counters, settings};
  auto p = phone("alice", "wonderland");
  const auto d = sha_only.authenticate(p.inbound(p.make_register({}, std::nullopt)), false);
  ASSERT_EQ(d.response->values("WWW-Authenticate").size(), 1U);
  ASSERT_TRUE(p.take_challenge(*d.response));
  EXPECT_EQ(sha_only.authenticate(p.inbound(p.make_register({}, std::nullopt)), false).verdict, Verdict::accepted);
  // An MD5 answer to the same nonce is refused.
  regtest::SimPhone md5_phone = p;
  DigestChallenge c = *p.challenge();
  c.algorithm = DigestAlgorithm::md5;
  Message fake = Message::make_response(401, "Unauthorized");
  fake.add_header("WWW-Authenticate", format_digest_challenge(c));
  ASSERT_TRUE(md5_phone.take_challenge(fake, DigestAlgorithm::md5));
  EXPECT_EQ(sha_only.authenticate(md5_phone.inbound(md5_phone.make_register({}, std::nullopt)), false).verdict,
            Verdict::challenge);
}

TEST_F(DigestAuthenticatorTest, ChallengesFollowTheConfiguredOrder) {
  auto settings = test_settings();
  settings.algorithms = {DigestAlgorithm::md5, DigestAlgorithm::sha256};
  DigestAuthenticator md5_first{dir, time, random, counters, settings};
  auto p = phone("alice", "wonderland");
  const auto d = md5_first.authenticate(p.inbound(p.make_register({}, std::nullopt)), false);
  const auto challenges = d.response->values("WWW-Authenticate");
  ASSERT_EQ(challenges.size(), 2U);
  EXPECT_EQ(parse_digest_challenge(challenges[0])->algorithm, DigestAlgorithm::md5);
  EXPECT_EQ(parse_digest_challenge(challenges[1])->algorithm, DigestAlgorithm::sha256);
}

TEST_F(DigestAuthenticatorTest, OtherRealmsAndUppercaseHex) {
  auto p = phone("alice", "wonderland");
  // Credentials for another realm only: a plain challenge, not a failure.
  const auto d = with_header(
      p, R"(Digest username="alice", realm="elsewhere", nonce="n", uri="sip:alpha.example", response="00")");
  EXPECT_EQ(d.verdict, Verdict::challenge);
  EXPECT_EQ(regtest::metric(counters, "sipsite_sip_auth_failures_total"), 0);
  // Basic is not Digest: ignored.
  EXPECT_EQ(with_header(p, "Basic YWxpY2U6d29uZGVybGFuZA==").verdict, Verdict::challenge);
  EXPECT_EQ(regtest::metric(counters, "sipsite_sip_auth_failures_total"), 0);
  // Uppercase hex in the response is fine.
  challenge(p);
  std::string h = p.authorization("REGISTER", "sip:alpha.example");
  const auto at = h.find("response=\"") + 10;
  for (std::size_t i = at; h[i] != '"'; ++i) h[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(h[i])));
  EXPECT_EQ(with_header(p, h).verdict, Verdict::accepted);
}

}  // namespace
}  // namespace sipsite::sip
