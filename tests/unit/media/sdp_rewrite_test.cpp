// SDP rewriting: anchoring at the relay (o=, c=, m=, a=rtcp, candidates),
// candidate stripping for privacy, and round trips of what comes out.

#include "sdp_samples.hpp"
#include "sipsite/media/sdp_rewrite.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

namespace sipsite::media {
namespace {

constexpr const char* kRelay = "203.0.113.7";

Sdp parse_ok(std::string_view text) {
  auto r = parse_sdp(text);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().reason);
  return r ? *r : Sdp{};
}

std::string rewritten(std::string_view text, const RewritePlan& plan) {
  auto sdp = parse_ok(text);
  const auto r = rewrite_sdp(sdp, plan);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().reason);
  const auto out = serialize(sdp);
  // Whatever we send must parse, and reparse to the same bytes.
  auto again = parse_sdp(out);
  EXPECT_TRUE(again.has_value()) << out;
  if (again) {
    EXPECT_EQ(serialize(*again), out);
  }
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    out.push_back(l);
  }
  return out;
}

std::vector<std::string> lines_starting(const std::string& text, std::string_view prefix) {
  std::vector<std::string> out;
  for (auto& l : lines_of(text))
    if (l.rfind(prefix, 0) == 0) out.push_back(l);
  return out;
}

RewritePlan anchor_plan(std::vector<std::optional<StreamEndpoint>> streams) {
  RewritePlan p;
  p.address = kRelay;
  p.streams = std::move(streams);
  return p;
}

TEST(SdpRewrite, PhoneOfferAnchoredAtTheRelay) {
  const auto out = rewritten(samples::kPhoneOffer, anchor_plan({StreamEndpoint{40000, 40001}}));
  EXPECT_EQ(out,
            "v=0\r\n"
            "o=- 8000 8001 IN IP4 203.0.113.7\r\n"
            "s=-\r\n"
            "c=IN IP4 203.0.113.7\r\n"
            "t=0 0\r\n"
            "m=audio 40000 RTP/AVP 0 8 101\r\n"
            "a=rtpmap:101 telephone-event/8000\r\n"
            "a=rtcp:40001 IN IP4 203.0.113.7\r\n"
            "a=sendrecv\r\n");
}

TEST(SdpRewrite, AnchoringTwiceIsStable) {
  const auto plan = anchor_plan({StreamEndpoint{40000, 40001}});
  const auto once = rewritten(samples::kPhoneOffer, plan);
  EXPECT_EQ(rewritten(once, plan), once);
}

TEST(SdpRewrite, OriginCanKeepItsUsername) {
  auto plan = anchor_plan({StreamEndpoint{40000, 40001}});
  plan.anonymize_origin = false;
  const auto out = rewritten(samples::kPhoneOffer, plan);
  EXPECT_EQ(lines_starting(out, "o=")[0], "o=alice-phone 8000 8001 IN IP4 203.0.113.7");
}

TEST(SdpRewrite, WebRtcOfferLosesEveryCandidateButTheRelay) {
  const auto plan =
      anchor_plan({StreamEndpoint{40010, 40010}, StreamEndpoint{40020, 40020}, StreamEndpoint{40030, 40030}});
  const auto out = rewritten(samples::kWebRtcOffer, plan);
  for (const char* leak : {"192.168.", "fe80", ".local", "2001:db8::20", "203.0.113.50", "127.0.0.1", "raddr"})
    EXPECT_EQ(out.find(leak), std::string::npos) << leak << "\n" << out;
  EXPECT_EQ(lines_starting(out, "a=candidate:"),
            (std::vector<std::string>{"a=candidate:1 1 UDP 2130706431 203.0.113.7 40010 typ host",
                                      "a=candidate:1 1 UDP 2130706431 203.0.113.7 40020 typ host",
                                      "a=candidate:1 1 UDP 2130706431 203.0.113.7 40030 typ host"}));
  // rtcp-mux: a=rtcp names the RTP port; credentials and DTLS untouched.
  EXPECT_EQ(lines_starting(out, "a=rtcp:"),
            (std::vector<std::string>{"a=rtcp:40010 IN IP4 203.0.113.7", "a=rtcp:40020 IN IP4 203.0.113.7"}));
  EXPECT_EQ(lines_starting(out, "a=ice-ufrag:").size(), 3U);
  EXPECT_EQ(lines_starting(out, "a=ice-pwd:asd88fgpdd777uzjYhagZg").size(), 3U);
  EXPECT_EQ(lines_starting(out, "a=fingerprint:sha-256 19:E2:1C").size(), 3U);
  EXPECT_EQ(lines_starting(out, "a=setup:actpass").size(), 3U);
  // The relay candidate stands where the candidates were, before end-of-candidates.
  const auto all = lines_of(out);
  const auto pos = [&](std::string_view l) { return std::find(all.begin(), all.end(), l) - all.begin(); };
  EXPECT_LT(pos("a=rtcp:40010 IN IP4 203.0.113.7"), pos("a=candidate:1 1 UDP 2130706431 203.0.113.7 40010 typ host"));
  EXPECT_LT(pos("a=candidate:1 1 UDP 2130706431 203.0.113.7 40010 typ host"), pos("a=ice-ufrag:8hhY"));
  EXPECT_EQ(lines_starting(out, "a=end-of-candidates").size(), 1U);
  EXPECT_EQ(lines_starting(out, "m="),
            (std::vector<std::string>{"m=audio 40010 UDP/TLS/RTP/SAVPF 111 0", "m=video 40020 UDP/TLS/RTP/SAVPF 96",
                                      "m=application 40030 UDP/DTLS/SCTP webrtc-datachannel"}));
}

