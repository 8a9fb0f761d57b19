// Call flows through the routing core, written as the sequences of
// messages each party sees (in the spirit of repro's sanityTests). Phones
// are named; "INVITE -> bob1" reads "the site sent an INVITE to bob1".
//
//   alice  UDP 10.0.0.2:5060            (caller)
//   bob1   UDP 10.0.0.3:5060            (bob's desk phone)
//   bob2   TCP 10.0.0.4:5070, flow 42   (bob's softphone)
//   site   10.0.0.1:5060 UDP+TCP, domain site.example

#include "fake_sender.hpp"
#include "fake_services.hpp"
#include "sipsite/sip/message/accessors.hpp"
#include "sipsite/sip/core.hpp"
#include "sipsite/sip/manual_timers.hpp"
#include "sipsite/sip/message/response.hpp"
#include "sipsite/sip/message/serializer.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::sip {
namespace {

using namespace std::chrono_literals;
using Lines = std::vector<std::string>;

struct Phone {
  std::string name;
  Endpoint ep;
  FlowId flow = 0;
  std::string contact;
};

const Endpoint kSiteUdp{Protocol::udp, "10.0.0.1", 5060};
const Endpoint kSiteTcp{Protocol::tcp, "10.0.0.1", 5060};
const Phone kAlice{"alice", {Protocol::udp, "10.0.0.2", 5060}, 0, "sip:alice@10.0.0.2:5060"};
const Phone kBob1{"bob1", {Protocol::udp, "10.0.0.3", 5060}, 0, "sip:bob@10.0.0.3:5060"};
const Phone kBob2{"bob2", {Protocol::tcp, "10.0.0.4", 5070}, 42, "sip:bob@10.0.0.4:5070;transport=tcp"};
constexpr std::string_view kRecordRoutePrefix = "<sip:10.0.0.1:5060;transport=udp;lr;rt=";

// A request as a phone writes it.
struct Req {
  std::string method = "INVITE";
  std::string uri = "sip:bob@site.example";
  std::string from = "alice";
  std::string from_tag;  // empty: from + "tag"
  std::string to = "<sip:bob@site.example>";
  std::string branch = "z9hG4bKa1";
  std::string via_host = "10.0.0.2:5060";
  std::string via_transport = "UDP";
  std::string call_id = "call-1@10.0.0.2";
  int cseq = 1;
  std::string auth = "alice";  // Fake credentials for this user; empty: none
  std::string extra;           // more header lines, each ending in CRLF
  std::string max_forwards = "70";

  std::string text() const {
    std::string t = method + " " + uri + " SIP/2.0\r\n";
    t += "Via: SIP/2.0/" + via_transport + " " + via_host + ";branch=" + branch + ";rport\r\n";
    if (!max_forwards.empty()) t += "Max-Forwards: " + max_forwards + "\r\n";
    t += "From: <sip:" + from + "@site.example>;tag=" + (from_tag.empty() ? from + "tag" : from_tag) + "\r\n";
    t += "To: " + to + "\r\n";
    t += "Call-ID: " + call_id + "\r\n";
    t += "CSeq: " + std::to_string(cseq) + " " + method + "\r\n";
    if (method == "INVITE") t += "Contact: <sip:" + from + "@" + via_host + ">\r\n";
    if (!auth.empty()) t += "Proxy-Authorization: Fake user=" + auth + "\r\n";
    t += extra;
    t += "\r\n";
    if (method == "INVITE" || method == "MESSAGE") t += "body";
    return t;
  }
};

class CoreTest : public ::testing::Test {
 protected:
  CoreTest() {
    location.bindings["bob"] = {binding(kBob1), binding(kBob2)};
    location.bindings["alice"] = {binding(kAlice)};
  }

  static Binding binding(const Phone& p) {
    Binding b;
    b.contact = p.contact;
    b.destination = Destination{p.ep, p.flow};
    return b;
  }

  static CoreSettings settings() {
    CoreSettings s;
    s.listeners = {kSiteUdp, kSiteTcp};
    return s;
  }

  ManualTimers timers;
  test::FakeSender sender;
  test::CountingRandom random;
  test::FakeDirectory directory{"site.example", {"alice", "bob", "carol"}};
  test::FakeAuthenticator auth;
  test::FakeLocation location;
  test::FakeRegistrar registrar;
  Counters counters;
  Core core{settings(), sender, timers, timers, random, directory, auth, location, registrar, counters};
  std::map<std::string, std::vector<test::Sent>> inbox;  // what each party received, in order
  Lines lines_;                                          // not yet looked at by sent()

  // --- the network

  void send(const Phone& p, const std::string& bytes) {
    core.receive(bytes, p.ep, p.flow, p.ep.protocol == Protocol::udp ? kSiteUdp : kSiteTcp);
  }
  void send(const Phone& p, const Req& r) { send(p, r.text()); }

  std::string name_of(const Destination& d) const {
    for (const auto* p : {&kAlice, &kBob1, &kBob2}) {
      if (d.endpoint == p->ep) return p->name;
    }
    return d.endpoint.host + ":" + std::to_string(d.endpoint.port);
  }

  // Delivers what the site sent to each party's inbox.
  void deliver() {
    for (auto& s : sender.take()) {
      const std::string who = name_of(s.to);
      lines_.push_back(s.what() + " -> " + who);
      inbox[who].push_back(std::move(s));
    }
  }

  // What the site sent since the last look, as "WHAT -> who" lines.
  Lines sent() {
    deliver();
    Lines out;
    out.swap(lines_);
    return out;
  }

  // The latest message `who` received that is `what` ("INVITE", "200").
  const test::Sent& last(const std::string& who, const std::string& what) {
    auto& box = inbox[who];
    for (auto it = box.rbegin(); it != box.rend(); ++it) {
      if (it->what() == what) return *it;
    }
    static const test::Sent kNone{};
    ADD_FAILURE() << who << " never received " << what;
    return kNone;
  }

