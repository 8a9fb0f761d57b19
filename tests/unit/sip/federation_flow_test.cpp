// Two sites, alpha and beta, each a real Core with its EdgePrivacy at the
// federation boundary, joined by a simulated link (what the transport does:
// bytes in one side's outbound(), the other side's inbound(), its core).
// The phones are scripted here. Every message that crosses the link is
// kept, so the tests can check what a peer site gets to see.
//
//   alice  UDP 10.1.0.2:5060  at alpha.example (LAN 10.1.0.1)
//   bob    UDP 10.2.0.3:5060  at beta.example  (LAN 10.2.0.1)

#include "fake_sender.hpp"
#include "fake_services.hpp"
#include "sipsite/sip/message/accessors.hpp"
#include "sipsite/sip/core.hpp"
#include "sipsite/sip/edge/edge_privacy.hpp"
#include "sipsite/sip/manual_timers.hpp"
#include "sipsite/sip/message/parser.hpp"
#include "sipsite/sip/message/response.hpp"
#include "sipsite/sip/message/serializer.hpp"
#include "sipsite/sip/message/uri.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace sipsite::sip {
namespace {

using namespace std::chrono_literals;

constexpr FlowId kLink = (FlowId{1} << 63) | 7;

// The federation side of a site in these tests: the peer's domain is
// reached over the one link.
class LinkRouter final : public PeerRouter {
 public:
  LinkRouter(std::string peer, Endpoint remote) : peer_(std::move(peer)), remote_(std::move(remote)) {}
  PeerRoute route(const Inbound& request, std::string_view /*user*/) override {
    const auto uri = parse_uri(request.message.request_uri());
    if (uri && uri->is_sip() && iequals(uri->sip_uri.host, peer_) && up) {
      return PeerRoute{PeerRoute::Action::forward, 0, "", Destination{remote_, kLink}};
    }
    return PeerRoute{};
  }
  std::optional<Destination> next_hop(std::string_view host) override {
    if (iequals(host, peer_) && up) return Destination{remote_, kLink};
    return std::nullopt;
  }
  bool up = true;

 private:
  std::string peer_;
  Endpoint remote_;
};

struct Phone {
  std::string user;
  Endpoint ep;
  std::string contact;
};

struct Site {
  Site(std::string domain_, std::string lan_ip, std::string peer_, Endpoint fed_, Endpoint peer_fed, std::uint64_t seed,
       std::set<std::string> users)
      : domain(std::move(domain_)),
        peer(std::move(peer_)),
        lan{Protocol::udp, std::move(lan_ip), 5060},
        fed(std::move(fed_)),
        directory(domain, std::move(users)),
        router(peer, std::move(peer_fed)) {
    random.n = seed;
    CoreSettings cs;
    cs.local_domain = domain;
    cs.listeners = {lan};
    core = std::make_unique<Core>(cs, sender, timers, timers, random, directory, auth, location, registrar, counters,
                                  &router);
    EdgePrivacySettings es;
    es.local_domain = domain;
    edge = std::make_unique<EdgePrivacy>(es, timers, random);
  }

  void add(const Phone& p) {
    Binding b;
    b.contact = p.contact;
    b.destination = Destination{p.ep, 0};
    location.bindings[p.user] = {b};
  }

  std::string domain;
  std::string peer;
  Endpoint lan;
  Endpoint fed;
  ManualTimers timers;
  test::FakeSender sender;
  test::CountingRandom random;
  test::FakeDirectory directory;
  test::FakeAuthenticator auth;
  test::FakeLocation location;
  test::FakeRegistrar registrar;
  Counters counters;
  LinkRouter router;
  std::unique_ptr<Core> core;
  std::unique_ptr<EdgePrivacy> edge;
};

const Phone kAlice{"alice", {Protocol::udp, "10.1.0.2", 5060}, "sip:alice@10.1.0.2:5060"};
const Phone kBob{"bob", {Protocol::udp, "10.2.0.3", 5060}, "sip:bob@10.2.0.3:5060"};
const Endpoint kAlphaFed{Protocol::tls, "198.51.100.1", 5062};
const Endpoint kBetaFed{Protocol::tls, "203.0.113.2", 5062};

std::string header(const Message& m, std::string_view name) { return std::string(m.value(name).value_or("")); }

class FederationFlowTest : public ::testing::Test {
 protected:
  FederationFlowTest() {
    alpha.add(kAlice);
    beta.add(kBob);
  }

  Site alpha{"alpha.example", "10.1.0.1", "beta.example", kAlphaFed, kBetaFed, 0x100000, {"alice", "carol"}};
  Site beta{"beta.example", "10.2.0.1", "alpha.example", kBetaFed, kAlphaFed, 0x900000, {"bob"}};