TEST(SdpRewrite, AnchoringCanKeepPublicCandidatesAfterTheRelay) {
  auto plan = anchor_plan({StreamEndpoint{40010, 40010}, StreamEndpoint{40020, 40020}, StreamEndpoint{40030, 40030}});
  plan.keep_public_candidates = true;
  const auto out = rewritten(samples::kWebRtcOffer, plan);
  // The relay first, then the phone's public candidates (the srflx one
  // without its LAN base); no private one.
  const auto audio = lines_starting(out, "a=candidate:");
  ASSERT_GE(audio.size(), 3U);
  EXPECT_EQ(audio[0], "a=candidate:1 1 UDP 2130706431 203.0.113.7 40010 typ host");
  EXPECT_EQ(audio[1], "a=candidate:2 1 udp 1686052607 203.0.113.50 54400 typ srflx raddr 0.0.0.0 rport 0 generation 0");
  EXPECT_EQ(audio[2], "a=candidate:5 1 udp 2122262783 2001:db8::20 54402 typ host generation 0");
  for (const auto& l : audio) {
    EXPECT_EQ(l.find("192.168."), std::string::npos) << l;
    EXPECT_EQ(l.find(".local"), std::string::npos) << l;
  }
}

TEST(SdpRewrite, WithoutMuxBothComponentsGetARelayCandidate) {
  const std::string offer =
      "v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\n"
      "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef012345\r\n"
      "m=audio 5004 RTP/AVP 0\r\n"
      "a=candidate:1 1 UDP 2130706431 10.0.0.5 5004 typ host\r\n"
      "a=candidate:1 2 UDP 2130706430 10.0.0.5 5005 typ host\r\n"
      "a=remote-candidates:1 10.0.0.9 6000 2 10.0.0.9 6001\r\n";
  const auto out = rewritten(offer, anchor_plan({StreamEndpoint{40100, 40101}}));
  EXPECT_EQ(lines_starting(out, "a=candidate:"),
            (std::vector<std::string>{"a=candidate:1 1 UDP 2130706431 203.0.113.7 40100 typ host",
                                      "a=candidate:1 2 UDP 2130706430 203.0.113.7 40101 typ host"}));
  EXPECT_TRUE(lines_starting(out, "a=remote-candidates").empty());
  EXPECT_EQ(lines_starting(out, "a=ice-ufrag:abcd").size(), 1U);
  EXPECT_EQ(out.find("10.0."), std::string::npos) << out;
}

TEST(SdpRewrite, StreamsWithoutCandidatesGetNone) {
  const auto out = rewritten(samples::kPhoneOffer, anchor_plan({StreamEndpoint{40000, 40001}}));
  EXPECT_TRUE(lines_starting(out, "a=candidate").empty());
}

TEST(SdpRewrite, SdesAndZrtpSurviveAnchoring) {
  const auto out =
      rewritten(samples::kSdesZrtp, anchor_plan({StreamEndpoint{40000, 40001}, StreamEndpoint{40002, 40003}}));
  EXPECT_NE(out.find("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4\r\n"),
            std::string::npos);
  EXPECT_NE(out.find("a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:4\r\n"),
            std::string::npos);
  EXPECT_NE(out.find("a=zrtp-hash:1.10 fe30efd02423cb054e50efd0248742ac7a52c8f91bc2df881ae642c371ba46df\r\n"),
            std::string::npos);
  EXPECT_NE(
      out.find("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj|2^20|1:32\r\n"),
      std::string::npos);
  EXPECT_EQ(out.find("10.1.2.3"), std::string::npos);
  EXPECT_EQ(lines_starting(out, "c="), (std::vector<std::string>{"c=IN IP4 203.0.113.7", "c=IN IP4 203.0.113.7"}));
  EXPECT_EQ(lines_starting(out, "o=")[0], "o=- 2808844564 2808844564 IN IP4 203.0.113.7");
}

