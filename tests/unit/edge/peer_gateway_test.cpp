// PeerGateway alone, with a real sip::Core behind it and no sockets: links
// and the relay are fakes (PeerLinks, media::SdpAnchor), time is manual.
// Site alpha.example has one user, alice, whose phone is on the LAN; the
// peer site beta.example is reached over one link. What crosses the link is
// checked as bytes (what the peer would read), in both directions.

#include "sipsite/edge/peer_gateway.hpp"

#include "unit/sip/fake_services.hpp"

#include <sipsite/sip/manual_timers.hpp>
#include <sipsite/sip/message/accessors.hpp>
#include <sipsite/sip/message/parser.hpp>
#include <sipsite/sip/message/serializer.hpp>

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <string>
#include <vector>

namespace sipsite::edge {
namespace {

using namespace std::chrono_literals;

constexpr sip::FlowId kLink = sip::kFederationFlowBit | 7;
const sip::Endpoint kPeerRemote{sip::Protocol::tls, "203.0.113.2", 5062};
const sip::Endpoint kFedLocal{sip::Protocol::tls, "198.51.100.1", 5062};
const sip::Endpoint kLanUdp{sip::Protocol::udp, "10.1.0.1", 5060};
const sip::Endpoint kPhone{sip::Protocol::udp, "10.1.0.2", 5077};

pki::Fingerprint fingerprint(std::uint8_t seed) {
  std::array<std::uint8_t, pki::Fingerprint::kSize> bytes{};
  bytes.fill(seed);
  return pki::Fingerprint::from_bytes(bytes);
}
const pki::Fingerprint kBeta = fingerprint(0xbe);

const std::string kPhoneSdp =
    "v=0\r\no=desk 1 1 IN IP4 10.1.0.2\r\ns=-\r\nc=IN IP4 10.1.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
const std::string kPeerSdp =
    "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\n";

// Links without sockets: what is sent on each flow, and which flow is live.
class FakeLinks final : public PeerLinks {
 public:
  [[nodiscard]] std::optional<sip::FlowId> flow_for(const pki::Fingerprint& peer) const override {
    return up && peer == kBeta ? std::optional(kLink) : std::nullopt;
  }
  [[nodiscard]] std::optional<pki::Fingerprint> peer_of(sip::FlowId flow) const override {
    return up && flow == kLink ? std::optional(kBeta) : std::nullopt;
  }
  bool send(sip::FlowId flow, std::string bytes) override {
    if (!up || flow != kLink) return false;
    sent.push_back(std::move(bytes));
    return true;
  }
  // The messages sent since the last look, parsed as the peer would.
  std::vector<sip::Message> take() {
    std::vector<sip::Message> out;
    for (const auto& b : sent) {
      auto m = sip::parse_datagram(b);
      EXPECT_TRUE(m) << b;
      if (m) out.push_back(std::move(*m));
    }
    wire.insert(wire.end(), sent.begin(), sent.end());
    sent.clear();
    return out;
  }
  bool up = true;
  std::vector<std::string> sent;
  std::vector<std::string> wire;  // everything that ever crossed
};

// A relay without sockets: SDP is replaced by one naming the relay, or
// refused when `refuse` is set.
class FakeAnchor final : public media::SdpAnchor {
 public:
  media::Result<std::string> rewrite(std::string_view key, media::Side from, std::string_view /*sdp*/,
                                     media::Scope scope) override {
    rewrites.push_back({std::string(key), from, scope});
    if (refuse) return media::MediaError{media::MediaErrc::ports_exhausted, "no free media ports"};
    calls.insert(std::string(key));
    const std::string host = from == media::Side::lan ? "198.51.100.1" : "10.1.0.1";
    return "v=0\r\no=- 0 0 IN IP4 " + host + "\r\ns=-\r\nc=IN IP4 " + host + "\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n";
  }
  void end(std::string_view key) override {
    ended.emplace_back(key);
    calls.erase(std::string(key));
  }
  [[nodiscard]] std::optional<media::CallProtection> protection(std::string_view key) const override {
    if (!calls.contains(std::string(key))) return std::nullopt;
    return media::CallProtection{true, media::EndToEnd::none, false};
  }
  struct Rewrite {
    std::string key;
    media::Side from;
    media::Scope scope;
  };
  std::vector<Rewrite> rewrites;
  std::set<std::string> calls;
  std::vector<std::string> ended;
  bool refuse = false;
};

class RecordingObserver final : public EdgeObserver {
 public:
  void sdp_refused(RefusedSdp where, std::string_view peer, std::string_view /*reason*/) override {
    refused.emplace_back(where, std::string(peer));
  }
  void calls_ended_by_revocation(std::string_view peer, std::size_t count) override {
    revoked.emplace_back(std::string(peer), count);
  }
  void call_protection(std::string_view call_id, const media::CallProtection& /*p*/) override {
    protected_calls.emplace_back(call_id);
  }
  void received_from_peer(const sip::Message& /*m*/) override { ++received; }
  std::vector<std::pair<RefusedSdp, std::string>> refused;
  std::vector<std::pair<std::string, std::size_t>> revoked;
  std::vector<std::string> protected_calls;
  int received = 0;
};

class PeerGatewayTest : public ::testing::Test, private sip::Sender {
 protected:
  PeerGatewayTest() {
    sip::Binding b;
    b.contact = "sip:alice@10.1.0.2:5077";
    b.destination = sip::Destination{kPhone, 0};
    location.bindings["alice"].push_back(b);
    gateway.attach(core, links, &relay);
    gateway.set_observer(observer);
    gateway.replace_peers({{kBeta, "beta.example"}});
    gateway.link_up(kBeta, kLink, kPeerRemote);
  }