  struct Crossing {
    std::string from_site;
    std::string bytes;
  };
  std::vector<Crossing> link;                           // every message on the link
  std::vector<std::pair<std::string, Message>> phones;  // what phones received: (user, message)
  std::vector<Message> refused;                         // what a hider refused to let in
  struct Named {
    std::string name;
    Endpoint ep;
  };
  std::vector<Named> known_phones{{"alice", kAlice.ep}, {"bob", kBob.ep}};

  Site& other(Site& s) { return &s == &alpha ? beta : alpha; }

  // Moves everything the sites sent until nothing moves (bounded).
  void pump() {
    for (int round = 0; round < 50; ++round) {
      bool moved = false;
      for (Site* s : {&alpha, &beta}) {
        for (auto& sent : s->sender.take()) {
          moved = true;
          if (sent.to.flow == kLink) {
            cross(*s, sent.message);
          } else {
            for (const auto& p : known_phones) {
              if (sent.to.endpoint == p.ep) phones.emplace_back(p.name, sent.message);
            }
          }
        }
      }
      if (!moved) return;
    }
    FAIL() << "messages kept moving";
  }

  void cross(Site& from, Message m) {
    if (!from.edge->outbound(m, from.peer)) return;
    const std::string bytes = serialize(m);
    link.push_back(Crossing{from.domain, bytes});
    Site& to = other(from);
    auto parsed = parse_datagram(bytes);
    ASSERT_TRUE(parsed) << bytes;
    if (const auto refusal = to.edge->inbound(*parsed, to.peer)) {
      refused.push_back(*parsed);
      return;
    }
    to.core->receive(Inbound{std::move(*parsed), from.fed, kLink, to.fed, from.domain});
  }

  // A message straight from the peer's link into `site`'s core, bypassing
  // the peer's own hider (a misbehaving peer).
  void from_peer(Site& site, const std::string& text) {
    auto m = parse_datagram(text);
    ASSERT_TRUE(m) << text;
    if (site.edge->inbound(*m, site.peer)) {
      refused.push_back(*m);
      return;
    }
    site.core->receive(Inbound{std::move(*m), other(site).fed, kLink, site.fed, site.peer});
  }

  void phone_sends(Site& site, const Phone& p, const Message& m) {
    site.core->receive(serialize(m), p.ep, 0, site.lan);
    pump();
  }

  // The last message `user`'s phone received that is `what` ("INVITE", "200").
  Message last(const std::string& user, const std::string& what) {
    for (auto it = phones.rbegin(); it != phones.rend(); ++it) {
      const Message& m = it->second;
      const std::string w = m.is_request() ? std::string(m.method()) : std::to_string(m.status_code());
      if (it->first == user && w == what) return m;
    }
    ADD_FAILURE() << user << " never received " << what;
    return Message{};
  }

  // The phone's answer to a request: Record-Route copied (RFC 3261 §12.1.1),
  // its Contact added.
  static Message answer(const Message& req, int code, const std::string& to_tag, const std::string& contact) {
    Message r = make_response(req, code, code == 200 ? "OK" : "Ringing", to_tag);
    for (const auto rr : req.values(HeaderId::record_route)) r.add_header("Record-Route", rr);
    if (!contact.empty()) r.add_header("Contact", "<" + contact + ">");
    r.add_header("Server", "DeskPhone 9.1 (serial 0xCAFE)");
    return r;
  }

  // An in-dialog request built from what a UA learned: remote target and
  // route set (the UAC reverses Record-Route, the UAS does not).
  static Message in_dialog(const std::string& method, const std::string& target, std::vector<std::string> route,
                           const std::string& from, const std::string& to, const std::string& call_id, int cseq,
                           const Phone& p) {
    Message m = Message::make_request(method, target);
    m.add_header(
        "Via", "SIP/2.0/UDP " + p.ep.host + ":5060;branch=z9hG4bK" + method + std::to_string(cseq) + p.user + ";rport");
    for (const auto& r : route) m.add_header("Route", r);
    m.add_header("Max-Forwards", "70");
    m.add_header("From", from);
    m.add_header("To", to);
    m.add_header("Call-ID", call_id);
    m.add_header("CSeq", std::to_string(cseq) + " " + method);
    m.add_header("User-Agent", "Softphone 1.2.3 (Linux; office-PC-17)");
    m.set_body("");
    return m;
  }

  static std::vector<std::string> values(const Message& m, HeaderId id) {
    const auto v = m.values(id);
    return {v.begin(), v.end()};
  }

  static std::string contact_uri(const Message& m) {
    const auto c = contact_headers(m);
    return c && !c->contacts.empty() ? std::string(c->contacts.front().uri.text) : std::string();
  }

  static std::string tag_of(const Message& m, HeaderId id) {
    const auto na = id == HeaderId::from ? from_header(m) : to_header(m);
    return na && na->tag() ? std::string(*na->tag()) : std::string();
  }