  // `p` answers the request it received last of kind `method`.
  void answer(const Phone& p, const std::string& method, int code, std::string_view reason = "Reason") {
    deliver();
    const Message& req = last(p.name, method).message;
    auto r = make_response(req, code, reason, p.name + "tag");
    if (code < 300 && code > 100 && method == "INVITE") {
      r.add_header("Contact", "<" + p.contact + ">");
      for (const auto rr : req.values(HeaderId::record_route)) r.add_header("Record-Route", rr);  // §12.1.1
    }
    send(p, serialize(r));
  }

  // A request bob2 sends in the dialog alice's call opened with it (its To
  // tag "bob2tag"), through our Record-Route.
  static Req from_bob2_in_dialog(std::string method, std::string_view record_route, int cseq, std::string branch) {
    Req r;
    r.method = std::move(method);
    r.uri = "sip:alice@10.0.0.2:5060";
    r.from = "bob";
    r.from_tag = "bob2tag";
    r.to = "<sip:alice@site.example>;tag=alicetag";
    r.branch = std::move(branch);
    r.via_transport = "TCP";
    r.via_host = "10.0.0.4:5070";
    r.cseq = cseq;
    r.auth = "";
    r.extra = "Route: " + std::string(record_route) + "\r\n";
    return r;
  }

  std::string gauge() const {
    const auto text = counters.prometheus();
    const auto pos = text.find("\nsipsite_sip_transactions ");
    return text.substr(pos + 1, text.find('\n', pos + 1) - pos - 1);
  }

