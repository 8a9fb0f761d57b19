#include "sipsite/sip/message/accessors.hpp"
#include "sipsite/sip/auth/digest_authenticator.hpp"
#include "sipsite/sip/registrar/location_service.hpp"
#include "sipsite/sip/manual_timers.hpp"
#include "sipsite/sip/registrar/registrar.hpp"

#include "registrar_fakes.hpp"

#include <gtest/gtest.h>

namespace sipsite::sip {
namespace {

using namespace std::chrono_literals;

RegistrarSettings registrar_settings() {
  RegistrarSettings s;
  s.min_expires = 60;
  s.max_expires = 7200;
  s.default_expires = 3600;
  s.max_contacts = 3;
  // 2024-03-01 12:00:00 UTC
  s.wall_clock = [] { return std::chrono::system_clock::time_point(std::chrono::seconds(1709294400)); };
  return s;
}

DigestAuthenticatorSettings auth_settings() {
  DigestAuthenticatorSettings s;
  s.secret.assign(32, 1);
  return s;
}

struct RegistrarTest : ::testing::Test {
  RegistrarTest() {
    dir.add_user("alice", "wonderland");
    dir.add_user("bob", "builder");
  }

  regtest::SimPhone phone(std::string user, std::string password,
                          Endpoint source = {Protocol::udp, "203.0.113.7", 61000}, FlowId flow = 0) {
    return regtest::SimPhone(std::move(user), std::move(password), "alpha.example", std::move(source), flow);
  }

  // Sends a REGISTER as a phone does: answers one 401 and sends again.
  Message send(regtest::SimPhone& p, const std::vector<std::string>& contacts, std::optional<std::uint32_t> expires,
               const std::string& extra = {}) {
    Message r = registrar.handle_register(p.inbound(p.make_register(contacts, expires, extra)));
    if (r.status_code() == 401 && p.take_challenge(r)) {
      r = registrar.handle_register(p.inbound(p.make_register(contacts, expires, extra)));
    }
    return r;
  }

  // The Contact values of a response, as "uri expires".
  static std::vector<std::string> listed(const Message& r) {
    std::vector<std::string> out;
    const auto list = contact_headers(r);
    if (!list) return {"<unparsable>"};
    for (const auto& c : list->contacts) {
      std::string s(c.uri.text);
      if (const Param* e = find_param(c.params, "expires"); e && e->value) s += " " + std::string(*e->value);
      if (const Param* q = find_param(c.params, "q"); q && q->value) s += " q=" + std::string(*q->value);
      out.push_back(s);
    }
    return out;
  }

  std::vector<std::string> bound(std::string_view user) const {
    std::vector<std::string> out;
    for (const auto& b : location.lookup(user)) out.push_back(b.contact);
    return out;
  }

