// RTCP leaving the site: SDES items and BYE reasons that name the phone or
// its user are replaced; everything else passes as it was.

#include "sipsite/media/rtcp_privacy.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sipsite::media {
namespace {

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// A packet of type `pt` with `count` and `body`, padded to 32 bits.
std::string packet(std::uint8_t pt, unsigned count, std::string body) {
  while (body.size() % 4 != 0) body.push_back('\0');
  const auto words = body.size() / 4;
  return std::string{static_cast<char>(0x80 | count), static_cast<char>(pt), static_cast<char>(words >> 8),
                     static_cast<char>(words)} +
         body;
}

std::string sr(std::uint32_t ssrc) { return packet(200, 0, be32(ssrc) + std::string(20, '\x05')); }

std::string item(std::uint8_t type, const std::string& v) {
  return std::string{static_cast<char>(type), static_cast<char>(v.size())} + v;
}

std::string sdes_chunk(std::uint32_t ssrc, const std::string& items) {
  std::string c = be32(ssrc) + items + std::string(1, '\0');
  while (c.size() % 4 != 0) c.push_back('\0');
  return c;
}

std::string anonymized(const std::string& in, std::string_view cname, std::size_t capacity = 1500) {
  std::string buf = in;
  buf.resize(std::max(in.size(), capacity));
  const auto n = anonymize_rtcp(reinterpret_cast<unsigned char*>(buf.data()), in.size(), capacity, cname);
  buf.resize(n);
  return buf;
}

TEST(RtcpPrivacy, SdesKeepsTheSsrcAndOnlyAnOpaqueCname) {
  const std::string in =
      sr(0x11223344) +
      packet(202, 2,
             sdes_chunk(0x11223344, item(1, "alice@192.168.77.5") + item(2, "Alice Smith") + item(6, "Phone 1.2.3")) +
                 sdes_chunk(0x55667788, item(1, "x@10.0.0.9")));
  const auto out = anonymized(in, "0123456789abcdef");
  for (const char* leak : {"alice", "192.168", "Smith", "Phone 1.2.3", "10.0.0.9"})
    EXPECT_EQ(out.find(leak), std::string::npos) << leak;
  const std::string expected = sr(0x11223344) + packet(202, 2,
                                                       sdes_chunk(0x11223344, item(1, "0123456789abcdef")) +
                                                           sdes_chunk(0x55667788, item(1, "0123456789abcdef")));
  EXPECT_EQ(out, expected);
}

TEST(RtcpPrivacy, ByeLosesItsReasonAndAppGoes) {
  const std::string in = sr(1) + packet(203, 1, be32(1) + std::string("\x0b") + "hanging up") +
                         packet(204, 0, be32(1) + "NAME" + "secret app data");
  EXPECT_EQ(anonymized(in, "c"), sr(1) + packet(203, 1, be32(1)));
}

TEST(RtcpPrivacy, WhatIsNotExactlyPlainRtcpPassesUnchanged) {
  const std::string rr = packet(201, 0, be32(7));
  EXPECT_EQ(anonymized(rr, "c"), rr);  // nothing to rewrite
  // SRTCP: the encrypted rest and the trailer never add up to whole packets.
  const std::string srtcp = sr(9) + std::string("\x8a\xca\x00\x09", 4) + std::string(30, '\x42');
  EXPECT_EQ(anonymized(srtcp, "c"), srtcp);
  const std::string rtp = std::string("\x80\x00\x00\x01", 4) + std::string(20, 'v');
  EXPECT_EQ(anonymized(rtp, "c"), rtp);
  EXPECT_EQ(anonymized("", "c"), "");
}

TEST(RtcpPrivacy, MalformedSdesIsDroppedNotPassedOn) {
  // The chunk's item runs past the packet.
  const std::string bad_sdes = packet(202, 1, be32(3) + std::string("\x01\x30", 2) + "alice");
  const auto out = anonymized(sr(3) + bad_sdes, "c");
  EXPECT_EQ(out, sr(3));
  EXPECT_EQ(anonymized(bad_sdes, "c"), "");  // nothing left: not sent
}

TEST(RtcpPrivacy, NoRoomMeansNotSent) {
  const std::string in = packet(202, 1, sdes_chunk(3, item(1, "a")));
  EXPECT_EQ(anonymize_rtcp(reinterpret_cast<unsigned char*>(std::string(in).data()), in.size(), in.size(),
                           std::string(40, 'c')),
            0U);
}

}  // namespace
}  // namespace sipsite::media