  // Lets every timer run out and checks nothing is left behind.
  void expect_all_freed() {
    timers.advance(5min);
    sent();
    EXPECT_EQ(core.transactions().alive(), 0U);
    EXPECT_EQ(core.proxy_contexts(), 0U);
    EXPECT_EQ(timers.pending(), 0U);
    EXPECT_EQ(gauge(), "sipsite_sip_transactions 0");
  }
};

TEST_F(CoreTest, RegisterGoesToTheRegistrar) {
  Req r;
  r.method = "REGISTER";
  r.uri = "sip:site.example";
  r.to = "<sip:alice@site.example>";
  r.auth = "";
  r.extra = "Contact: <sip:alice@10.0.0.2:5060>\r\n";
  send(kAlice, r);
  EXPECT_EQ(sent(), (Lines{"200 -> alice"}));
  ASSERT_EQ(registrar.seen.size(), 1U);
  EXPECT_EQ(*registrar.seen[0].message.value("Contact"), "<sip:alice@10.0.0.2:5060>");
  EXPECT_TRUE(auth.calls.empty());  // the registrar authenticates REGISTER itself

  send(kAlice, r);  // a retransmission is absorbed: the registrar is not asked again
  EXPECT_EQ(sent(), (Lines{"200 -> alice"}));
  EXPECT_EQ(registrar.seen.size(), 1U);

  r.uri = "sip:elsewhere.example";
  r.branch = "z9hG4bKa2";
  send(kAlice, r);
  EXPECT_EQ(sent(), (Lines{"403 -> alice"}));
  expect_all_freed();
}

TEST_F(CoreTest, RegisterOverTcpIsAnsweredOnItsFlow) {
  Req r;
  r.method = "REGISTER";
  r.uri = "sip:site.example";
  r.from = "bob";
  r.to = "<sip:bob@site.example>";
  r.via_transport = "TCP";
  r.via_host = "10.0.0.4:5070";
  send(kBob2, r);
  EXPECT_EQ(sent(), (Lines{"200 -> bob2"}));
  EXPECT_EQ(last("bob2", "200").to.flow, 42U);
  EXPECT_EQ(core.transactions().alive(), 0U);  // Timer J is zero on TCP
}

TEST_F(CoreTest, OptionsToTheSiteAnswers200WithoutAuthentication) {
  Req r;
  r.method = "OPTIONS";
  r.uri = "sip:site.example";
  r.auth = "";
  send(kAlice, r);
  EXPECT_EQ(sent(), (Lines{"200 -> alice"}));
  const Message ok = last("alice", "200").message;
  EXPECT_NE(ok.value("Allow")->find("INVITE"), std::string_view::npos);
  EXPECT_TRUE(ok.find("Supported"));
  r.uri = "sip:10.0.0.1:5060";
  r.branch = "z9hG4bKa2";
  send(kAlice, r);
  EXPECT_EQ(sent(), (Lines{"200 -> alice"}));
  EXPECT_TRUE(auth.calls.empty());
}

TEST_F(CoreTest, InviteForksFirst2xxWinsOtherBranchCancelledThenAckAndByeFollowTheRecordRoute) {
  send(kAlice, Req{});
  EXPECT_EQ(sent(), (Lines{"100 -> alice", "INVITE -> bob1", "INVITE -> bob2"}));

  // What the phones got: our Via on top, their contact as Request-URI,
  // Max-Forwards decremented, our Record-Route, credentials removed.
  const Message inv1 = last("bob1", "INVITE").message;
  EXPECT_EQ(inv1.request_uri(), "sip:bob@10.0.0.3:5060");
  const auto vias = inv1.values(HeaderId::via);
  ASSERT_EQ(vias.size(), 2U);
  EXPECT_TRUE(vias[0].starts_with("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK"));
  EXPECT_EQ(vias[1], "SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKa1;received=10.0.0.2;rport=5060");
  EXPECT_EQ(*inv1.value(HeaderId::max_forwards), "69");
  EXPECT_TRUE(inv1.value(HeaderId::record_route)->starts_with(kRecordRoutePrefix));
  EXPECT_FALSE(inv1.find(HeaderId::proxy_authorization));
  EXPECT_EQ(inv1.body(), "body");
  const Message inv2 = last("bob2", "INVITE").message;
  EXPECT_EQ(inv2.request_uri(), "sip:bob@10.0.0.4:5070;transport=tcp");
  EXPECT_TRUE(inv2.values(HeaderId::via)[0].starts_with("SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK"));
  EXPECT_EQ(last("bob2", "INVITE").to.flow, 42U);                           // the flow bob2 registered on
  EXPECT_NE(inv1.values(HeaderId::via)[0], inv2.values(HeaderId::via)[0]);  // one branch each

  answer(kBob1, "INVITE", 100);
  answer(kBob1, "INVITE", 180, "Ringing");
  answer(kBob2, "INVITE", 180, "Ringing");
  EXPECT_EQ(sent(), (Lines{"180 -> alice", "180 -> alice"}));  // 100 stays hop-by-hop
  EXPECT_EQ(last("alice", "180").message.values(HeaderId::via).size(), 1U);

  answer(kBob2, "INVITE", 200, "OK");
  EXPECT_EQ(sent(), (Lines{"200 -> alice", "CANCEL -> bob1"}));
  const Message cancel = last("bob1", "CANCEL").message;
  EXPECT_EQ(cancel.values(HeaderId::via), std::vector<std::string_view>{inv1.values(HeaderId::via)[0]});
  EXPECT_EQ(cancel.request_uri(), inv1.request_uri());
  answer(kBob1, "CANCEL", 200, "OK");
  answer(kBob1, "INVITE", 487, "Request Terminated");
  EXPECT_EQ(sent(), (Lines{"ACK -> bob1"}));  // hop-by-hop, nothing upstream

  // Alice ACKs the 2xx along the route set: forwarded statelessly to bob2.
  const Message ok = last("alice", "200").message;
  ASSERT_TRUE(ok.value(HeaderId::record_route) && ok.value(HeaderId::contact));
  const std::string record_route(*ok.value(HeaderId::record_route));
  EXPECT_EQ(record_route, *inv1.value(HeaderId::record_route));
  Req ack;
  ack.method = "ACK";
  ack.uri = std::string(parse_name_addr(*ok.value(HeaderId::contact))->uri.text);
  ack.to = std::string(*ok.value(HeaderId::to));
  ack.branch = "z9hG4bKa1ack";
  ack.auth = "";
  ack.extra = "Route: " + record_route + "\r\n";
  send(kAlice, ack);
  EXPECT_EQ(sent(), (Lines{"ACK -> bob2"}));
  EXPECT_FALSE(last("bob2", "ACK").message.find(HeaderId::route));
  EXPECT_EQ(last("bob2", "ACK").to.flow, 42U);

  // Bob hangs up: BYE through our Record-Route to alice's contact, and
  // the 200 back to bob2 on its flow.
  send(kBob2, from_bob2_in_dialog("BYE", record_route, 1, "z9hG4bKb2bye"));
  EXPECT_EQ(sent(), (Lines{"BYE -> alice"}));
  EXPECT_FALSE(last("alice", "BYE").message.find(HeaderId::route));
  answer(kAlice, "BYE", 200, "OK");
  EXPECT_EQ(sent(), (Lines{"200 -> bob2"}));
  EXPECT_EQ(last("bob2", "200").to.flow, 42U);

  expect_all_freed();
}

TEST_F(CoreTest, EveryTwoHundredIsForwardedEvenAfterTheFirst) {
  send(kAlice, Req{});
  sent();
  answer(kBob1, "INVITE", 200, "OK");
  answer(kBob2, "INVITE", 200, "OK");  // raced our CANCEL
  answer(kBob2, "INVITE", 200, "OK");  // and is retransmitted
  EXPECT_EQ(sent(), (Lines{"200 -> alice", "200 -> alice", "200 -> alice"}));
  expect_all_freed();
}

TEST_F(CoreTest, CancelFromUpstreamAnswers487AndCancelsEveryBranch) {
  send(kAlice, Req{});
  answer(kBob1, "INVITE", 180, "Ringing");
  sent();
  Req cancel;
  cancel.method = "CANCEL";
  cancel.auth = "";
  send(kAlice, cancel);
  // bob2 has not answered yet: its CANCEL waits for a provisional (§9.1).
  EXPECT_EQ(sent(), (Lines{"200 -> alice", "487 -> alice", "CANCEL -> bob1"}));
  answer(kBob2, "INVITE", 100, "Trying");
  EXPECT_EQ(sent(), (Lines{"CANCEL -> bob2"}));
  answer(kBob1, "CANCEL", 200, "OK");
  answer(kBob2, "CANCEL", 200, "OK");
  answer(kBob1, "INVITE", 487, "Request Terminated");
  answer(kBob2, "INVITE", 487, "Request Terminated");
  EXPECT_EQ(sent(), (Lines{"ACK -> bob1", "ACK -> bob2"}));

  // Alice ACKs the 487: absorbed by the server transaction.
  Req ack;
  ack.method = "ACK";
  ack.to = std::string(*last("alice", "487").message.value(HeaderId::to));
  ack.auth = "";
  send(kAlice, ack);
  EXPECT_EQ(sent(), Lines{});
  expect_all_freed();
}

TEST_F(CoreTest, CancelForNothingIs481) {
  Req cancel;
  cancel.method = "CANCEL";
  cancel.auth = "";
  send(kAlice, cancel);
  EXPECT_EQ(sent(), (Lines{"481 -> alice"}));
}

TEST_F(CoreTest, AllBranchesFailTheBestResponseGoesUpstream) {
  send(kAlice, Req{});
  sent();
  answer(kBob1, "INVITE", 486, "Busy Here");
  EXPECT_EQ(sent(), (Lines{"ACK -> bob1"}));
  answer(kBob2, "INVITE", 503, "Service Unavailable");
  EXPECT_EQ(sent(), (Lines{"ACK -> bob2", "486 -> alice"}));
  EXPECT_EQ(last("alice", "486").message.values(HeaderId::via).size(), 1U);
  expect_all_freed();
}

TEST_F(CoreTest, ABranch503Becomes500UnlessTheSiteItselfAnsweredIt) {
  location.bindings["bob"] = {binding(kBob1)};
  for (const bool by_site : {false, true}) {
    SCOPED_TRACE(by_site ? "the site's own 503" : "a phone's 503");
    Req r;
    r.call_id = by_site ? "call-site@10.0.0.2" : "call-phone@10.0.0.2";
    r.branch = by_site ? "z9hG4bKsite" : "z9hG4bKphone";
    send(kAlice, r);
    deliver();
    auto busy = make_response(last("bob1", "INVITE").message, 503, "Service Unavailable", "bob1tag");
    // The site answers in a phone's place with itself as the Warning's agent
    // (server/edge media_refusal.hpp); a phone may name anyone else.
    busy.add_header("Warning", by_site ? "399 site.example \"no free media ports\"" : "399 bob-phone \"overloaded\"");
    send(kBob1, serialize(busy));
    EXPECT_EQ(sent(),
              (Lines{"100 -> alice", "INVITE -> bob1", "ACK -> bob1", by_site ? "503 -> alice" : "500 -> alice"}));
  }
  expect_all_freed();
}

TEST_F(CoreTest, SixHundredEndsTheSearch) {
  send(kAlice, Req{});
  answer(kBob2, "INVITE", 180, "Ringing");
  sent();
  answer(kBob1, "INVITE", 603, "Decline");
  EXPECT_EQ(sent(), (Lines{"ACK -> bob1", "603 -> alice", "CANCEL -> bob2"}));
  expect_all_freed();
}

TEST_F(CoreTest, PhoneThatDisappearsTimesOutTo408) {
  location.bindings["bob"] = {binding(kBob1)};
  send(kAlice, Req{});
  EXPECT_EQ(sent(), (Lines{"100 -> alice", "INVITE -> bob1"}));
  timers.advance(500ms);  // UDP: Timer A retransmits to the silent phone
  EXPECT_EQ(sent(), (Lines{"INVITE -> bob1"}));
  timers.advance(32s);  // Timer B
  const auto lines = sent();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "408 -> alice");
  expect_all_freed();
}

