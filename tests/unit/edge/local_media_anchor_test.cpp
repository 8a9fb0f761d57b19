// LocalMediaAnchor fed the messages the core would send to LAN phones, with a
// real relay on loopback (its ports are bound, never used for packets
// here): which messages are anchored, with which side, and when the relay's
// streams end.

#include "sipsite/edge/local_media_anchor.hpp"

#include <sipsite/sip/manual_timers.hpp>

#include <sipsite/media/sdp.hpp>
#include <sipsite/sip/message/accessors.hpp>
#include <sipsite/sip/message/parser.hpp>

#include <gtest/gtest.h>

#include <string>

namespace sipsite::edge {
namespace {

constexpr std::uint16_t kFirst = 25000;
constexpr std::uint16_t kLast = 25099;
constexpr const char* kCallId = "c1@127.0.0.1";
const std::string kKey = std::string("local/") + kCallId;

media::RelaySettings relay_settings() {
  media::RelaySettings s;
  s.lan_address = "127.0.0.1";
  s.public_address = "127.0.0.2";
  s.first_port = kFirst;
  s.last_port = kLast;
  return s;
}

std::string sdp(int port) {
  return "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " +
         std::to_string(port) + " RTP/AVP 0\r\n";
}

struct Party {
  std::string user;
  std::string tag;
  std::string domain = "alpha.example";
};
const Party kAlice{"alice", "atag"};
const Party kBob{"bob", "btag"};

// A request as the proxy forwards it: its own Via on top.
std::string request(const std::string& method, const Party& from, const Party& to, int cseq,
                    const std::string& body = "", const std::string& branch = "z9hG4bKcore1",
                    const std::string& call_id = kCallId) {
  std::string m = method + " sip:" + to.user +
                  "@127.0.0.1:5070 SIP/2.0\r\n"
                  "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=" +
                  branch +
                  "\r\n"
                  "Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bKphone;rport=5071\r\n"
                  "Max-Forwards: 69\r\n"
                  "From: <sip:" +
                  from.user + "@" + from.domain + ">;tag=" + from.tag +
                  "\r\n"
                  "To: <sip:" +
                  to.user + "@" + to.domain + ">" + (cseq > 2 || method == "BYE" ? ";tag=" + to.tag : "") +
                  "\r\nCall-ID: " + call_id + "\r\nCSeq: " + std::to_string(cseq) + " " + method + "\r\n";
  if (!body.empty()) m += "Content-Type: application/sdp\r\n";
  return m + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// A response of `callee` (the To side) to a request of `caller`.
std::string response(int code, const Party& caller, const Party& callee, int cseq, const std::string& method,
                     const std::string& body = "") {
  std::string m = "SIP/2.0 " + std::to_string(code) +
                  " Whatever\r\n"
                  "Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bKphone;rport=5071\r\n"
                  "From: <sip:" +
                  caller.user + "@" + caller.domain + ">;tag=" + caller.tag +
                  "\r\n"
                  "To: <sip:" +
                  callee.user + "@" + callee.domain + ">;tag=" + callee.tag +
                  "\r\n"
                  "Call-ID: " +
                  kCallId + "\r\nCSeq: " + std::to_string(cseq) + " " + method + "\r\n";
  if (!body.empty()) m += "Content-Type: application/sdp\r\n";
  return m + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::uint16_t port_of(const std::string& message) {
  const auto body = message.substr(message.find("\r\n\r\n") + 4);
  const auto s = media::parse_sdp(body);
  return s && !s->media.empty() ? s->media[0].m.port : 0;
}

// What the anchor did with a message: whether it leaves, and the answer
// the core gets in a stopped request's place.
struct Verdict {
  bool send = true;
  std::optional<sip::Message> answer;
};

// `bytes` as the core sends them, through `anchor`: its verdict, and in
// `wire` what leaves (nothing when the anchor stopped the message).
Verdict filter(LocalMediaAnchor& anchor, const std::string& bytes, std::string* wire = nullptr) {
  const auto m = sip::parse_datagram(bytes);
  EXPECT_TRUE(m) << bytes;
  if (!m) return {};
  sip::Outgoing out(*m);
  auto answer = anchor.filter(out);
  EXPECT_TRUE(!answer || out.stopped());  // an answer only in place of a message that does not leave
  if (wire != nullptr) *wire = out.stopped() ? std::string() : out.wire();
  return Verdict{!out.stopped(), std::move(answer)};
}

class LocalMediaAnchorTest : public ::testing::Test {
 protected:
  boost::asio::io_context io;
  sip::ManualTimers timers;
  media::MediaRelay relay{io, relay_settings()};
  LocalMediaAnchor anchor{relay, timers,
                          sip::SiteNames("alpha.example", {}, {{sip::Protocol::udp, "127.0.0.1", 5060}})};

  // Passes `bytes` through the anchor; expects it to be sent.
  std::string sent(const std::string& bytes) {
    std::string wire;
    const auto v = filter(anchor, bytes, &wire);
    EXPECT_TRUE(v.send);
    EXPECT_FALSE(v.answer);
    return wire;
  }

  // alice calls bob: offer, answer (200), as the proxy sends them on.
  void establish() {
    sent(request("INVITE", kAlice, kBob, 2, sdp(5004)));
    sent(response(200, kAlice, kBob, 2, "INVITE", sdp(6004)));
  }

  std::string remote(bool lan) {
    const auto st = relay.stats(kKey);
    if (!st || st->streams.empty()) return "none";
    return lan ? st->streams[0].lan.sdp_remote : st->streams[0].peer.sdp_remote;
  }
};

TEST_F(LocalMediaAnchorTest, TrafficWithoutSdpPassesUntouched) {
  for (const std::string& m : {request("MESSAGE", kAlice, kBob, 1), response(200, kAlice, kBob, 1, "REGISTER"),
                               request("BYE", kAlice, kBob, 3), response(486, kAlice, kBob, 2, "INVITE")}) {
    EXPECT_EQ(sent(m), m);
  }
  std::string text = request("MESSAGE", kAlice, kBob, 1);
  text.replace(text.find("Content-Length: 0\r\n\r\n"), 21,
               "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(sent(text), text);
  EXPECT_EQ(relay.call_count(), 0U);
}

TEST_F(LocalMediaAnchorTest, OfferAndAnswerOfALocalCallNameTheRelay) {
  const auto offer = sent(request("INVITE", kAlice, kBob, 2, sdp(5004)));
  const auto to_bob = port_of(offer);
  EXPECT_GE(to_bob, kFirst);
  EXPECT_LE(to_bob, kLast);
  EXPECT_NE(offer.find("c=IN IP4 127.0.0.1\r\n"), std::string::npos) << offer;
  EXPECT_EQ(offer.find("127.0.0.2"), std::string::npos) << offer;
  // The rest of the message is the core's: headers kept, length updated.
  EXPECT_NE(offer.find("Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKcore1"), std::string::npos);
  const auto answer = sent(response(200, kAlice, kBob, 2, "INVITE", sdp(6004)));
  const auto to_alice = port_of(answer);
  EXPECT_GE(to_alice, kFirst);
  EXPECT_NE(to_alice, to_bob);
  // alice's SDP describes the relay's LAN leg, bob's its "peer" leg.
  EXPECT_EQ(remote(true), "127.0.0.1:5004");
  EXPECT_EQ(remote(false), "127.0.0.1:6004");
  EXPECT_EQ(relay.stats(kKey)->scope, media::Scope::local);
  EXPECT_EQ(anchor.calls(), 1U);
  EXPECT_EQ(anchor.counters().anchored, 2U);
  // A retransmitted offer (or the one to a second phone of bob's) keeps its port.
  EXPECT_EQ(port_of(sent(request("INVITE", kAlice, kBob, 2, sdp(5004)))), to_bob);
}

TEST_F(LocalMediaAnchorTest, AnAorOfAListenerAddressIsLocalToo) {
  Party alice_by_ip = kAlice;
  alice_by_ip.domain = "127.0.0.1";
  const auto offer = sent(request("INVITE", alice_by_ip, kBob, 2, sdp(5004)));
  EXPECT_NE(port_of(offer), 5004);
  EXPECT_EQ(relay.call_count(), 1U);
}

TEST_F(LocalMediaAnchorTest, CallsWithAnotherSiteAreLeftToTheGateway) {
  Party carol{"carol", "ctag", "beta.example"};
  const auto in = request("INVITE", carol, kBob, 2, sdp(5004));
  EXPECT_EQ(sent(in), in);
  const auto back = response(200, carol, kBob, 2, "INVITE", sdp(6004));
  EXPECT_EQ(sent(back), back);
  EXPECT_EQ(relay.call_count(), 0U);
}

TEST_F(LocalMediaAnchorTest, AnotherSitesMessageWithTheSameCallIdDoesNotEndTheCall) {
  establish();
  Party carol{"carol", "ctag", "beta.example"};
  sent(request("BYE", carol, kBob, 5));
  sent(request("INVITE", carol, kBob, 6, sdp(7000)));
  EXPECT_EQ(relay.call_count(), 1U);
  EXPECT_EQ(remote(false), "127.0.0.1:6004");
}

TEST_F(LocalMediaAnchorTest, TheCalleesReinviteIsThePeerSideAndItsFailureKeepsTheCall) {
  establish();
  // bob re-INVITEs (From is bob now): his SDP is the "peer" leg's again.
  sent(request("INVITE", kBob, kAlice, 10, sdp(6010)));
  EXPECT_EQ(remote(false), "127.0.0.1:6010");
  EXPECT_EQ(remote(true), "127.0.0.1:5004");
  // alice's answer in the 200 (To tag alice's): the LAN leg.
  sent(response(200, kBob, kAlice, 10, "INVITE", sdp(5010)));
  EXPECT_EQ(remote(true), "127.0.0.1:5010");
  // A failed re-INVITE, or a CANCEL for another branch, once answered: the call stays.
  sent(response(491, kAlice, kBob, 3, "INVITE"));
  sent(request("CANCEL", kAlice, kBob, 2));
  EXPECT_EQ(relay.call_count(), 1U);
  // BYE from either side ends it.
  sent(request("BYE", kBob, kAlice, 11));
  EXPECT_EQ(relay.call_count(), 0U);
  EXPECT_EQ(anchor.calls(), 0U);
  EXPECT_EQ(anchor.counters().ended, 1U);
  EXPECT_EQ(relay.free_ports(), kLast - kFirst + 1U);
}

TEST_F(LocalMediaAnchorTest, ACallThatFailsOrIsCancelledBeforeTheAnswerEnds) {
  sent(request("INVITE", kAlice, kBob, 2, sdp(5004)));
  EXPECT_EQ(relay.call_count(), 1U);
  sent(response(486, kAlice, kBob, 2, "INVITE"));
  EXPECT_EQ(relay.call_count(), 0U);

  sent(request("INVITE", kAlice, kBob, 2, sdp(5004)));
  EXPECT_EQ(relay.call_count(), 1U);
  sent(request("CANCEL", kAlice, kBob, 2));
  EXPECT_EQ(relay.call_count(), 0U);
  EXPECT_EQ(anchor.calls(), 0U);
}

TEST_F(LocalMediaAnchorTest, AnAnswerWithoutSdpStillConfirmsTheCall) {
  sent(request("INVITE", kAlice, kBob, 2, sdp(5004)));
  sent(response(183, kAlice, kBob, 2, "INVITE", sdp(6004)));
  sent(response(200, kAlice, kBob, 2, "INVITE"));  // answer came in the 183
  sent(request("CANCEL", kAlice, kBob, 2));        // for another of bob's phones
  EXPECT_EQ(relay.call_count(), 1U);
}

TEST_F(LocalMediaAnchorTest, ARefusedOfferIsAnsweredAndItsAckStaysHome) {
  std::string bad = request("INVITE", kAlice, kBob, 2, "v=0\r\nm=audio nope RTP/AVP 0\r\n", "z9hG4bKbad");
  auto v = filter(anchor, bad);
  EXPECT_FALSE(v.send);
  ASSERT_TRUE(v.answer);
  EXPECT_EQ(v.answer->status_code(), 488);
  EXPECT_TRUE(v.answer->reason_phrase().starts_with("Not Acceptable Here (")) << v.answer->reason_phrase();
  const auto vias = sip::via_headers(*v.answer);
  ASSERT_TRUE(vias);
  ASSERT_EQ(vias->size(), 2U);
  EXPECT_EQ(vias->front().branch().value_or(""), "z9hG4bKbad");  // the core's own client transaction
  EXPECT_TRUE(v.answer->value(sip::HeaderId::to).value_or("").find(";tag=") != std::string_view::npos);
  EXPECT_EQ(relay.call_count(), 0U);
  EXPECT_EQ(anchor.counters().refused, 1U);

  // The core's ACK for that answer: bob's phone never saw the INVITE.
  std::string ack = request("ACK", kAlice, kBob, 2, "", "z9hG4bKbad");
  EXPECT_FALSE(filter(anchor, ack).send);
  std::string other_ack = request("ACK", kAlice, kBob, 2, "", "z9hG4bKother");
  EXPECT_TRUE(filter(anchor, other_ack).send);
}

TEST_F(LocalMediaAnchorTest, ARefusedResponseDoesNotLeave) {
  sent(request("INVITE", kAlice, kBob, 2, sdp(5004)));
  std::string bad = response(200, kAlice, kBob, 2, "INVITE", "v=0\r\nm=audio nope RTP/AVP 0\r\n");
  const auto v = filter(anchor, bad);
  EXPECT_FALSE(v.send);
  EXPECT_FALSE(v.answer);
}

TEST_F(LocalMediaAnchorTest, ExhaustedPortsAre503WithTheReasonInAWarning) {
  // A range of its own: the other tests of this file run at the same time in
  // other processes and hold ports from kFirst on; one taken port here would
  // make the first call fail for the wrong reason.
  media::RelaySettings small = relay_settings();
  small.first_port = kLast + 1;
  small.last_port = kLast + 4;  // one call
  media::MediaRelay tiny(io, small);
  LocalMediaAnchor a(tiny, timers, sip::SiteNames("alpha.example", {}, {}));
  std::string first = request("INVITE", kAlice, kBob, 2, sdp(5004));
  EXPECT_TRUE(filter(a, first).send);
  std::string second = request("INVITE", kBob, kAlice, 2, sdp(6004), "z9hG4bKsecond", "c2@127.0.0.1");
  const auto v = filter(a, second);
  EXPECT_FALSE(v.send);
  ASSERT_TRUE(v.answer);
  EXPECT_EQ(v.answer->status_code(), 503);
  EXPECT_TRUE(v.answer->value(sip::HeaderId::retry_after).has_value());
  bool warned = false;
  for (const auto& h : v.answer->headers()) {
    if (sip::iequals(h.name, "Warning")) warned = h.value.find("no free media") != std::string::npos;
  }
  EXPECT_TRUE(warned);
}

}  // namespace
}  // namespace sipsite::edge