  ManualTimers time;
  regtest::SeqRandom random;
  Counters counters;
  regtest::FakeDirectory dir{"alpha.example"};
  DigestAuthenticator auth{dir, time, random, counters, auth_settings()};
  LocationService location{time, counters};
  Registrar registrar{dir, auth, location, time, registrar_settings()};
};

TEST_F(RegistrarTest, UnauthenticatedRegisterIsChallenged) {
  auto p = phone("alice", "wonderland");
  const Message r = registrar.handle_register(p.inbound(p.make_register({"<sip:alice@192.168.1.20:5060>"}, 3600)));
  EXPECT_EQ(r.status_code(), 401);
  EXPECT_EQ(r.values("WWW-Authenticate").size(), 2U);
  EXPECT_EQ(location.size(), 0U);
}

TEST_F(RegistrarTest, RegisterAddsABindingAndListsIt) {
  auto p = phone("alice", "wonderland");
  const Message r = send(p, {"<sip:alice@192.168.1.20:5060>"}, 3600);
  ASSERT_EQ(r.status_code(), 200) << r.reason_phrase();
  EXPECT_EQ(listed(r), (std::vector<std::string>{"sip:alice@192.168.1.20:5060 3600"}));
  EXPECT_EQ(r.value("Date"), "Fri, 01 Mar 2024 12:00:00 GMT");
  EXPECT_NE(r.value("To")->find(";tag="), std::string_view::npos);
  const auto b = location.lookup("alice");
  ASSERT_EQ(b.size(), 1U);
  EXPECT_EQ(b[0].contact, "sip:alice@192.168.1.20:5060");
  EXPECT_EQ(b[0].expires, time.now() + 3600s);
  EXPECT_EQ(b[0].cseq, p.cseq());
  EXPECT_EQ(regtest::metric(counters, "sipsite_sip_registrations"), 1);
}

TEST_F(RegistrarTest, DestinationIsWhereThePhoneReallyIs) {
  // Behind NAT: the Contact names a LAN address, the packet came from the
  // NAT's public mapping; requests must go to the mapping.
  auto udp = phone("alice", "wonderland", {Protocol::udp, "198.51.100.4", 40123});
  ASSERT_EQ(send(udp, {"<sip:alice@10.0.0.5:5060>"}, 600).status_code(), 200);
  auto b = location.lookup("alice");
  ASSERT_EQ(b.size(), 1U);
  EXPECT_EQ(b[0].destination.endpoint, (Endpoint{Protocol::udp, "198.51.100.4", 40123}));
  EXPECT_EQ(b[0].destination.flow, 0U);
  // Over TCP the flow is kept, and closing it removes the binding.
  auto tcp = phone("bob", "builder", {Protocol::tcp, "198.51.100.5", 50000}, 17);
  ASSERT_EQ(send(tcp, {"<sip:bob@10.0.0.6:5060;transport=tcp>"}, 600).status_code(), 200);
  b = location.lookup("bob");
  ASSERT_EQ(b.size(), 1U);
  EXPECT_EQ(b[0].destination.endpoint, (Endpoint{Protocol::tcp, "198.51.100.5", 50000}));
  EXPECT_EQ(b[0].destination.flow, 17U);
  EXPECT_EQ(location.remove_flow(17), 1U);
  EXPECT_TRUE(location.lookup("bob").empty());
  EXPECT_EQ(location.lookup("alice").size(), 1U);
}

TEST_F(RegistrarTest, RefreshUpdatesTheSameBinding) {
  auto p = phone("alice", "wonderland");
  ASSERT_EQ(send(p, {"<sip:alice@phone.lan:5060;transport=udp;ob>"}, 3600).status_code(), 200);
  time.advance(1000s);
  Message r = send(p, {"<sip:alice@phone.lan:5060;transport=udp;ob>"}, 3600);
  ASSERT_EQ(r.status_code(), 200);
  EXPECT_EQ(listed(r), (std::vector<std::string>{"sip:alice@phone.lan:5060;transport=udp;ob 3600"}));
  EXPECT_EQ(regtest::metric(counters, "sipsite_sip_registrations_added_total"), 1);
  // Same contact, written differently (host case, parameter order and
  // case): still one binding, now spelled as the phone last wrote it.
  r = send(p, {"<sip:alice@Phone.LAN:5060;ob;transport=UDP>;expires=1800"}, std::nullopt);
  ASSERT_EQ(r.status_code(), 200);
  EXPECT_EQ(listed(r), (std::vector<std::string>{"sip:alice@Phone.LAN:5060;ob;transport=UDP 1800"}));
  EXPECT_EQ(location.size(), 1U);
}

TEST_F(RegistrarTest, ExpiresComesFromParamHeaderOrDefaultAndIsClamped) {
  auto p = phone("alice", "wonderland");
  const Message r =
      send(p, {"<sip:a@192.168.1.20>;expires=120", "<sip:b@192.168.1.20>", "<sip:c@192.168.1.20>;expires=99999"}, 300);
  ASSERT_EQ(r.status_code(), 200) << r.reason_phrase();
  EXPECT_EQ(listed(r),
            (std::vector<std::string>{"sip:a@192.168.1.20 120", "sip:b@192.168.1.20 300", "sip:c@192.168.1.20 7200"}));
  auto q = phone("bob", "builder");
  EXPECT_EQ(listed(send(q, {"<sip:bob@192.168.1.21>"}, std::nullopt)),
            (std::vector<std::string>{"sip:bob@192.168.1.21 3600"}));
  // Listed expires count down.
  time.advance(100s);
  EXPECT_EQ(listed(send(p, {}, std::nullopt)),
            (std::vector<std::string>{"sip:a@192.168.1.20 20", "sip:b@192.168.1.20 200", "sip:c@192.168.1.20 7100"}));
}

TEST_F(RegistrarTest, IntervalTooBrief) {
  auto p = phone("alice", "wonderland");
  Message r = send(p, {"<sip:alice@192.168.1.20>"}, 30);
  EXPECT_EQ(r.status_code(), 423);
  EXPECT_EQ(r.value("Min-Expires"), "60");
  r = send(p, {"<sip:a@192.168.1.20>;expires=3600", "<sip:b@192.168.1.20>;expires=59"}, std::nullopt);
  EXPECT_EQ(r.status_code(), 423);
  EXPECT_EQ(location.size(), 0U);  // all or nothing
  EXPECT_EQ(send(p, {"<sip:alice@192.168.1.20>"}, 60).status_code(), 200);
}

TEST_F(RegistrarTest, ExpiresZeroRemovesOneBinding) {
  auto p = phone("alice", "wonderland");
  ASSERT_EQ(send(p, {"<sip:a@192.168.1.20>", "<sip:b@192.168.1.20>"}, 600).status_code(), 200);
  const Message r = send(p, {"<sip:a@192.168.1.20>;expires=0"}, std::nullopt);
  ASSERT_EQ(r.status_code(), 200);
  EXPECT_EQ(listed(r), (std::vector<std::string>{"sip:b@192.168.1.20 600"}));
  // Removing a contact that is not bound is fine.
  EXPECT_EQ(send(p, {"<sip:zzz@192.168.1.20>"}, 0).status_code(), 200);
  EXPECT_EQ(bound("alice"), (std::vector<std::string>{"sip:b@192.168.1.20"}));
  EXPECT_EQ(regtest::metric(counters, "sipsite_sip_registrations_removed_total"), 1);
}

TEST_F(RegistrarTest, WildcardRemovesEverything) {
  auto p = phone("alice", "wonderland");
  ASSERT_EQ(send(p, {"<sip:a@192.168.1.20>", "<sip:b@192.168.1.20>"}, 600).status_code(), 200);
  EXPECT_EQ(send(p, {"*"}, std::nullopt).status_code(), 400);
  EXPECT_EQ(send(p, {"*"}, 10).status_code(), 400);
  EXPECT_EQ(send(p, {"*", "<sip:c@192.168.1.20>"}, 0).status_code(), 400);
  EXPECT_EQ(location.size(), 2U);
  const Message r = send(p, {"*"}, 0);
  ASSERT_EQ(r.status_code(), 200);
  EXPECT_TRUE(listed(r).empty());
  EXPECT_EQ(location.size(), 0U);
  EXPECT_EQ(regtest::metric(counters, "sipsite_sip_registrations"), 0);
}

TEST_F(RegistrarTest, QueryListsWithoutChanging) {
  auto p = phone("alice", "wonderland");
  EXPECT_TRUE(listed(send(p, {}, std::nullopt)).empty());
  ASSERT_EQ(send(p, {"<sip:a@192.168.1.20>;q=0.5", "<sip:b@192.168.1.20>;q=1.0"}, 600).status_code(), 200);
  EXPECT_EQ(listed(send(p, {}, std::nullopt)),
            (std::vector<std::string>{"sip:a@192.168.1.20 600 q=0.5", "sip:b@192.168.1.20 600"}));
  // Location lookup orders by q.
  EXPECT_EQ(bound("alice"), (std::vector<std::string>{"sip:b@192.168.1.20", "sip:a@192.168.1.20"}));
}

TEST_F(RegistrarTest, ContactCap) {
  auto p = phone("alice", "wonderland");
  // More contacts in one request than allowed: refused.
  EXPECT_EQ(send(p, {"<sip:a@h>", "<sip:b@h>", "<sip:c@h>", "<sip:d@h>"}, 600).status_code(), 403);
  EXPECT_EQ(location.size(), 0U);
  ASSERT_EQ(send(p, {"<sip:a@h>"}, 600).status_code(), 200);
  ASSERT_EQ(send(p, {"<sip:b@h>"}, 300).status_code(), 200);
  ASSERT_EQ(send(p, {"<sip:c@h>"}, 900).status_code(), 200);
  // A phone rebooting with a new contact (new Call-ID) evicts the binding
  // expiring soonest, rather than locking the user out.
  auto rebooted = phone("alice", "wonderland", {Protocol::udp, "203.0.113.7", 61001});
  ASSERT_EQ(send(rebooted, {"<sip:d@h>"}, 600).status_code(), 200);
  EXPECT_EQ(location.size(), 3U);
  auto now_bound = bound("alice");
  std::sort(now_bound.begin(), now_bound.end());
  EXPECT_EQ(now_bound, (std::vector<std::string>{"sip:a@h", "sip:c@h", "sip:d@h"}));
}

TEST_F(RegistrarTest, BindingsExpireOverTime) {
  auto p = phone("alice", "wonderland");
  ASSERT_EQ(send(p, {"<sip:a@h>;expires=60", "<sip:b@h>;expires=120"}, std::nullopt).status_code(), 200);
  time.advance(61s);
  EXPECT_EQ(bound("alice"), (std::vector<std::string>{"sip:b@h"}));
  time.advance(60s);
  EXPECT_TRUE(bound("alice").empty());
  EXPECT_EQ(location.purge_expired(), 2U);
  EXPECT_EQ(regtest::metric(counters, "sipsite_sip_registrations"), 0);
  // Re-registering after expiry works (stale nonce handled by the phone).
  time.advance(10min);
  EXPECT_EQ(send(p, {"<sip:a@h>"}, 600).status_code(), 200);
}

TEST_F(RegistrarTest, CSeqMustIncreaseWithinACallId) {
  auto p = phone("alice", "wonderland");
  ASSERT_EQ(send(p, {"<sip:a@h>"}, 600).status_code(), 200);
  const std::uint32_t stored = p.cseq();
  // Same Call-ID, CSeq not higher: refused (an old request arriving late).
  p.set_cseq(stored - 1);  // make_register sends stored
  EXPECT_EQ(send(p, {"<sip:a@h>"}, 1200).status_code(), 400);
  p.set_cseq(stored - 2);
  EXPECT_EQ(send(p, {"*"}, 0).status_code(), 400);
  EXPECT_EQ(location.lookup("alice").at(0).expires, time.now() + 600s);
  // Higher: fine.
  p.set_cseq(stored + 10);
  EXPECT_EQ(send(p, {"<sip:a@h>"}, 1200).status_code(), 200);
  // Another Call-ID with a low CSeq updates the binding (RFC 3261 §10.3 step 7).
  auto other = phone("alice", "wonderland");
  other.set_call_id("another-call-id");
  ASSERT_EQ(send(other, {"<sip:a@h>"}, 300).status_code(), 200);
  EXPECT_EQ(location.lookup("alice").at(0).call_id, "another-call-id");
  EXPECT_EQ(location.size(), 1U);
}

TEST_F(RegistrarTest, ForeignDomainMismatchedUserAndBadRequests) {
  auto p = phone("alice", "wonderland");
  // To in another domain: 404 before any challenge.
  Message r = registrar.handle_register(p.inbound(regtest::parse_or_throw(
      "REGISTER sip:beta.example SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: "
      "<sip:alice@beta.example>;tag=1\r\n"
      "To: <sip:alice@beta.example>\r\nCall-ID: x\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n")));
  EXPECT_EQ(r.status_code(), 404);
  // bob's credentials for alice's AOR.
  auto bob = phone("bob", "builder");
  bob.set_to_user("alice");
  EXPECT_EQ(send(bob, {"<sip:x@h>"}, 600).status_code(), 403);
  EXPECT_EQ(location.size(), 0U);
  // Require: nothing supported.
  r = send(p, {"<sip:x@h>"}, 600, "Require: path, gruu\r\n");
  EXPECT_EQ(r.status_code(), 420);
  EXPECT_EQ(r.value("Unsupported"), "path, gruu");
  // Malformed pieces.
  EXPECT_EQ(send(p, {"<tel:+15551234>"}, 600).status_code(), 400);
  EXPECT_EQ(send(p, {"<sip:x@h>;q=2"}, 600).status_code(), 400);
  EXPECT_EQ(send(p, {"<sip:x@h>;q=0.1234"}, 600).status_code(), 400);
  EXPECT_EQ(send(p, {"<sip:x@h>;expires=soon"}, 600).status_code(), 400);
  EXPECT_EQ(send(p, {"<sip:x@h"}, 600).status_code(), 400);
  EXPECT_EQ(send(p, {"<sip:x@h>"}, std::nullopt, "Expires: never\r\n").status_code(), 400);
  EXPECT_EQ(location.size(), 0U);
}

TEST_F(RegistrarTest, RateLimitedRegisterIsRefused) {
  auto attacker = phone("alice", "guess", {Protocol::udp, "192.0.2.66", 5060});
  int last = 0;
  for (int i = 0; i < 30 && last != 403; ++i) last = send(attacker, {"<sip:x@h>"}, 600).status_code();
  EXPECT_EQ(last, 403);
  EXPECT_GT(regtest::metric(counters, "sipsite_sip_auth_rate_limited_total"), 0);
  EXPECT_EQ(location.size(), 0U);
}

TEST(RegistrarHelpers, ContactUriComparison) {
  EXPECT_TRUE(contact_uris_equal("sip:alice@HOST.example:5060", "sip:alice@host.example:5060"));
  EXPECT_TRUE(contact_uris_equal("sip:%61lice@h;transport=TCP;x=1", "sip:alice@h;transport=tcp"));
  EXPECT_FALSE(contact_uris_equal("sip:Alice@h", "sip:alice@h"));
  EXPECT_FALSE(contact_uris_equal("sip:alice@h:5060", "sip:alice@h"));
  EXPECT_FALSE(contact_uris_equal("sip:alice@h;transport=tcp", "sip:alice@h"));
  EXPECT_FALSE(contact_uris_equal("sip:alice@h;x=1", "sip:alice@h;x=2"));
  EXPECT_FALSE(contact_uris_equal("sips:alice@h", "sip:alice@h"));
  EXPECT_TRUE(contact_uris_equal("mailto:a@b", "mailto:a@b"));
  EXPECT_EQ(format_sip_date(std::chrono::system_clock::time_point(std::chrono::seconds(784111777))),
            "Sun, 06 Nov 1994 08:49:37 GMT");
}

}  // namespace
}  // namespace sipsite::sip