TEST_F(CoreTest, OneBranchTimesOutTheOtherAnswersBusy) {
  send(kAlice, Req{});
  sent();
  answer(kBob2, "INVITE", 486, "Busy Here");
  EXPECT_EQ(sent(), (Lines{"ACK -> bob2"}));
  timers.advance(33s);
  const auto lines = sent();
  EXPECT_EQ(lines.back(), "486 -> alice");  // a real answer beats the made-up 408
}

TEST_F(CoreTest, TimerCCancelsABranchThatRingsForever) {
  location.bindings["bob"] = {binding(kBob2)};
  send(kAlice, Req{});
  answer(kBob2, "INVITE", 180, "Ringing");
  EXPECT_EQ(sent(), (Lines{"100 -> alice", "INVITE -> bob2", "180 -> alice"}));
  timers.advance(179s);
  EXPECT_EQ(sent(), Lines{});
  timers.advance(1s);
  EXPECT_EQ(sent(), (Lines{"CANCEL -> bob2", "408 -> alice"}));
  answer(kBob2, "CANCEL", 200, "OK");
  expect_all_freed();
}

TEST_F(CoreTest, LostInviteIsRetransmittedOnlyOverUdp) {
  send(kAlice, Req{});
  sent();
  timers.advance(500ms);
  EXPECT_EQ(sent(), (Lines{"INVITE -> bob1"}));  // bob2 is on TCP: no Timer A
  send(kAlice, Req{});                           // alice retransmits too: absorbed, 100 again
  EXPECT_EQ(sent(), (Lines{"100 -> alice"}));
}

TEST_F(CoreTest, SendFailureFailsTheBranch) {
  send(kAlice, Req{});
  sent();
  core.on_send_failed(Destination{kBob2.ep, 42});
  answer(kBob1, "INVITE", 486, "Busy Here");
  EXPECT_EQ(sent(), (Lines{"ACK -> bob1", "486 -> alice"}));
  core.on_flow_closed(42);
  expect_all_freed();
}

TEST_F(CoreTest, UnknownUserIs404UnregisteredIs480) {
  Req r;
  r.uri = "sip:dave@site.example";
  r.to = "<sip:dave@site.example>";
  send(kAlice, r);
  EXPECT_EQ(sent(), (Lines{"404 -> alice"}));
  r.uri = "sip:carol@site.example";
  r.to = "<sip:carol@site.example>";
  r.branch = "z9hG4bKa2";
  send(kAlice, r);
  EXPECT_EQ(sent(), (Lines{"480 -> alice"}));
  EXPECT_EQ(last("alice", "480").message.reason_phrase(), "Temporarily Unavailable");
}

TEST_F(CoreTest, UnauthenticatedIsChallengedAndNeverReachesAPhone) {
  Req r;
  r.auth = "";
  send(kAlice, r);
  EXPECT_EQ(sent(), (Lines{"407 -> alice"}));
  EXPECT_EQ(auth.calls, (std::vector<bool>{true}));  // proxy authentication
  EXPECT_TRUE(last("alice", "407").message.find(HeaderId::proxy_authenticate));

  Req m;
  m.method = "MESSAGE";
  m.auth = "";
  m.branch = "z9hG4bKa2";
  send(kAlice, m);
  EXPECT_EQ(sent(), (Lines{"407 -> alice"}));

  auth.rate_limit = true;  // a flood: silence
  m.branch = "z9hG4bKa3";
  send(kAlice, m);
  EXPECT_EQ(sent(), Lines{});
}

TEST_F(CoreTest, FromMustBeTheAuthenticatedUser) {
  Req r;
  r.auth = "carol";  // carol's credentials, alice's From
  send(kAlice, r);
  EXPECT_EQ(sent(), (Lines{"403 -> alice"}));
}

TEST_F(CoreTest, MaxForwardsZeroIs483) {
  Req r;
  r.max_forwards = "0";
  send(kAlice, r);
  EXPECT_EQ(sent(), (Lines{"483 -> alice"}));
}

TEST_F(CoreTest, MessageIsForkedAndTheFirst2xxAnswers) {
  Req m;
  m.method = "MESSAGE";
  send(kAlice, m);
  EXPECT_EQ(sent(), (Lines{"MESSAGE -> bob1", "MESSAGE -> bob2"}));  // no 100 for non-INVITE
  EXPECT_FALSE(last("bob1", "MESSAGE").message.find(HeaderId::record_route));
  answer(kBob2, "MESSAGE", 200, "OK");
  EXPECT_EQ(sent(), (Lines{"200 -> alice"}));
  answer(kBob1, "MESSAGE", 200, "OK");
  EXPECT_EQ(sent(), Lines{});  // non-INVITE: only one final upstream
  expect_all_freed();
}

