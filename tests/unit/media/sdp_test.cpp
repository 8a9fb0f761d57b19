// SDP parse/serialize: lossless round trips (RFC 4566/8866 examples, a
// WebRTC offer with ICE and DTLS, SDES and ZRTP attributes), typed views,
// and clear errors for broken structure.

#include "sdp_samples.hpp"
#include "sipsite/media/sdp.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sipsite::media {
namespace {

Sdp parse_ok(std::string_view text) {
  auto r = parse_sdp(text);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().reason);
  return r ? *r : Sdp{};
}

MediaError parse_error(std::string_view text) {
  auto r = parse_sdp(text);
  EXPECT_FALSE(r.has_value());
  return r ? MediaError{} : r.error();
}

TEST(Sdp, Rfc8866ExampleRoundTripsAndParses) {
  const auto sdp = parse_ok(samples::kRfc8866);
  EXPECT_EQ(serialize(sdp), samples::kRfc8866);
  ASSERT_EQ(sdp.media.size(), 3U);
  EXPECT_EQ(sdp.media[0].m.media, "audio");
  EXPECT_EQ(sdp.media[0].m.port, 49170);
  EXPECT_EQ(sdp.media[0].m.proto, "RTP/AVP");
  EXPECT_EQ(sdp.media[0].m.formats, std::vector<std::string>{"0"});
  EXPECT_EQ(sdp.media[1].m.port, 49180);
  EXPECT_EQ(sdp.media[2].m.media, "video");
  const auto origin = sdp.origin();
  ASSERT_TRUE(origin);
  EXPECT_EQ(origin->username, "jdoe");
  EXPECT_EQ(origin->session_id, "3724394400");
  EXPECT_EQ(origin->address, "198.51.100.1");
  // Session-level c= applies to the first two; the video has its own IPv6 c=.
  ASSERT_TRUE(sdp.connection_for(0));
  EXPECT_EQ(sdp.connection_for(0)->address, "198.51.100.1");
  ASSERT_TRUE(sdp.connection_for(2));
  EXPECT_EQ(sdp.connection_for(2)->addr_type, "IP6");
  EXPECT_EQ(sdp.connection_for(2)->address, "2001:db8::2");
  EXPECT_EQ(sdp.media[2].attribute("rtpmap"), "99 h263-1998/90000");
}

TEST(Sdp, Rfc4566MulticastExampleKeepsTtl) {
  const auto sdp = parse_ok(samples::kRfc4566);
  EXPECT_EQ(serialize(sdp), samples::kRfc4566);
  const auto c = sdp.connection();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->address, "224.2.17.12");
  EXPECT_EQ(c->suffix, "/127");
  EXPECT_EQ(c->render(), "IN IP4 224.2.17.12/127");
  EXPECT_EQ(sdp.attribute("recvonly"), "");
  EXPECT_EQ(sdp.media[0].direction(), "sendrecv");
}

TEST(Sdp, WebRtcOfferWithIceAndDtlsRoundTrips) {
  const auto sdp = parse_ok(samples::kWebRtcOffer);
  EXPECT_EQ(serialize(sdp), samples::kWebRtcOffer);
  ASSERT_EQ(sdp.media.size(), 3U);
  const auto& audio = sdp.media[0];
  EXPECT_EQ(audio.m.proto, "UDP/TLS/RTP/SAVPF");
  EXPECT_TRUE(audio.rtcp_mux());
  EXPECT_EQ(audio.attribute("ice-ufrag"), "8hhY");
  EXPECT_EQ(audio.attribute("setup"), "actpass");
  EXPECT_TRUE(audio.has_attribute("end-of-candidates"));
  const auto rtcp = audio.rtcp();
  ASSERT_TRUE(rtcp);
  EXPECT_EQ(rtcp->port, 9);
  ASSERT_TRUE(rtcp->connection);
  EXPECT_EQ(rtcp->connection->address, "0.0.0.0");
  EXPECT_EQ(sdp.media[2].m.media, "application");
  EXPECT_EQ(sdp.media[2].m.formats, std::vector<std::string>{"webrtc-datachannel"});
}