TEST(SdpRewrite, RejectedStreamStaysAtPortZeroWithoutLeaking) {
  const std::string answer =
      "v=0\r\no=bob 1 1 IN IP4 10.1.2.3\r\ns=-\r\nt=0 0\r\n"
      "m=audio 16384 RTP/AVP 0\r\nc=IN IP4 10.1.2.3\r\n"
      "m=video 0 RTP/AVP 99\r\nc=IN IP4 10.1.2.3\r\na=rtcp:16387 IN IP4 10.1.2.3\r\n";
  const auto out = rewritten(answer, anchor_plan({StreamEndpoint{40000, 40001}, std::nullopt}));
  EXPECT_EQ(lines_starting(out, "m="), (std::vector<std::string>{"m=audio 40000 RTP/AVP 0", "m=video 0 RTP/AVP 99"}));
  EXPECT_EQ(out.find("10.1.2.3"), std::string::npos) << out;
  EXPECT_EQ(lines_starting(out, "a=rtcp:")[0], "a=rtcp:16387 IN IP4 203.0.113.7");
}

TEST(SdpRewrite, MissingConnectionIsAddedAfterInformation) {
  const std::string offer =
      "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\ni=voice\r\na=x\r\n";
  const auto out = rewritten(offer, anchor_plan({StreamEndpoint{40000, 40001}}));
  EXPECT_NE(out.find("m=audio 40000 RTP/AVP 0\r\ni=voice\r\nc=IN IP4 203.0.113.7\r\na=x\r\n"), std::string::npos)
      << out;
}

TEST(SdpRewrite, NonAdjacentRtcpPortIsAdvertised) {
  const std::string offer =
      "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";
  const auto out = rewritten(offer, anchor_plan({StreamEndpoint{40000, 40777}}));
  EXPECT_EQ(lines_starting(out, "a=rtcp:"), std::vector<std::string>{"a=rtcp:40777"});
}

TEST(SdpRewrite, LinesAddedAfterAnUnterminatedLastLine) {
  for (const std::string end : {"", "\r"}) {
    const std::string offer = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\na=x" + end;
    const auto out = rewritten(offer, anchor_plan({StreamEndpoint{40000, 40500}}));
    EXPECT_NE(out.find("a=x\r\na=rtcp:40500"), std::string::npos) << out;
  }
}

TEST(SdpRewrite, PortCountDroppedForTheSingleRelayedStream) {
  const std::string offer =
      "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=video 5000/2 RTP/AVP 31\r\n";
  const auto out = rewritten(offer, anchor_plan({StreamEndpoint{40000, 40001}}));
  EXPECT_EQ(lines_starting(out, "m=")[0], "m=video 40000 RTP/AVP 31");
}

TEST(SdpRewrite, Ipv6RelayAddress) {
  auto plan = anchor_plan({StreamEndpoint{40000, 40001}});
  plan.address = "2001:db8::7";
  const auto out = rewritten(samples::kPhoneOffer, plan);
  EXPECT_EQ(lines_starting(out, "c=")[0], "c=IN IP6 2001:db8::7");
  EXPECT_EQ(lines_starting(out, "o=")[0], "o=- 8000 8001 IN IP6 2001:db8::7");
  EXPECT_EQ(lines_starting(out, "a=rtcp:")[0], "a=rtcp:40001 IN IP6 2001:db8::7");
}

TEST(SdpRewrite, StripPrivateCandidatesWithoutAnchoring) {
  RewritePlan plan;
  plan.anchor = false;
  plan.anonymize_origin = false;
  const auto out = rewritten(samples::kWebRtcOffer, plan);
  // The public candidates stay; the srflx one no longer names its LAN base.
  EXPECT_EQ(lines_starting(out, "a=candidate:"),
            (std::vector<std::string>{
                "a=candidate:2 1 udp 1686052607 203.0.113.50 54400 typ srflx raddr 0.0.0.0 rport 0 generation 0",
                "a=candidate:5 1 udp 2122262783 2001:db8::20 54402 typ host generation 0"}));
  // Nothing else changes.
  EXPECT_NE(out.find("m=audio 54400 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 203.0.113.50\r\n"), std::string::npos);
  EXPECT_NE(out.find("o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"), std::string::npos);
}