TEST_F(CoreTest, OtherDomainsAreRefusedUntilFederation) {
  Req r;
  r.uri = "sip:bob@elsewhere.example";
  r.to = "<sip:bob@elsewhere.example>";
  send(kAlice, r);
  EXPECT_EQ(sent(), (Lines{"403 -> alice"}));
  EXPECT_EQ(last("alice", "403").message.reason_phrase(), "Forbidden (not a domain of a trusted peer site)");
}

TEST_F(CoreTest, ViaIsStampedWithReceivedAndRport) {
  const Phone natted{"natted", {Protocol::udp, "203.0.113.5", 40000}, 0, ""};
  Req m;
  m.method = "MESSAGE";
  m.via_host = "192.168.1.9:5060";
  send(natted, m);
  sent();
  const auto vias = last("bob1", "MESSAGE").message.values(HeaderId::via);
  ASSERT_EQ(vias.size(), 2U);
  EXPECT_EQ(vias[1], "SIP/2.0/UDP 192.168.1.9:5060;branch=z9hG4bKa1;received=203.0.113.5;rport=40000");
  answer(kBob1, "MESSAGE", 200, "OK");
  EXPECT_EQ(sent(), (Lines{"200 -> 203.0.113.5:40000"}));  // back through the NAT
}

TEST_F(CoreTest, Ipv6SourceIsStampedAndAnswered) {
  const Phone v6{"v6", {Protocol::udp, "2001:db8::9", 5062}, 0, ""};
  Req m;
  m.method = "MESSAGE";
  m.via_host = "[2001:db8::9]:5060";
  send(v6, m);
  EXPECT_EQ(sent(), (Lines{"MESSAGE -> bob1", "MESSAGE -> bob2"}));
  const auto vias = last("bob1", "MESSAGE").message.values(HeaderId::via);
  ASSERT_EQ(vias.size(), 2U);
  EXPECT_EQ(vias[1], "SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bKa1;received=[2001:db8::9];rport=5062");
  answer(kBob1, "MESSAGE", 200, "OK");
  EXPECT_EQ(sent(), (Lines{"200 -> 2001:db8::9:5062"}));
}

TEST_F(CoreTest, GarbageIsAnswered400OrDropped) {
  core.receive("\x01\x02 hello", kAlice.ep, 0, kSiteUdp);
  EXPECT_EQ(sent(), Lines{});
  Req r;
  r.max_forwards = "many";
  send(kAlice, r);
  EXPECT_EQ(sent(), (Lines{"400 -> alice"}));
  core.receive("SIP/2.0 200 OK\r\nVia: garbage\r\n\r\n", kBob1.ep, 0, kSiteUdp);
  EXPECT_EQ(sent(), Lines{});
  core.receive(
      "INVITE sip:bob@site.example SIP/7.0\r\nVia: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKx\r\n"
      "From: <sip:a@site.example>;tag=1\r\nTo: <sip:b@site.example>\r\nCall-ID: x\r\n"
      "CSeq: 1 INVITE\r\n\r\n",
      kAlice.ep, 0, kSiteUdp);
  EXPECT_EQ(sent(), (Lines{"505 -> alice"}));
}

TEST_F(CoreTest, StrayResponsesAreDroppedExceptTwoHundredsToInvite) {
  const std::string stray_486 =
      "SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKgone\r\n"
      "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKa1;received=10.0.0.2;rport=5060\r\n"
      "From: <sip:alice@site.example>;tag=1\r\nTo: <sip:bob@site.example>;tag=2\r\nCall-ID: x\r\n"
      "CSeq: 1 INVITE\r\n\r\n";
  send(kBob1, stray_486);
  EXPECT_EQ(sent(), Lines{});
  std::string stray_200 = stray_486;
  stray_200.replace(8, 13, "200 OK");
  send(kBob1, stray_200);
  EXPECT_EQ(sent(), (Lines{"200 -> alice"}));
  EXPECT_EQ(last("alice", "200").message.values(HeaderId::via).size(), 1U);
  // Not through us: dropped.
  std::string foreign = stray_200;
  foreign.replace(foreign.find("10.0.0.1:5060"), 13, "10.9.9.9:5060");
  send(kBob1, foreign);
  EXPECT_EQ(sent(), Lines{});
}

TEST_F(CoreTest, InDialogRequestsNeedOurDialogToken) {
  // A BYE that names us in its Route but was never record-routed by us
  // (forged, or with another dialog's token) does not reach the phone.
  Req bye;
  bye.method = "BYE";
  bye.uri = "sip:bob@10.0.0.3:5060";
  bye.to = "<sip:bob@site.example>;tag=bobtag";
  bye.auth = "";
  bye.extra = "Route: <sip:10.0.0.1:5060;transport=udp;lr>\r\n";
  send(kAlice, bye);
  EXPECT_EQ(sent(), (Lines{"403 -> alice"}));
  bye.branch = "z9hG4bKa2";
  bye.extra = "Route: <sip:10.0.0.1:5060;transport=udp;lr;rt=0123456789abcdef>\r\n";
  send(kAlice, bye);
  EXPECT_EQ(sent(), (Lines{"403 -> alice"}));
  Req ack = bye;
  ack.method = "ACK";
  ack.branch = "z9hG4bKa3";
  send(kAlice, ack);
  EXPECT_EQ(sent(), Lines{});
  // Nor may a pre-loaded route use us as a relay to somewhere else.
  Req relay;
  relay.branch = "z9hG4bKa4";
  relay.extra = "Route: <sip:10.0.0.1;lr>, <sip:198.51.100.7;lr>\r\n";
  send(kAlice, relay);
  EXPECT_EQ(sent(), (Lines{"403 -> alice"}));
}

TEST_F(CoreTest, ForeignRouteIsNotRelayed) {
  Req r;
  r.extra = "Route: <sip:10.9.9.9;lr>\r\n";
  send(kAlice, r);
  EXPECT_EQ(sent(), (Lines{"403 -> alice"}));
}