TEST(Sdp, SdesCryptoAndZrtpHashKeptByteForByte) {
  const auto sdp = parse_ok(samples::kSdesZrtp);
  const auto out = serialize(sdp);
  EXPECT_EQ(out, samples::kSdesZrtp);
  EXPECT_NE(out.find("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4\r\n"),
            std::string::npos);
  EXPECT_NE(out.find("a=zrtp-hash:1.10 fe30efd02423cb054e50efd0248742ac7a52c8f91bc2df881ae642c371ba46df\r\n"),
            std::string::npos);
}

TEST(Sdp, LfOnlyAndMissingFinalLineEndingArePreserved) {
  const std::string lf = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 4000 RTP/AVP 0\n";
  const auto a = parse_ok(lf);
  EXPECT_EQ(a.eol, "\n");
  EXPECT_EQ(serialize(a), lf);
  const std::string no_final = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nm=audio 4000 RTP/AVP 0";
  EXPECT_EQ(serialize(parse_ok(no_final)), no_final);
  // Mixed endings are tolerated; each line keeps its own.
  const std::string mixed = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\ns=-\r\nm=audio 4000 RTP/AVP 0\n";
  EXPECT_EQ(serialize(parse_ok(mixed)), mixed);
}

TEST(Sdp, UnknownLinesAndAttributesKeptInOrder) {
  const std::string text =
      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nx=something new\r\nt=0 0\r\na=tool:foo bar\r\n"
      "m=audio 4000 RTP/AVP 0 8 101\r\nb=AS:64\r\na=x-custom:1 2 3\r\na=rtpmap:101 telephone-event/8000\r\n"
      "a=fmtp:101 0-15\r\nz=0 0\r\na=sendonly\r\n";
  const auto sdp = parse_ok(text);
  EXPECT_EQ(serialize(sdp), text);
  EXPECT_EQ(sdp.media[0].direction(), "sendonly");
  EXPECT_EQ(sdp.media[0].m.formats.size(), 3U);
}

TEST(Sdp, BlankLinesAreDropped) {
  const auto sdp = parse_ok("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n\r\nm=audio 4000 RTP/AVP 0\r\n\r\n");
  EXPECT_EQ(serialize(sdp), "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nm=audio 4000 RTP/AVP 0\r\n");
}

TEST(Sdp, MediaLineWithPortCountAndRender) {
  const auto m = parse_media_line("video 49170/2 RTP/AVP 31");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->port, 49170);
  EXPECT_EQ(m->port_count, 2);
  EXPECT_EQ(m->render(), "video 49170/2 RTP/AVP 31");
  auto changed = *m;
  changed.port = 40000;
  changed.port_count.reset();
  EXPECT_EQ(changed.render(), "video 40000 RTP/AVP 31");
  EXPECT_FALSE(parse_media_line("audio 65536 RTP/AVP 0"));
  EXPECT_FALSE(parse_media_line("audio 4000/0 RTP/AVP 0"));
  EXPECT_FALSE(parse_media_line("audio -1 RTP/AVP 0"));
  EXPECT_FALSE(parse_media_line("audio 4000"));
}

TEST(Sdp, ChangedMediaPortIsSerialized) {
  auto sdp = parse_ok(samples::kPhoneOffer);
  sdp.media[0].m.port = 40002;
  const auto out = serialize(sdp);
  EXPECT_NE(out.find("m=audio 40002 RTP/AVP 0 8 101\r\n"), std::string::npos);
}

TEST(Sdp, RtcpAttributeRfc3605) {
  const auto a = parse_rtcp("53020");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port, 53020);
  EXPECT_FALSE(a->connection);
  const auto b = parse_rtcp("53020 IN IP4 126.16.64.4");
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->connection);
  EXPECT_EQ(b->connection->address, "126.16.64.4");
  EXPECT_EQ(b->render(), "rtcp:53020 IN IP4 126.16.64.4");
  const auto c = parse_rtcp("53020 IN IP6 2001:2345:6789:ABCD:EF01:2345:6789:ABCD");
  ASSERT_TRUE(c);
  EXPECT_FALSE(parse_rtcp("port"));
  EXPECT_FALSE(parse_rtcp("53020 IN IP4"));
}