  static PeerGatewaySettings settings() {
    PeerGatewaySettings s;
    s.privacy.local_domain = "alpha.example";
    s.requests_per_second = 1;
    s.burst = 3;
    return s;
  }
  sip::CoreSettings core_settings() {
    sip::CoreSettings s;
    s.local_domain = "alpha.example";
    s.listeners = {kLanUdp};
    return s;
  }

  // sip::Sender, as the daemon's SipService: federation flows through the
  // gateway, the rest to the phone; a refusal's answer reaches the core
  // later, never from inside the send.
  void send(const sip::Destination& to, sip::Outgoing& out) override {
    if (!sip::is_federation_flow(to.flow)) {
      to_phone.push_back(out.wire());
      return;
    }
    auto r = gateway.send(to, out);
    if (r.answer) answers.push_back(sip::Inbound{std::move(*r.answer), to.endpoint, to.flow, kFedLocal, {}});
  }
  void send_wire(const sip::Destination& /*to*/, std::string bytes) override { to_phone.push_back(std::move(bytes)); }

  // What the core sent to the phone since the last look.
  std::vector<sip::Message> phone_got() {
    std::vector<sip::Message> out;
    for (const auto& b : to_phone) {
      if (auto m = sip::parse_datagram(b)) out.push_back(std::move(*m));
    }
    to_phone.clear();
    return out;
  }
  void deliver_answers() {
    auto pending = std::move(answers);
    answers.clear();
    for (auto& a : pending) core.receive(std::move(a));
  }

  void from_peer(const std::string& bytes) {
    auto m = sip::parse_datagram(bytes);
    ASSERT_TRUE(m) << bytes;
    gateway.receive(kBeta, sip::Inbound{std::move(*m), kPeerRemote, kLink, kFedLocal, {}});
  }
  void from_phone(const sip::Message& m) { core.receive(sip::serialize(m), kPhone, 0, kLanUdp); }

  static std::string peer_invite(const std::string& call_id, const std::string& branch, const std::string& body) {
    std::string m =
        "INVITE sip:alice@alpha.example SIP/2.0\r\n"
        "Via: SIP/2.0/TLS beta.example;branch=" +
        branch +
        "\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:bob@beta.example>;tag=btag\r\n"
        "To: <sip:alice@alpha.example>\r\n"
        "Call-ID: " +
        call_id +
        "\r\n"
        "CSeq: 1 INVITE\r\n"
        "Contact: <sip:tok@beta.example;transport=tls>\r\n";
    if (!body.empty()) m += "Content-Type: application/sdp\r\n";
    return m + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }

  // A request as the core forwards it towards beta: its own Via over the
  // phone's, the phone's Call-ID, tag, software and LAN contact.
  static sip::Message core_request(const std::string& method, const std::string& branch, const std::string& body = "") {
    std::string m = method +
                    " sip:bob@beta.example SIP/2.0\r\n"
                    "Via: SIP/2.0/TLS 198.51.100.1:5062;branch=" +
                    branch +
                    "\r\n"
                    "Via: SIP/2.0/UDP 10.1.0.2:5077;branch=z9hG4bKlanbr1;rport=5077\r\n"
                    "Max-Forwards: 69\r\n"
                    "From: <sip:alice@alpha.example>;tag=ltag1\r\n"
                    "To: <sip:bob@beta.example>\r\n"
                    "Call-ID: lancall1@10.1.0.2\r\n"
                    "CSeq: 1 " +
                    method +
                    "\r\n"
                    "Contact: <sip:alice@10.1.0.2:5077>\r\n"
                    "User-Agent: DeskPhone 9.1\r\n";
    if (!body.empty()) m += "Content-Type: application/sdp\r\n";
    m += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    auto parsed = sip::parse_datagram(m);
    EXPECT_TRUE(parsed) << m;
    return parsed ? std::move(*parsed) : sip::Message{};
  }