TEST(SdpRewrite, StripKeepsPublicCandidatesByteForByte) {
  const std::string offer =
      "v=0\r\no=- 1 1 IN IP4 198.51.100.4\r\ns=-\r\nc=IN IP4 198.51.100.4\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"
      "a=candidate:abc 1 UDP 100 198.51.100.4 5000 typ host\r\n"
      "a=candidate:garbage\r\n"
      "a=candidate:x 1 UDP 100 printer.lan 5000 typ host\r\n"
      "a=candidate:y 1 UDP 100 100.64.0.9 5000 typ host\r\n";
  RewritePlan plan;
  plan.anchor = false;
  plan.anonymize_origin = false;
  const auto out = rewritten(offer, plan);
  EXPECT_EQ(lines_starting(out, "a=candidate"),
            std::vector<std::string>{"a=candidate:abc 1 UDP 100 198.51.100.4 5000 typ host"});
}

TEST(SdpRewrite, PlanErrors) {
  auto sdp = parse_ok(samples::kPhoneOffer);
  auto r = rewrite_sdp(sdp, anchor_plan({std::nullopt}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, MediaErrc::bad_plan);
  r = rewrite_sdp(sdp, anchor_plan({}));
  ASSERT_FALSE(r);
  auto plan = anchor_plan({StreamEndpoint{40000, 40001}});
  plan.address = "relay.example";
  r = rewrite_sdp(sdp, plan);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, MediaErrc::bad_plan);
}

TEST(AddressClass, PrivateAndPublic) {
  for (const char* a : {"10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.0.1", "100.64.0.1", "100.127.255.254",
                        "127.0.0.1", "169.254.1.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fc00::1",
                        "fd12:3456::1", "fe80::1", "febf::1", "ff02::1", "::ffff:192.168.1.1"})
    EXPECT_EQ(classify_address(a), AddressClass::private_ip) << a;
  for (const char* a : {"8.8.8.8", "203.0.113.7", "198.51.100.1", "172.32.0.1", "100.128.0.1", "192.169.0.1",
                        "2001:db8::1", "2a00:1450::1", "::ffff:8.8.8.8"})
    EXPECT_EQ(classify_address(a), AddressClass::public_ip) << a;
  EXPECT_EQ(classify_address("a1b2c3d4-0000-4000-8000-000000000001.local"), AddressClass::local_name);
  EXPECT_EQ(classify_address("PHONE.LOCAL"), AddressClass::local_name);
  EXPECT_EQ(classify_address("pbx.example.com"), AddressClass::hostname);
  EXPECT_EQ(classify_address(""), AddressClass::invalid);
  EXPECT_EQ(classify_address("a b"), AddressClass::invalid);
  EXPECT_TRUE(is_private_address("pbx.example.com"));
  EXPECT_FALSE(is_private_address("203.0.113.7"));
}

TEST(SdpRewrite, HostCandidatePriority) {
  EXPECT_EQ(host_candidate_priority(1), 2130706431U);
  EXPECT_EQ(host_candidate_priority(2), 2130706430U);
}

TEST(SdpRewrite, AnonymizingRemovesThePhoneUsersDetails) {
  const std::string offer =
      "v=0\r\no=jdoe 2890844526 2890842807 IN IP4 10.47.16.5\r\ns=Jane's desk phone\r\n"
      "i=A call from the 4th floor\r\nu=http://intranet.example/~jdoe\r\ne=jane@corp.example (Jane Doe)\r\n"
      "p=+1 617 555-6011\r\nc=IN IP4 10.47.16.5\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n"
      "i=handset\r\na=rtpmap:0 PCMU/8000\r\n";
  const auto out = rewritten(offer, anchor_plan({StreamEndpoint{40000, 40001}}));
  for (const char* gone : {"jdoe", "Jane", "4th floor", "intranet", "jane@", "555-6011", "10.47.16.5"}) {
    EXPECT_EQ(out.find(gone), std::string::npos) << gone << " in\n" << out;
  }
  EXPECT_EQ(lines_starting(out, "s="), std::vector<std::string>{"s=-"});
  EXPECT_EQ(lines_starting(out, "o="), std::vector<std::string>{"o=- 2890844526 2890842807 IN IP4 203.0.113.7"});
  EXPECT_EQ(lines_starting(out, "i="), std::vector<std::string>{"i=handset"});  // media titles stay

  RewritePlan keep = anchor_plan({StreamEndpoint{40000, 40001}});
  keep.anonymize_origin = false;
  const auto kept = rewritten(offer, keep);
  EXPECT_NE(kept.find("s=Jane's desk phone"), std::string::npos);
  EXPECT_NE(kept.find("e=jane@corp.example"), std::string::npos);
}

}  // namespace
}  // namespace sipsite::media