TEST_F(CoreTest, OutboundProxyRouteIsPoppedAndTheRequestRoutedLocally) {
  Req r;
  r.extra = "Route: <sip:10.0.0.1;lr>\r\n";
  send(kAlice, r);
  EXPECT_EQ(sent(), (Lines{"100 -> alice", "INVITE -> bob1", "INVITE -> bob2"}));
  EXPECT_FALSE(last("bob1", "INVITE").message.find(HeaderId::route));
}

// The site at 10.0.0.1 is also reached on 127.0.0.1 (a wildcard listener)
// and by an alias: an outbound proxy naming either is the site's.
class CoreReachedManyWaysTest : public CoreTest {
 protected:
  static CoreSettings many_ways() {
    CoreSettings s = settings();
    s.receiving = {kSiteUdp, kSiteTcp, {Protocol::udp, "127.0.0.1", 5060}, {Protocol::tcp, "127.0.0.1", 5060}};
    s.aliases = {"pbx.site.example"};
    return s;
  }
  Core many{many_ways(), sender, timers, timers, random, directory, auth, location, registrar, counters};
};

TEST_F(CoreReachedManyWaysTest, ARouteToAnyAddressOrAliasOfTheSiteIsPopped) {
  int n = 0;
  for (const std::string route :
       {"<sip:127.0.0.1:5060;lr>", "<sip:127.0.0.1;lr>", "<sip:pbx.site.example;lr>", "<sip:10.0.0.1;lr>"}) {
    Req r;
    r.branch = "z9hG4bKmany" + std::to_string(++n);
    r.call_id = "many-" + std::to_string(n);
    r.extra = "Route: " + route + "\r\n";
    many.receive(r.text(), kAlice.ep, 0, kSiteUdp);
    EXPECT_EQ(sent(), (Lines{"100 -> alice", "INVITE -> bob1", "INVITE -> bob2"})) << route;
  }
  // Another port of the same machine is not the site.
  Req r;
  r.branch = "z9hG4bKother";
  r.call_id = "other";
  r.extra = "Route: <sip:127.0.0.1:5070;lr>\r\n";
  many.receive(r.text(), kAlice.ep, 0, kSiteUdp);
  EXPECT_EQ(sent(), (Lines{"403 -> alice"}));
}

TEST_F(CoreTest, CountersSeeRequestsAndResponses) {
  Req r;
  r.method = "OPTIONS";
  r.uri = "sip:site.example";
  send(kAlice, r);
  sent();
  const auto text = counters.prometheus();
  EXPECT_NE(text.find("OPTIONS"), std::string::npos);
}

// --- call records and stored messages

class RecordingCalls final : public CallObserver {
 public:
  void call_started(const CallStart& c) override {
    events.push_back("start " + c.caller + " -> " + c.callee + " " +
                     (c.direction == CallStart::Direction::local ? "local" : "other") + " from " + c.source_ip);
  }
  void call_answered(std::string_view id) override { events.push_back("answered " + std::string(id)); }
  void call_failed(std::string_view id, int status, std::string_view reason) override {
    events.push_back("failed " + std::string(id) + " " + std::to_string(status) + " " + std::string(reason));
  }
  void call_hung_up(std::string_view id, std::string_view by) override {
    events.push_back("bye " + std::string(id) + " by " + std::string(by));
  }
  void call_refused(const CallStart& c, int status, std::string_view reason) override {
    events.push_back("refused " + c.caller + " -> " + c.callee + " " +
                     (c.direction == CallStart::Direction::local ? "local" : "other") + " " + std::to_string(status) +
                     " " + std::string(reason));
  }
  std::vector<std::string> events;
};

class ManualMessageStore final : public MessageStore {
 public:
  void store(OfflineMessage m, std::function<void(int, std::string)> done) override {
    stored.push_back(std::move(m));
    pending.push_back(std::move(done));
  }
  std::vector<OfflineMessage> stored;
  std::vector<std::function<void(int, std::string)>> pending;
};

class CoreRecordsTest : public CoreTest {
 protected:
  CoreRecordsTest() {
    core.set_call_observer(&calls);
    core.set_message_store(&store);
  }
  RecordingCalls calls;
  ManualMessageStore store;
};

TEST_F(CoreRecordsTest, AnsweredCallThenHangUpIsRecordedOnce) {
  send(kAlice, Req{});
  sent();
  answer(kBob1, "INVITE", 180, "Ringing");
  answer(kBob1, "INVITE", 200, "OK");
  answer(kBob1, "INVITE", 200, "OK");  // a retransmitted 2xx is not a second answer
  Req bye;
  bye.method = "BYE";
  bye.uri = "sip:bob@10.0.0.3:5060";
  bye.to = "<sip:bob@site.example>;tag=bob1tag";
  bye.branch = "z9hG4bKbye";
  bye.cseq = 2;
  bye.auth = "";
  bye.extra = "Route: " + std::string(*last("alice", "200").message.value(HeaderId::record_route)) + "\r\n";
  send(kAlice, bye);
  EXPECT_EQ(calls.events,
            (std::vector<std::string>{"start alice@site.example -> bob@site.example local from 10.0.0.2",
                                      "answered call-1@10.0.0.2", "bye call-1@10.0.0.2 by alice@site.example"}));
}

TEST_F(CoreRecordsTest, FailedAttemptsAreRecordedWithTheirStatus) {
  // Nobody registered: 480. Unknown user: 404, refused by the site.
  location.bindings.erase("bob");
  send(kAlice, Req{});
  Req unknown;
  unknown.uri = "sip:zed@site.example";
  unknown.branch = "z9hG4bKz";
  unknown.call_id = "call-2@10.0.0.2";
  send(kAlice, unknown);
  EXPECT_EQ(calls.events,
            (std::vector<std::string>{"start alice@site.example -> bob@site.example local from 10.0.0.2",
                                      "failed call-1@10.0.0.2 480 Temporarily Unavailable",
                                      "refused alice@site.example -> zed@site.example local 404 Not Found"}));
}