TEST(Sdp, CandidateParseAndRender) {
  const std::string v = "1 1 UDP 1694498815 192.0.2.3 45664 typ srflx raddr 10.0.1.1 rport 8998 generation 0";
  const auto c = parse_candidate(v);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->component, 1U);
  EXPECT_EQ(c->address, "192.0.2.3");
  EXPECT_EQ(c->port, 45664);
  EXPECT_EQ(c->type, "srflx");
  ASSERT_EQ(c->extensions.size(), 3U);
  EXPECT_EQ(c->extensions[0].first, "raddr");
  EXPECT_EQ(c->render(), "candidate:" + v);
  EXPECT_FALSE(parse_candidate("1 1 UDP 1 192.0.2.3 45664 host"));
  EXPECT_FALSE(parse_candidate("1 1 UDP 1 192.0.2.3 notaport typ host"));
}

TEST(Sdp, ConnectionLines) {
  EXPECT_TRUE(parse_connection("IN IP4 192.0.2.1"));
  EXPECT_TRUE(parse_connection("IN IP4 host.example.com"));
  EXPECT_TRUE(parse_connection("IN IP6 ::1"));
  EXPECT_TRUE(parse_connection("IN IP4 233.252.0.1/127/3"));
  EXPECT_FALSE(parse_connection("IN IP4"));
  EXPECT_FALSE(parse_connection("IN IP4 999.1.1.1"));
  EXPECT_FALSE(parse_connection("IN IP4 ::1"));
  EXPECT_FALSE(parse_connection("IN IP6 192.0.2.1"));
  EXPECT_FALSE(parse_connection("IN IP9 192.0.2.1"));
  EXPECT_FALSE(parse_connection("ATM NSAP 47.0091"));
  EXPECT_FALSE(parse_connection("IN IP4 192.0.2.1/abc"));
  EXPECT_EQ(make_connection("2001:db8::1").render(), "IN IP6 2001:db8::1");
  EXPECT_EQ(make_connection("203.0.113.7").render(), "IN IP4 203.0.113.7");
}

TEST(Sdp, BrokenStructureIsAnErrorWithAReason) {
  const std::string o = "o=- 1 1 IN IP4 192.0.2.1\r\n";
  for (const std::string& bad : std::vector<std::string>{
           std::string(), std::string("\r\n\r\n"),
           "s=-\r\nv=0\r\n" + o,                         // v= not first
           "v=1\r\n" + o,                                // unknown version
           "v=0\r\ns=-\r\n",                             // no o=
           "v=0\r\no=- 1 IN IP4 x\r\n",                  // malformed o=
           "v=0\r\n" + o + "v=0\r\n",                    // second v=
           "v=0\r\n" + o + "m=audio abc RTP/AVP 0\r\n",  // bad m= port
           "v=0\r\n" + o + "m=audio\r\n",                // bad m=
           "v=0\r\n" + o + "m=audio 4000\r\n",           // no proto
           "v=0\r\n" + o + "c=IN IP4\r\n",               // c= unparsable
           "v=0\r\n" + o + "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 1.2.3.4.5\r\n",
           "v=0\r\n" + o + "m=audio 4000 RTP/AVP 0\r\na=rtcp:x\r\n",
           "v=0\r\n" + o + "hello\r\n",  // not <type>=<value>
           "v=0\r\n" + o + "A=upper\r\n",
           "v=0\r\n" + o + "s=a\rb\r\n",                  // bare CR
           "v=0\r\n" + o + std::string("s=a\0b\r\n", 7),  // NUL
       }) {
    const auto e = parse_error(bad);
    EXPECT_EQ(e.code, MediaErrc::bad_sdp) << bad;
    EXPECT_EQ(e.sip_status(), 488);
    EXPECT_FALSE(e.reason.empty());
  }
}

TEST(Sdp, LimitsOnMediaSectionsAndSize) {
  std::string text = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n";
  for (std::size_t i = 0; i < kMaxMediaSections; ++i)
    text += "m=audio " + std::to_string(4000 + 2 * i) + " RTP/AVP 0\r\n";
  EXPECT_EQ(parse_ok(text).media.size(), kMaxMediaSections);
  const auto e = parse_error(text + "m=audio 9 RTP/AVP 0\r\n");
  EXPECT_NE(e.reason.find("m= lines"), std::string::npos) << e.reason;

  std::string big = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n";
  while (big.size() <= kMaxSdpSize) big += "a=x-padding:" + std::string(100, 'p') + "\r\n";
  const auto e2 = parse_error(big);
  EXPECT_NE(e2.reason.find("KiB"), std::string::npos) << e2.reason;
}

}  // namespace
}  // namespace sipsite::media