  sip::ManualTimers timers;
  sip::test::CountingRandom random;
  sip::test::FakeDirectory directory{"alpha.example", {"alice"}};
  sip::test::FakeAuthenticator auth;
  sip::test::FakeLocation location;
  sip::test::FakeRegistrar registrar;
  sip::Counters counters;
  FakeLinks links;
  FakeAnchor relay;
  RecordingObserver observer;
  PeerGateway gateway{settings(), timers, timers, random};
  sip::Core core{core_settings(),
                 static_cast<sip::Sender&>(*this),
                 timers,
                 timers,
                 random,
                 directory,
                 auth,
                 location,
                 registrar,
                 counters,
                 &gateway};
  std::vector<std::string> to_phone;
  std::vector<sip::Inbound> answers;
};

TEST_F(PeerGatewayTest, ARequestLeavesMappedOnceWithItsSdpOnTheRelayAndTheCoresCopyUntouched) {
  const sip::Message invite = core_request("INVITE", "z9hG4bKcore1", kPhoneSdp);
  sip::Outgoing out(invite);
  const auto result = gateway.send(sip::Destination{kPeerRemote, kLink}, out);
  EXPECT_TRUE(result.sent);
  EXPECT_FALSE(result.answer);
  EXPECT_FALSE(out.stopped());

  ASSERT_EQ(links.sent.size(), 1U);
  const std::string& bytes = links.sent.front();
  EXPECT_EQ(bytes, out.wire());  // serialized once, what the peer reads
  for (const char* secret : {"10.1.0.2", "5077", "lancall1", "ltag1", "lanbr1", "DeskPhone"}) {
    EXPECT_EQ(bytes.find(secret), std::string::npos) << secret << " crossed:\n" << bytes;
  }
  const auto m = links.take();
  ASSERT_EQ(m.size(), 1U);
  const auto vias = sip::via_headers(m[0]);
  ASSERT_TRUE(vias);
  ASSERT_EQ(vias->size(), 1U);
  EXPECT_EQ(vias->front().host, "alpha.example");
  EXPECT_NE(m[0].body().find("198.51.100.1"), std::string::npos);  // the relay's public side
  ASSERT_EQ(relay.rewrites.size(), 1U);
  EXPECT_EQ(relay.rewrites[0].from, media::Side::lan);
  EXPECT_EQ(relay.rewrites[0].scope, media::Scope::edge);
  EXPECT_EQ(relay.rewrites[0].key, std::string(*sip::call_id_header(m[0])));  // keyed by the link's Call-ID

  // The core's message is as it made it (its ACK and CANCEL are built from it).
  ASSERT_TRUE(sip::call_id_header(invite));
  EXPECT_EQ(*sip::call_id_header(invite), "lancall1@10.1.0.2");
  EXPECT_EQ(&out.original(), &invite);
  EXPECT_EQ(gateway.counters().sent, 1U);
}

TEST_F(PeerGatewayTest, NothingLeavesOnAnUnknownFlowOrForAPeerNoLongerTrusted) {
  const sip::Message options = core_request("OPTIONS", "z9hG4bKcore2");
  sip::Outgoing unknown(options);
  EXPECT_FALSE(gateway.send(sip::Destination{kPeerRemote, sip::kFederationFlowBit | 99}, unknown).sent);
  gateway.update_peers({}, {kBeta});
  sip::Outgoing revoked(options);
  EXPECT_FALSE(gateway.send(sip::Destination{kPeerRemote, kLink}, revoked).sent);
  EXPECT_TRUE(links.sent.empty());
  EXPECT_FALSE(gateway.send_wire(sip::Destination{kPeerRemote, kLink}, "OPTIONS sip:x SIP/2.0\r\n\r\n"));
  EXPECT_TRUE(links.sent.empty());
}

TEST_F(PeerGatewayTest, ARefusedSdpIsAnsweredInThePeersPlaceAndItsAckStaysHome) {
  relay.refuse = true;
  const sip::Message invite = core_request("INVITE", "z9hG4bKcore3", kPhoneSdp);
  sip::Outgoing out(invite);
  auto result = gateway.send(sip::Destination{kPeerRemote, kLink}, out);
  EXPECT_TRUE(out.stopped());
  EXPECT_TRUE(links.sent.empty());
  ASSERT_TRUE(result.answer);
  EXPECT_EQ(result.answer->status_code(), 503);
  EXPECT_TRUE(result.answer->value(sip::HeaderId::retry_after));
  // Answered as the core sent it: its own branch on top, for its client transaction.
  EXPECT_EQ(sip::via_headers(*result.answer)->front().branch().value_or(""), "z9hG4bKcore3");
  ASSERT_EQ(observer.refused.size(), 1U);
  EXPECT_EQ(observer.refused[0], std::pair(RefusedSdp::toward_peer, std::string("beta.example")));

  sip::Message ack = core_request("ACK", "z9hG4bKcore3");
  sip::Outgoing ack_out(ack);
  EXPECT_TRUE(gateway.send(sip::Destination{kPeerRemote, kLink}, ack_out).sent);
  EXPECT_TRUE(ack_out.stopped());
  EXPECT_TRUE(links.sent.empty());
}

TEST_F(PeerGatewayTest, APeerOverItsRequestRateGets503AndTheCoreNeverSeesIt) {
  for (int i = 0; i < 4; ++i)
    from_peer(peer_invite("c" + std::to_string(i) + "@beta", "z9hG4bKp" + std::to_string(i), ""));
  EXPECT_EQ(gateway.counters().rate_limited, 1U);  // a burst of 3 passes
  EXPECT_EQ(observer.received, 3);
  const auto on_link = links.take();
  ASSERT_FALSE(on_link.empty());
  EXPECT_EQ(on_link.back().status_code(), 503);
  EXPECT_TRUE(on_link.back().value(sip::HeaderId::retry_after));
  EXPECT_EQ(on_link.back().value(sip::HeaderId::call_id).value_or(""), "c3@beta");

  timers.advance(2s);  // the bucket refills
  from_peer(peer_invite("c4@beta", "z9hG4bKp4", ""));
  EXPECT_EQ(gateway.counters().rate_limited, 1U);
}

TEST_F(PeerGatewayTest, AnSdpFromThePeerThatTheRelayRefusesIsAnsweredOnTheLink) {
  relay.refuse = true;
  from_peer(peer_invite("refused@beta", "z9hG4bKr", kPeerSdp));
  EXPECT_EQ(observer.received, 0);
  EXPECT_TRUE(phone_got().empty());
  const auto on_link = links.take();
  ASSERT_EQ(on_link.size(), 1U);
  EXPECT_EQ(on_link[0].status_code(), 503);
  ASSERT_EQ(observer.refused.size(), 1U);
  EXPECT_EQ(observer.refused[0].first, RefusedSdp::from_peer);
}

TEST_F(PeerGatewayTest, ARevokedPeersCallsEndWithAByeToThePhoneAndTheirMedia) {
  // beta calls alice; her phone answers; beta ACKs.
  from_peer(peer_invite("call1@beta", "z9hG4bKinv", kPeerSdp));
  auto at_phone = phone_got();
  ASSERT_EQ(at_phone.size(), 1U);
  const sip::Message invite = at_phone[0];
  EXPECT_EQ(invite.method(), "INVITE");
  EXPECT_NE(invite.body().find("10.1.0.1"), std::string::npos);  // the relay's LAN side
  EXPECT_EQ(invite.body().find("192.0.2.9"), std::string::npos);

  sip::Message ok = sip::make_response(invite, 200, "OK", "phonetag");
  for (const auto rr : invite.values(sip::HeaderId::record_route))
    ok.add_header("Record-Route", rr);  // RFC 3261 §12.1.1
  ok.add_header("Contact", "<sip:alice@10.1.0.2:5077>");
  ok.set_header("Content-Type", "application/sdp");
  ok.set_body(kPhoneSdp);
  from_phone(ok);
  auto at_peer = links.take();
  ASSERT_FALSE(at_peer.empty());
  EXPECT_EQ(at_peer.back().status_code(), 200);
  const std::string contact(at_peer.back().value(sip::HeaderId::contact).value_or(""));
  EXPECT_EQ(contact.find("10.1.0.2"), std::string::npos);
  const std::string to_tag(sip::to_header(at_peer.back())->tag().value_or(""));
  ASSERT_FALSE(to_tag.empty());
  EXPECT_EQ(relay.calls.size(), 1U);
  EXPECT_EQ(observer.protected_calls.size(), 1U);  // the answered call's record learns its protection

  const auto contact_uri = sip::parse_name_addr(contact);
  ASSERT_TRUE(contact_uri);
  from_peer("ACK " + std::string(contact_uri->uri.text) +
            " SIP/2.0\r\n"
            "Via: SIP/2.0/TLS beta.example;branch=z9hG4bKack\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:bob@beta.example>;tag=btag\r\n"
            "To: <sip:alice@alpha.example>;tag=" +
            to_tag +
            "\r\n"
            "Call-ID: call1@beta\r\n"
            "CSeq: 1 ACK\r\n"
            "Content-Length: 0\r\n\r\n");
  at_phone = phone_got();
  ASSERT_EQ(at_phone.size(), 1U);
  EXPECT_EQ(at_phone[0].method(), "ACK");
  EXPECT_EQ(gateway.privacy().established_dialogs("beta.example"), 1U);

  // The admin revokes beta: alice's phone hears a BYE, the relay frees the call.
  gateway.update_peers({}, {kBeta});
  at_phone = phone_got();
  ASSERT_EQ(at_phone.size(), 1U);
  EXPECT_EQ(at_phone[0].method(), "BYE");
  EXPECT_TRUE(relay.calls.empty());
  EXPECT_EQ(relay.ended.size(), 1U);
  EXPECT_EQ(gateway.counters().revoked_calls, 1U);
  ASSERT_EQ(observer.revoked.size(), 1U);
  EXPECT_EQ(observer.revoked[0], std::pair(std::string("beta.example"), std::size_t{1}));
  // And nothing more of beta's is taken.
  from_peer(peer_invite("call2@beta", "z9hG4bKinv2", ""));
  EXPECT_TRUE(phone_got().empty());
  EXPECT_TRUE(links.take().empty());
}

TEST_F(PeerGatewayTest, TheSweepForgetsCallsTheRelayEndedOnItsOwn) {
  const sip::Message invite = core_request("INVITE", "z9hG4bKcore5", kPhoneSdp);
  sip::Outgoing out(invite);
  ASSERT_TRUE(gateway.send(sip::Destination{kPeerRemote, kLink}, out).sent);
  ASSERT_EQ(relay.calls.size(), 1U);
  relay.calls.clear();  // the relay's setup timeout ended it
  timers.advance(11s);  // the gateway's sweep
  // A later revocation has no media of that call left to end (without the
  // sweep it would end the stale key, as the revocation test shows).
  gateway.update_peers({}, {kBeta});
  EXPECT_TRUE(relay.ended.empty());
}

}  // namespace
}  // namespace sipsite::edge