  Message alice_invite(const std::string& to_user = "bob", const std::string& domain = "beta.example") {
    Message m = Message::make_request("INVITE", "sip:" + to_user + "@" + domain);
    m.add_header("Via", "SIP/2.0/UDP 10.1.0.2:5060;branch=z9hG4bKinv1;rport");
    m.add_header("Max-Forwards", "70");
    m.add_header("From", "\"Alice\" <sip:alice@alpha.example>;tag=alicetag");
    m.add_header("To", "<sip:" + to_user + "@" + domain + ">");
    m.add_header("Call-ID", "call-a@10.1.0.2");
    m.add_header("CSeq", "1 INVITE");
    m.add_header("Contact", "<sip:alice@10.1.0.2:5060>");
    m.add_header("User-Agent", "Softphone 1.2.3 (Linux; office-PC-17)");
    m.add_header("X-Internal-Desk", "room 4.17");
    m.add_header("P-Access-Network-Info", "IEEE-802.11; i-wlan-node-id=ffffff");
    m.add_header("Proxy-Authorization", "Fake user=alice");
    m.add_header("Content-Type", "application/sdp");
    m.set_body("v=0\r\n");
    return m;
  }

  // alice calls bob and bob answers; the test is left with what each UA knows.
  struct Call {
    Message bob_invite;  // as bob received it
    Message alice_ok;    // as alice received the 200
  };
  Call establish() {
    phone_sends(alpha, kAlice, alice_invite());
    Call c;
    c.bob_invite = last("bob", "INVITE");
    phone_sends(beta, kBob, answer(c.bob_invite, 180, "bobtag", kBob.contact));
    phone_sends(beta, kBob, answer(c.bob_invite, 200, "bobtag", kBob.contact));
    c.alice_ok = last("alice", "200");
    // alice's ACK: Route from the reversed Record-Route, to bob's Contact as she sees it.
    auto rr = values(c.alice_ok, HeaderId::record_route);
    std::reverse(rr.begin(), rr.end());
    Message ack = in_dialog("ACK", contact_uri(c.alice_ok), rr, header(c.alice_ok, "From"), header(c.alice_ok, "To"),
                            "call-a@10.1.0.2", 1, kAlice);
    phone_sends(alpha, kAlice, ack);
    return c;
  }

  // alice hangs up: her BYE, as it reaches bob.
  Message alice_hangs_up(const Call& c) {
    auto rr = values(c.alice_ok, HeaderId::record_route);
    std::reverse(rr.begin(), rr.end());
    phone_sends(alpha, kAlice,
                in_dialog("BYE", contact_uri(c.alice_ok), rr, header(c.alice_ok, "From"), header(c.alice_ok, "To"),
                          "call-a@10.1.0.2", 2, kAlice));
    return last("bob", "BYE");
  }

  // Time passes at both sites, and each sweeps its mappings.
  void both_later(std::chrono::seconds d) {
    for (Site* site : {&alpha, &beta}) {
      site->timers.advance(d);
      site->edge->sweep();
    }
  }