TEST_F(CoreRecordsTest, EveryRefusedAttemptIsRecordedOnceButChallengesAreNot) {
  Req route;
  route.extra = "Route: <sip:10.9.9.9;lr>\r\n";
  send(kAlice, route);
  Req challenged;  // 407: the phone will try again, with credentials
  challenged.auth = "";
  challenged.branch = "z9hG4bKc";
  challenged.call_id = "call-3@10.0.0.2";
  send(kAlice, challenged);
  Req impostor;  // authenticated as alice, From says bob
  impostor.from = "bob";
  impostor.branch = "z9hG4bKi";
  impostor.call_id = "call-4@10.0.0.2";
  send(kAlice, impostor);
  Req hops;
  hops.max_forwards = "0";
  hops.branch = "z9hG4bKh";
  hops.call_id = "call-5@10.0.0.2";
  send(kAlice, hops);
  Req outside;  // another domain, no federation
  outside.uri = "sip:carol@beta.example";
  outside.branch = "z9hG4bKo";
  outside.call_id = "call-6@10.0.0.2";
  send(kAlice, outside);
  EXPECT_EQ(sent(), (Lines{"403 -> alice", "407 -> alice", "403 -> alice", "483 -> alice", "403 -> alice"}));
  ASSERT_EQ(calls.events.size(), 5u);
  EXPECT_EQ(calls.events[0],
            "refused alice@site.example -> bob@site.example local 403 Forbidden (Route does not go through this site)");
  EXPECT_EQ(calls.events[1],
            "refused bob@site.example -> bob@site.example local 403 Forbidden (From is not the authenticated user)");
  EXPECT_EQ(calls.events[2], "refused alice@site.example -> bob@site.example local 483 Too Many Hops");
  EXPECT_EQ(calls.events[3], "start alice@site.example -> carol@beta.example other from 10.0.0.2");
  EXPECT_EQ(calls.events[4].substr(0, 29), "failed call-6@10.0.0.2 403 Fo");
}

TEST_F(CoreRecordsTest, AFloodOfRefusedAttemptsFromOneSourceIsAnsweredButNotAllRecorded) {
  const auto refused_from = [&](const Phone& p, int n) {
    Req r;
    r.branch = "z9hG4bKflood" + p.name + std::to_string(n);
    r.call_id = "flood-" + p.name + std::to_string(n);
    r.extra = "Route: <sip:10.9.9.9;lr>\r\n";
    send(p, r);
  };
  for (int n = 0; n < 100; ++n) refused_from(kAlice, n);
  EXPECT_EQ(sent().size(), 100u);       // every one answered 403
  EXPECT_EQ(calls.events.size(), 60u);  // the burst is recorded, the rest not
  refused_from(kBob1, 0);               // another source is not held back
  EXPECT_EQ(calls.events.size(), 61u);
  timers.advance(std::chrono::minutes(2));  // the cool-down ends
  refused_from(kAlice, 100);
  EXPECT_EQ(calls.events.size(), 62u);
}

TEST_F(CoreRecordsTest, CancelledCallIsRecordedAs487) {
  send(kAlice, Req{});
  sent();
  answer(kBob1, "INVITE", 180, "Ringing");
  Req cancel;
  cancel.method = "CANCEL";
  cancel.auth = "";
  send(kAlice, cancel);
  ASSERT_EQ(calls.events.size(), 2u);
  EXPECT_EQ(calls.events[1], "failed call-1@10.0.0.2 487 Request Terminated");
}

TEST_F(CoreRecordsTest, MessageForAnOfflineUserIsStoredAndAnsweredWhenTheStoreSays) {
  Req m;
  m.method = "MESSAGE";
  m.uri = "sip:carol@site.example";
  m.to = "<sip:carol@site.example>";
  m.extra = "Content-Type: text/plain\r\n";
  send(kAlice, m);
  EXPECT_EQ(sent(), Lines{});  // no answer until the store has spoken
  ASSERT_EQ(store.stored.size(), 1u);
  EXPECT_EQ(store.stored[0].recipient, "carol");
  EXPECT_EQ(store.stored[0].sender, "alice@site.example");
  EXPECT_EQ(store.stored[0].content_type, "text/plain");
  EXPECT_EQ(store.stored[0].body, "body");
  send(kAlice, m);  // a retransmission meanwhile is absorbed, not stored twice
  EXPECT_EQ(store.stored.size(), 1u);
  store.pending[0](202, "Accepted (stored for delivery)");
  EXPECT_EQ(sent(), (Lines{"202 -> alice"}));

  m.branch = "z9hG4bKfull";
  m.call_id = "call-full";
  send(kAlice, m);
  store.pending[1](480, "Temporarily Unavailable (message store full)");
  EXPECT_EQ(sent(), (Lines{"480 -> alice"}));
  EXPECT_EQ(last("alice", "480").message.reason_phrase(), "Temporarily Unavailable (message store full)");
  expect_all_freed();
}

TEST_F(CoreRecordsTest, DeliveryGoesToEveryPhoneAndReportsOnce) {
  OfflineMessage m{"bob", "dave@beta.example", "text/plain", "hello"};
  std::vector<bool> results;
  core.deliver("bob", m, [&](bool ok) { results.push_back(ok); });
  EXPECT_EQ(sent(), (Lines{"MESSAGE -> bob1", "MESSAGE -> bob2"}));
  const Message got = last("bob1", "MESSAGE").message;
  EXPECT_EQ(got.body(), "hello");
  EXPECT_EQ(got.request_uri(), kBob1.contact);
  EXPECT_NE(got.value(HeaderId::from)->find("sip:dave@beta.example"), std::string_view::npos);
  EXPECT_NE(got.value(HeaderId::to)->find("sip:bob@site.example"), std::string_view::npos);
  answer(kBob1, "MESSAGE", 200, "OK");
  EXPECT_TRUE(results.empty());  // bob2 has not answered yet
  answer(kBob2, "MESSAGE", 486, "Busy Here");
  EXPECT_EQ(results, std::vector<bool>{true});

  // Nobody registered: false, later (not from inside deliver()).
  core.deliver("carol", m, [&](bool ok) { results.push_back(ok); });
  EXPECT_EQ(results.size(), 1u);
  timers.advance(1ms);
  EXPECT_EQ(results, (std::vector<bool>{true, false}));
  // A phone that never answers: false after the transaction times out.
  core.deliver("alice", m, [&](bool ok) { results.push_back(ok); });
  timers.advance(40s);
  EXPECT_EQ(results, (std::vector<bool>{true, false, false}));
  expect_all_freed();
}