  void expect_private_link() {
    for (const auto& c : link) {
      SCOPED_TRACE(c.bytes);
      for (const char* secret : {"10.1.", "10.2.", "call-a", "alicetag", "bobtag", "User-Agent", "Server:", "Softphone",
                                 "DeskPhone", "X-Internal", "P-Access", "Proxy-Authorization", ";rt="}) {
        EXPECT_EQ(c.bytes.find(secret), std::string::npos) << "leaked: " << secret;
      }
    }
  }
};

TEST_F(FederationFlowTest, CallAcrossSitesThenCalleeHangsUp) {
  const Call call = establish();
  const Message& inv = call.bob_invite;
  // bob sees the call as coming from alice@alpha, through his own site only.
  EXPECT_EQ(inv.request_uri(), kBob.contact);
  EXPECT_NE(header(inv, "From").find("sip:alice@alpha.example"), std::string::npos);
  const auto bob_rr = values(inv, HeaderId::record_route);
  ASSERT_EQ(bob_rr.size(), 1u);
  EXPECT_NE(bob_rr[0].find("10.2.0.1:5060"), std::string::npos);
  EXPECT_NE(contact_uri(inv).find("@alpha.example"), std::string::npos);
  EXPECT_EQ(inv.body(), "v=0\r\n");

  // alice's 200: her own Call-ID and tag, her site's Record-Route, bob's
  // Contact hidden behind beta.
  const Message& ok = call.alice_ok;
  EXPECT_EQ(header(ok, "Call-ID"), "call-a@10.1.0.2");
  EXPECT_EQ(tag_of(ok, HeaderId::from), "alicetag");
  const auto alice_rr = values(ok, HeaderId::record_route);
  ASSERT_EQ(alice_rr.size(), 1u);
  EXPECT_NE(alice_rr[0].find("10.1.0.1:5060"), std::string::npos);
  EXPECT_NE(contact_uri(ok).find("@beta.example"), std::string::npos);
  EXPECT_EQ(via_headers(ok)->size(), 1u);
  EXPECT_EQ(via_headers(ok)->front().host, "10.1.0.2");
  EXPECT_EQ(last("alice", "180").status_code(), 180);

  // The ACK reached bob with bob's view of the dialog.
  const Message ack = last("bob", "ACK");
  EXPECT_EQ(ack.request_uri(), kBob.contact);
  EXPECT_EQ(header(ack, "Call-ID"), header(inv, "Call-ID"));
  EXPECT_EQ(tag_of(ack, HeaderId::to), "bobtag");

  // bob hangs up: to alice's Contact as he knows it, through his site.
  Message bye = in_dialog("BYE", contact_uri(inv), values(inv, HeaderId::record_route),
                          header(inv, "To") + ";tag=bobtag", header(inv, "From"), header(inv, "Call-ID"), 5, kBob);
  phone_sends(beta, kBob, bye);
  const Message alice_bye = last("alice", "BYE");
  EXPECT_EQ(alice_bye.request_uri(), kAlice.contact);
  EXPECT_EQ(header(alice_bye, "Call-ID"), "call-a@10.1.0.2");
  EXPECT_EQ(tag_of(alice_bye, HeaderId::to), "alicetag");
  EXPECT_EQ(tag_of(alice_bye, HeaderId::from), tag_of(ok, HeaderId::to));
  phone_sends(alpha, kAlice, make_response(alice_bye, 200, "OK"));
  const Message bob_ok = last("bob", "200");
  EXPECT_EQ(cseq_header(bob_ok)->method, "BYE");
  EXPECT_EQ(header(bob_ok, "Call-ID"), header(inv, "Call-ID"));
  EXPECT_EQ(tag_of(bob_ok, HeaderId::from), "bobtag");
  EXPECT_EQ(std::string(*via_headers(bob_ok)->front().branch()), "z9hG4bKBYE5bob");

  EXPECT_TRUE(refused.empty());
  expect_private_link();
  // The link carried the Call-ID of neither phone, and one Via only.
  for (const auto& c : link) {
    const auto m = parse_datagram(c.bytes);
    ASSERT_TRUE(m);
    EXPECT_EQ(via_headers(*m)->size(), m->is_request() ? 1u : via_headers(*m)->size());
    EXPECT_EQ(m->count(HeaderId::record_route), 0u);
    EXPECT_EQ(m->count(HeaderId::route), 0u);
  }

  // Both mappings end a while after the BYE, and so do the Vias each
  // side kept for the answers to its requests (the INVITE's too: it was
  // answered, so only retransmissions could still come).
  both_later(40s);
  EXPECT_EQ(alpha.edge->dialog_count(), 0u);
  EXPECT_EQ(beta.edge->dialog_count(), 0u);
  EXPECT_EQ(alpha.edge->entries(), 0u);
  EXPECT_EQ(beta.edge->entries(), 0u);
}

TEST_F(FederationFlowTest, CallerHangsUp) {
  const Call call = establish();
  const Message bob_bye = alice_hangs_up(call);
  EXPECT_EQ(bob_bye.request_uri(), kBob.contact);
  EXPECT_EQ(tag_of(bob_bye, HeaderId::to), "bobtag");
  EXPECT_EQ(header(bob_bye, "Call-ID"), header(call.bob_invite, "Call-ID"));
  phone_sends(beta, kBob, make_response(bob_bye, 200, "OK"));
  const Message ok = last("alice", "200");
  EXPECT_EQ(cseq_header(ok)->method, "BYE");
  EXPECT_EQ(header(ok, "Call-ID"), "call-a@10.1.0.2");
  EXPECT_TRUE(refused.empty());
  expect_private_link();
}

// Sweeping costs what is due: a dialog is looked at again when its entry
// comes due, and one still in use is kept (its expiry moved on), however
// long past the few minutes a call may take to be set up.
TEST_F(FederationFlowTest, AnEstablishedCallOutlivesEverySweepUntilItsBye) {
  const Call call = establish();
  for (int minute = 0; minute < 6; ++minute) both_later(60s);
  EXPECT_EQ(alpha.edge->dialog_count(), 1u);
  EXPECT_EQ(beta.edge->dialog_count(), 1u);

  // Still mapped both ways after six minutes: the BYE reaches bob.
  phone_sends(beta, kBob, make_response(alice_hangs_up(call), 200, "OK"));
  EXPECT_EQ(cseq_header(last("alice", "200"))->method, "BYE");

  // Kept 32 s for retransmissions, then every entry of it is gone.
  both_later(20s);
  EXPECT_EQ(alpha.edge->dialog_count(), 1u);
  both_later(20s);
  EXPECT_EQ(alpha.edge->entries(), 0u);
  EXPECT_EQ(beta.edge->entries(), 0u);
  EXPECT_TRUE(refused.empty());
}

TEST_F(FederationFlowTest, MessageBothWays) {
  Message m = Message::make_request("MESSAGE", "sip:bob@beta.example");
  m.add_header("Via", "SIP/2.0/UDP 10.1.0.2:5060;branch=z9hG4bKmsg1;rport");
  m.add_header("Max-Forwards", "70");
  m.add_header("From", "<sip:alice@alpha.example>;tag=alicetag");
  m.add_header("To", "<sip:bob@beta.example>");
  m.add_header("Call-ID", "msg-1@10.1.0.2");
  m.add_header("CSeq", "1 MESSAGE");
  m.add_header("Proxy-Authorization", "Fake user=alice");
  m.add_header("User-Agent", "Softphone 1.2.3");
  m.add_header("Content-Type", "text/plain");
  m.set_body("lunch?");
  phone_sends(alpha, kAlice, m);
  const Message got = last("bob", "MESSAGE");
  EXPECT_EQ(got.body(), "lunch?");
  EXPECT_EQ(header(got, "Content-Type"), "text/plain");
  phone_sends(beta, kBob, make_response(got, 200, "OK", "bobtag"));
  const Message ok = last("alice", "200");
  EXPECT_EQ(header(ok, "Call-ID"), "msg-1@10.1.0.2");
  EXPECT_EQ(tag_of(ok, HeaderId::from), "alicetag");

  // And back: bob writes to alice.
  Message r = Message::make_request("MESSAGE", "sip:alice@alpha.example");
  r.add_header("Via", "SIP/2.0/UDP 10.2.0.3:5060;branch=z9hG4bKmsg2;rport");
  r.add_header("Max-Forwards", "70");
  r.add_header("From", "<sip:bob@beta.example>;tag=bobtag");
  r.add_header("To", "<sip:alice@alpha.example>");
  r.add_header("Call-ID", "msg-2@10.2.0.3");
  r.add_header("CSeq", "1 MESSAGE");
  r.add_header("Proxy-Authorization", "Fake user=bob");
  r.set_body("yes");
  phone_sends(beta, kBob, r);
  const Message got2 = last("alice", "MESSAGE");
  EXPECT_EQ(got2.body(), "yes");
  phone_sends(alpha, kAlice, make_response(got2, 200, "OK", "alicetag"));
  EXPECT_EQ(header(last("bob", "200"), "Call-ID"), "msg-2@10.2.0.3");
  EXPECT_TRUE(refused.empty());
  for (const auto& c : link) {
    for (const char* secret : {"10.1.", "10.2.", "msg-1", "msg-2", "alicetag", "bobtag", "Softphone"}) {
      EXPECT_EQ(c.bytes.find(secret), std::string::npos) << "leaked " << secret << " in " << c.bytes;
    }
  }
  // Out-of-dialog mappings are short-lived.
  alpha.timers.advance(40s);
  alpha.edge->sweep();
  EXPECT_EQ(alpha.edge->dialog_count(), 0u);
}

TEST_F(FederationFlowTest, PeerMaySpeakOnlyForItsOwnDomain) {
  const std::string base =
      "Via: SIP/2.0/TLS beta.example;branch=z9hG4bKspoof\r\n"
      "Max-Forwards: 70\r\n"
      "To: <sip:alice@alpha.example>\r\n"
      "Call-ID: spoof-1\r\n"
      "CSeq: 1 MESSAGE\r\n";
  // From another domain than the peer's.
  from_peer(alpha, "MESSAGE sip:alice@alpha.example SIP/2.0\r\n" + base +
                       "From: <sip:mallory@gamma.example>;tag=m1\r\nContent-Length: 0\r\n\r\n");
  // From its own domain but asserting another identity.
  from_peer(alpha, "MESSAGE sip:alice@alpha.example SIP/2.0\r\n" + base +
                       "From: <sip:bob@beta.example>;tag=m2\r\n"
                       "P-Asserted-Identity: <sip:ceo@alpha.example>\r\nContent-Length: 0\r\n\r\n");
  // To someone who is not a user here (no transit through alpha).
  from_peer(alpha, "MESSAGE sip:dave@gamma.example SIP/2.0\r\n" + base +
                       "From: <sip:bob@beta.example>;tag=m3\r\nContent-Length: 0\r\n\r\n");
  // Registering.
  from_peer(alpha,
            "REGISTER sip:alpha.example SIP/2.0\r\nVia: SIP/2.0/TLS beta.example;branch=z9hG4bKreg\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:bob@beta.example>;tag=r\r\nTo: <sip:bob@beta.example>\r\n"
            "Call-ID: reg-1\r\nCSeq: 1 REGISTER\r\nContact: <sip:bob@10.9.9.9>\r\nContent-Length: 0\r\n\r\n");
  std::vector<std::string> reasons;
  for (auto& s : alpha.sender.take()) {
    ASSERT_EQ(s.to.flow, kLink);
    ASSERT_TRUE(s.message.is_response());
    EXPECT_EQ(s.message.status_code(), 403);
    reasons.emplace_back(s.message.reason_phrase());
  }
  EXPECT_EQ(reasons, (std::vector<std::string>{"Forbidden (From is not of the peer's domain)",
                                               "Forbidden (P-Asserted-Identity is not of the peer's domain)",
                                               "Forbidden (not a user of this site)",
                                               "Forbidden (peer sites do not register)"}));
  EXPECT_TRUE(phones.empty());
  EXPECT_TRUE(alpha.registrar.seen.empty());
}

TEST_F(FederationFlowTest, PeerCannotUseSomeoneElsesDialogOrAnUnknownOne) {
  // An in-dialog request for a dialog that never existed.
  from_peer(alpha,
            "BYE sip:alice@alpha.example SIP/2.0\r\nVia: SIP/2.0/TLS beta.example;branch=z9hG4bKb1\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:bob@beta.example>;tag=x\r\nTo: <sip:alice@alpha.example>;tag=y\r\n"
            "Call-ID: nope\r\nCSeq: 9 BYE\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_TRUE(phones.empty());
  // A request that names a Route through alpha without its token is
  // refused by the core even if a peer tries it.
  const Call call = establish();
  (void)call;
  const std::size_t before = phones.size();
  from_peer(alpha,
            "INVITE sip:alice@10.1.0.2:5060 SIP/2.0\r\nVia: SIP/2.0/TLS beta.example;branch=z9hG4bKr1\r\n"
            "Route: <sip:10.1.0.1:5060;transport=udp;lr>\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:bob@beta.example>;tag=x\r\nTo: <sip:alice@alpha.example>\r\n"
            "Call-ID: relay-1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(phones.size(), before);
  bool forbidden = false;
  for (auto& s : alpha.sender.take()) forbidden |= s.message.status_code() == 403;
  EXPECT_TRUE(forbidden);
}

TEST_F(FederationFlowTest, LocalUserMustCallAsHimselfAndOnlyTrustedDomains) {
  Message spoof = alice_invite();
  spoof.set_header("From", "<sip:carol@alpha.example>;tag=c1");
  phone_sends(alpha, kAlice, spoof);
  EXPECT_EQ(std::string(last("alice", "403").reason_phrase()), "Forbidden (From is not the authenticated user)");
  EXPECT_TRUE(link.empty());

  Message other = alice_invite("dave", "gamma.example");
  other.set_header("Via", "SIP/2.0/UDP 10.1.0.2:5060;branch=z9hG4bKinv2;rport");
  other.set_header("Call-ID", "call-b@10.1.0.2");
  phone_sends(alpha, kAlice, other);
  EXPECT_EQ(std::string(last("alice", "403").reason_phrase()), "Forbidden (not a domain of a trusted peer site)");
  EXPECT_TRUE(link.empty());
}

TEST_F(FederationFlowTest, RevocationEndsTheCallOnTheLocalSide) {
  const Call call = establish();
  ASSERT_EQ(alpha.edge->established_dialogs("beta.example"), 1u);
  alpha.router.up = false;
  for (auto& bye : alpha.edge->end_dialogs("beta.example")) {
    alpha.core->receive(Inbound{std::move(bye), kBetaFed, kLink, kAlphaFed, "beta.example"});
  }
  pump();
  const Message b = last("alice", "BYE");
  EXPECT_EQ(b.request_uri(), kAlice.contact);
  EXPECT_EQ(header(b, "Call-ID"), "call-a@10.1.0.2");
  EXPECT_EQ(tag_of(b, HeaderId::to), "alicetag");
  EXPECT_EQ(tag_of(b, HeaderId::from), tag_of(call.alice_ok, HeaderId::to));
  EXPECT_EQ(alpha.edge->dialog_count(), 0u);
  // alice's 200 to it goes nowhere (the link is gone) without harm.
  phone_sends(alpha, kAlice, make_response(b, 200, "OK"));
}

TEST_F(FederationFlowTest, ForkedAnswerFromTwoPhonesMapsEachLeg) {
  // bob has a second phone; both ring, the second answers.
  const Phone bob2{"bob", {Protocol::udp, "10.2.0.4", 5060}, "sip:bob@10.2.0.4:5060"};
  Binding b2;
  b2.contact = bob2.contact;
  b2.destination = Destination{bob2.ep, 0};
  beta.location.bindings["bob"].push_back(b2);
  known_phones.push_back({"bob2", bob2.ep});
  phone_sends(alpha, kAlice, alice_invite());
  const Message inv1 = last("bob", "INVITE");
  const Message inv2 = last("bob2", "INVITE");
  phone_sends(beta, kBob, answer(inv1, 180, "bobtag", kBob.contact));
  phone_sends(beta, bob2, answer(inv2, 180, "bob2tag", bob2.contact));
  phone_sends(beta, bob2, answer(inv2, 200, "bob2tag", bob2.contact));
  // The desk phone is cancelled by beta; it answers 487 as phones do.
  const Message cancel = last("bob", "CANCEL");
  phone_sends(beta, kBob, make_response(cancel, 200, "OK"));
  phone_sends(beta, kBob, make_response(inv1, 487, "Request Terminated", "bobtag"));

  // alice saw two early legs with distinct (hidden) tags, and the answer of one.
  std::vector<std::string> tags;
  for (const auto& [user, m] : phones) {
    if (user == "alice" && m.is_response() && m.status_code() == 180) tags.push_back(tag_of(m, HeaderId::to));
  }
  ASSERT_EQ(tags.size(), 2u);
  EXPECT_NE(tags[0], tags[1]);
  const Message ok = last("alice", "200");
  EXPECT_EQ(header(ok, "Call-ID"), "call-a@10.1.0.2");
  EXPECT_EQ(tag_of(ok, HeaderId::to), tags[1]);
  EXPECT_NE(contact_uri(ok).find("@beta.example"), std::string::npos);

  // alice's BYE reaches the phone that answered.
  auto rr = values(ok, HeaderId::record_route);
  std::reverse(rr.begin(), rr.end());
  phone_sends(
      alpha, kAlice,
      in_dialog("BYE", contact_uri(ok), rr, header(ok, "From"), header(ok, "To"), "call-a@10.1.0.2", 2, kAlice));
  const Message bye = last("bob2", "BYE");
  EXPECT_EQ(bye.request_uri(), bob2.contact);
  EXPECT_EQ(tag_of(bye, HeaderId::to), "bob2tag");
  for (const auto& c : link) {
    for (const char* secret : {"10.1.", "10.2.", "call-a", "alicetag", "bobtag", "bob2tag"}) {
      EXPECT_EQ(c.bytes.find(secret), std::string::npos) << "leaked " << secret << " in " << c.bytes;
    }
  }
}

// Found by tests/fuzz/federation_fuzz (corpus/federation_fuzz/
// known-stray-2xx-bypasses-link): a 2xx that a forked phone sends for a
// peer's INVITE after the core's client transaction for its branch has
// ended (here Timer B: the phone never sent a provisional response) is a
// stray response the core forwards statelessly by its Via; it went to the
// peer's address on a new connection, past the link and EdgePrivacy, with
// the phone's Contact, Call-ID and tag.
TEST_F(FederationFlowTest, LateAnswerOfAForkedBranchLeavesOnlyThroughTheLink) {
  const Phone alice2{"alice", {Protocol::udp, "10.1.0.4", 5060}, "sip:alice@10.1.0.4:5060"};
  Binding b2;
  b2.contact = alice2.contact;
  b2.destination = Destination{alice2.ep, 0};
  alpha.location.bindings["alice"].push_back(b2);
  known_phones.push_back({"alice2", alice2.ep});

  Message inv = Message::make_request("INVITE", "sip:alice@alpha.example");
  inv.add_header("Via", "SIP/2.0/UDP 10.2.0.3:5060;branch=z9hG4bKbobinv;rport");
  inv.add_header("Max-Forwards", "70");
  inv.add_header("From", "<sip:bob@beta.example>;tag=bobtag");
  inv.add_header("To", "<sip:alice@alpha.example>");
  inv.add_header("Call-ID", "call-b@10.2.0.3");
  inv.add_header("CSeq", "1 INVITE");
  inv.add_header("Contact", "<sip:bob@10.2.0.3:5060>");
  inv.add_header("Proxy-Authorization", "Fake user=bob");
  inv.set_body("");
  phone_sends(beta, kBob, inv);
  const Message to_alice = last("alice", "INVITE");
  const Message to_alice2 = last("alice2", "INVITE");
  phone_sends(alpha, kAlice, answer(to_alice, 200, "alicetag", kAlice.contact));
  ASSERT_EQ(last("bob", "200").status_code(), 200);

  alpha.timers.advance(33s);  // Timer B ends the silent branch
  pump();
  alpha.core->receive(serialize(answer(to_alice2, 200, "alice2tag", alice2.contact)), alice2.ep, 0, alpha.lan);
  for (const auto& s : alpha.sender.sent) {
    const bool on_lan = s.to.endpoint.host.starts_with("10.1.");
    EXPECT_TRUE(s.to.flow == kLink || on_lan)
        << "sent to " << s.to.endpoint.host << ":" << s.to.endpoint.port << " flow " << s.to.flow << ":\n"
        << s.bytes;
  }
}

// The same from a hostile peer whose Via names an address, port and
// transport of its choosing (corpus/federation_fuzz/stray-2xx-ip-via):
// EdgePrivacy gives the core the Via the peer's edge privacy would have
// written, so nothing can steer a response past the link.
TEST_F(FederationFlowTest, PeerViaCannotSteerAStrayAnswerPastTheLink) {
  const Phone alice2{"alice", {Protocol::udp, "10.1.0.4", 5060}, "sip:alice@10.1.0.4:5060"};
  Binding b2;
  b2.contact = alice2.contact;
  b2.destination = Destination{alice2.ep, 0};
  alpha.location.bindings["alice"].push_back(b2);
  known_phones.push_back({"alice2", alice2.ep});

  from_peer(alpha,
            "INVITE sip:alice@alpha.example SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 203.0.113.2:9999;branch=z9hG4bKevil;rport, SIP/2.0/UDP 10.2.0.3:5060;branch=z9hG4bKb\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:bob@beta.example>;tag=x\r\nTo: <sip:alice@alpha.example>\r\n"
            "Call-ID: evil-1\r\nCSeq: 1 INVITE\r\nContact: <sip:t@beta.example;transport=tls>\r\n"
            "Content-Length: 0\r\n\r\n");
  ASSERT_TRUE(refused.empty());
  pump();
  const Message to_alice = last("alice", "INVITE");
  const Message to_alice2 = last("alice2", "INVITE");
  const auto vias = via_headers(to_alice);
  ASSERT_TRUE(vias);
  ASSERT_EQ(vias->size(), 3u);  // alpha's, then the peer's as its edge privacy writes it, then the rest
  EXPECT_EQ(vias->at(1).host, "beta.example");
  EXPECT_EQ(vias->at(1).transport, "TLS");
  EXPECT_EQ(vias->at(1).branch().value_or(""), "z9hG4bKevil");
  EXPECT_EQ(vias->at(2).host, "10.2.0.3");

  alpha.core->receive(serialize(answer(to_alice, 200, "alicetag", kAlice.contact)), kAlice.ep, 0, alpha.lan);
  alpha.timers.advance(33s);
  alpha.core->receive(serialize(answer(to_alice2, 200, "alice2tag", alice2.contact)), alice2.ep, 0, alpha.lan);
  std::size_t answers = 0;
  for (const auto& s : alpha.sender.sent) {
    EXPECT_TRUE(s.to.flow == kLink || s.to.endpoint.host.starts_with("10.1."))
        << "sent to " << s.to.endpoint.host << ":" << s.to.endpoint.port << " flow " << s.to.flow << ":\n"
        << s.bytes;
    if (s.to.flow == kLink && s.message.is_response() && s.message.status_code() == 200) ++answers;
  }
  EXPECT_EQ(answers, 2u);  // both phones' answers, over the link
}

// Found by tests/fuzz/federation_fuzz (corpus/federation_fuzz/
// stray-2xx-after-mapping-ended): a phone answering after the call attempt
// from the peer ended (408, mapping swept) had its 2xx sent on the link with
// its own To tag.
TEST(EdgePrivacyTest, AResponseOfNoMappingCarriesNoTagOfThePhone) {
  ManualTimers timers;
  test::CountingRandom random;
  EdgePrivacySettings settings;
  settings.local_domain = "alpha.example";
  EdgePrivacy edge(settings, timers, random);
  const std::string head =
      "Via: SIP/2.0/TLS beta.example;branch=z9hG4bKp1;received=203.0.113.2\r\n"
      "From: <sip:bob@beta.example>;tag=ptag1\r\nTo: <sip:alice@alpha.example>;tag=phonetag\r\n"
      "Call-ID: fedcall1\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@10.1.0.2:5077>\r\n"
      "Server: DeskPhone 9.1\r\nContent-Length: 0\r\n\r\n";
  auto ok = parse_datagram("SIP/2.0 200 OK\r\n" + head);
  ASSERT_TRUE(ok);
  EXPECT_FALSE(edge.outbound(*ok, "beta.example"));  // a late 2xx: dropped

  auto busy = parse_datagram("SIP/2.0 486 Busy Here\r\n" + head);
  ASSERT_TRUE(busy);
  ASSERT_TRUE(edge.outbound(*busy, "beta.example"));
  const std::string out = serialize(*busy);
  for (const char* secret : {"phonetag", "10.1.", "DeskPhone"}) {
    EXPECT_EQ(out.find(secret), std::string::npos) << "leaked " << secret << " in " << out;
  }
  const auto to = to_header(*busy);
  ASSERT_TRUE(to && to->tag());
  EXPECT_NE(*to->tag(), "phonetag");
  EXPECT_EQ(header(*busy, "Call-ID"), "fedcall1");
  EXPECT_EQ(edge.entries(), 0u);
}

}  // namespace
}  // namespace sipsite::sip