// --- a clean stop (SIGTERM): every call ends with a BYE to both parties

TEST_F(CoreRecordsTest, CleanStopSaysGoodbyeToBothPartiesOfEveryCall) {
  send(kAlice, Req{});
  answer(kBob1, "INVITE", 180, "Ringing");
  answer(kBob2, "INVITE", 200, "OK");
  sent();
  answer(kBob1, "CANCEL", 200, "OK");
  answer(kBob1, "INVITE", 487, "Request Terminated");
  const Message ok = last("alice", "200").message;
  const std::string record_route(*ok.value(HeaderId::record_route));
  // Bob sends something in the dialog with a high CSeq: the site's BYE on
  // his behalf must be above it.
  send(kBob2, from_bob2_in_dialog("INFO", record_route, 41, "z9hG4bKb2info"));
  answer(kAlice, "INFO", 200, "OK");
  sent();
  ASSERT_EQ(core.confirmed_dialogs(), 1U);

  EXPECT_EQ(core.end_calls("site shutting down"), 1U);
  EXPECT_EQ(sent(), (Lines{"BYE -> alice", "BYE -> bob2"}));
  const Message to_alice = last("alice", "BYE").message;
  EXPECT_EQ(to_alice.request_uri(), "sip:alice@10.0.0.2:5060");
  EXPECT_EQ(*to_alice.value(HeaderId::from), "<sip:bob@site.example>;tag=bob2tag");
  EXPECT_EQ(*to_alice.value(HeaderId::to), "<sip:alice@site.example>;tag=alicetag");
  EXPECT_EQ(*to_alice.value(HeaderId::call_id), "call-1@10.0.0.2");
  EXPECT_EQ(*to_alice.value(HeaderId::cseq), "42 BYE");
  EXPECT_EQ(*to_alice.value(HeaderId::reason), "SIP;cause=503;text=\"site shutting down\"");
  EXPECT_EQ(to_alice.values(HeaderId::via).size(), 1U);
  EXPECT_TRUE(to_alice.values(HeaderId::via)[0].starts_with("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK"));
  const auto& to_bob = last("bob2", "BYE");
  EXPECT_EQ(to_bob.to.flow, 42U);  // the flow the call was set up on
  EXPECT_EQ(to_bob.message.request_uri(), "sip:bob@10.0.0.4:5070;transport=tcp");
  EXPECT_EQ(*to_bob.message.value(HeaderId::from), "<sip:alice@site.example>;tag=alicetag");
  EXPECT_EQ(*to_bob.message.value(HeaderId::to), "<sip:bob@site.example>;tag=bob2tag");
  EXPECT_EQ(*to_bob.message.value(HeaderId::cseq), "2 BYE");
  EXPECT_EQ(calls.events.back(), "bye call-1@10.0.0.2 by site.example");

  EXPECT_EQ(core.pending_goodbyes(), 2U);
  answer(kAlice, "BYE", 200, "OK");
  EXPECT_EQ(core.pending_goodbyes(), 1U);
  answer(kBob2, "BYE", 481, "Call/Transaction Does Not Exist");  // any final answer will do
  EXPECT_EQ(core.pending_goodbyes(), 0U);
  EXPECT_EQ(sent(), Lines{});  // answers to our own BYEs go nowhere
  EXPECT_EQ(core.confirmed_dialogs(), 0U);
  expect_all_freed();
}

TEST_F(CoreTest, CleanStopForgetsCallsThatAlreadyHungUp) {
  send(kAlice, Req{});
  answer(kBob1, "INVITE", 200, "OK");
  sent();
  Req bye;
  bye.method = "BYE";
  bye.uri = "sip:bob@10.0.0.3:5060";
  bye.to = "<sip:bob@site.example>;tag=bob1tag";
  bye.branch = "z9hG4bKbye";
  bye.cseq = 2;
  bye.auth = "";
  bye.extra = "Route: " + std::string(*last("alice", "200").message.value(HeaderId::record_route)) + "\r\n";
  send(kAlice, bye);
  answer(kBob1, "BYE", 200, "OK");
  sent();
  EXPECT_EQ(core.confirmed_dialogs(), 0U);
  EXPECT_EQ(core.end_calls("site shutting down"), 0U);
  EXPECT_EQ(sent(), Lines{});
  EXPECT_EQ(core.pending_goodbyes(), 0U);
  expect_all_freed();
}

TEST_F(CoreTest, CleanStopAnswersRingingCalls503AndRefusesNewOnes) {
  send(kAlice, Req{});
  answer(kBob1, "INVITE", 180, "Ringing");
  sent();
  EXPECT_EQ(core.end_calls("site shutting down"), 0U);
  const Lines out = sent();
  EXPECT_EQ(out, (Lines{"503 -> alice", "CANCEL -> bob1"}));
  EXPECT_EQ(last("alice", "503").message.reason_phrase(), "Service Unavailable (site shutting down)");
  answer(kBob1, "CANCEL", 200, "OK");
  answer(kBob1, "INVITE", 487, "Request Terminated");
  sent();

  Req again;
  again.branch = "z9hG4bKa9";
  again.call_id = "call-9@10.0.0.2";
  send(kAlice, again);
  EXPECT_EQ(sent(), (Lines{"503 -> alice"}));
  EXPECT_EQ(*last("alice", "503").message.value(HeaderId::retry_after), "30");
  expect_all_freed();
}

TEST_F(CoreTest, GoodbyesToPhonesThatAreGoneTimeOut) {
  send(kAlice, Req{});
  answer(kBob1, "INVITE", 200, "OK");
  sent();
  EXPECT_EQ(core.end_calls("site shutting down"), 1U);
  EXPECT_EQ(sent(), (Lines{"BYE -> alice", "BYE -> bob1"}));
  EXPECT_EQ(core.pending_goodbyes(), 2U);
  timers.advance(1min);  // UDP retransmissions, then Timer F
  sent();
  EXPECT_EQ(core.pending_goodbyes(), 0U);
  expect_all_freed();
}

}  // namespace
}  // namespace sipsite::sip
