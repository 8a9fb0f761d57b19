// The inter-site leg's SRTP: sealing hides the datagram, opening gives it
// back, and tampering, replays and other keys are told apart.

#include "sipsite/media/inter_site_cipher.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sipsite::media {
namespace {

struct Sealed {
  std::string bytes;
};

Sealed seal(InterSiteCipher& c, const std::string& datagram) {
  std::string packet(kTunnelHeader + datagram.size() + kTunnelTrailer, '\0');
  std::copy(datagram.begin(), datagram.end(), packet.begin() + kTunnelHeader);
  const auto n = c.seal(reinterpret_cast<unsigned char*>(packet.data()), datagram.size());
  EXPECT_NE(n, 0U);
  packet.resize(n);
  return {packet};
}

OpenResult open(InterSiteCipher& c, std::string packet, std::string* out = nullptr) {
  std::size_t inner = 0;
  const auto r = c.open(reinterpret_cast<unsigned char*>(packet.data()), packet.size(), inner);
  if (r == OpenResult::ok && out) *out = packet.substr(kTunnelHeader, inner);
  return r;
}

struct Pair {
  std::unique_ptr<InterSiteCipher> a = InterSiteCipher::create(*InterSiteKey::generate());
  std::unique_ptr<InterSiteCipher> b = InterSiteCipher::create(*InterSiteKey::generate());
  Pair() {
    EXPECT_TRUE(a->set_peer_key(b->send_key()));
    EXPECT_TRUE(b->set_peer_key(a->send_key()));
  }
};

const std::string kVoice =
    std::string("\x80\x00\x00\x07\x00\x00\x00\xa0\x11\x22\x33\x44", 12) + "MARKER-the phone's voice";

TEST(InterSiteCipher, SealedPacketHidesTheDatagramAndOpensOnTheOtherSide) {
  Pair p;
  const auto sealed = seal(*p.a, kVoice);
  EXPECT_EQ(sealed.bytes.find("MARKER"), std::string::npos);
  EXPECT_EQ(sealed.bytes.find("\x11\x22\x33\x44"), std::string::npos) << "the phone's SSRC shows";
  EXPECT_EQ(sealed.bytes.size(), kTunnelHeader + kVoice.size() + 16);  // the GCM tag
  EXPECT_EQ(static_cast<unsigned char>(sealed.bytes[0]), 0x80);
  EXPECT_EQ(static_cast<unsigned char>(sealed.bytes[1]), 127);
  std::string out;
  ASSERT_EQ(open(*p.b, sealed.bytes, &out), OpenResult::ok);
  EXPECT_EQ(out, kVoice);
  // The other direction has its own key: a's packet does not open at a.
  EXPECT_EQ(open(*p.a, seal(*p.a, kVoice).bytes), OpenResult::auth_failed);
}

TEST(InterSiteCipher, TamperedReplayedForeignAndShortPacketsDoNotOpen) {
  Pair p;
  const auto first = seal(*p.a, kVoice);
  for (std::size_t i = 0; i < first.bytes.size(); i += 7) {
    auto tampered = first.bytes;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    EXPECT_NE(open(*p.b, tampered), OpenResult::ok) << "flipped byte " << i;
  }
  EXPECT_EQ(open(*p.b, first.bytes), OpenResult::ok);
  EXPECT_EQ(open(*p.b, first.bytes), OpenResult::replayed);
  const auto stranger = InterSiteCipher::create(*InterSiteKey::generate());
  EXPECT_EQ(open(*p.b, seal(*stranger, kVoice).bytes), OpenResult::auth_failed);
  EXPECT_EQ(open(*p.b, kVoice), OpenResult::malformed);  // a phone's plain RTP
  EXPECT_EQ(open(*p.b, "x"), OpenResult::malformed);
  EXPECT_EQ(open(*p.b, ""), OpenResult::malformed);
  const auto unkeyed = InterSiteCipher::create(*InterSiteKey::generate());
  EXPECT_EQ(open(*unkeyed, seal(*p.a, kVoice).bytes), OpenResult::not_keyed);
}

TEST(InterSiteCipher, ManyPacketsAndReorderingWithinTheWindow) {
  Pair p;
  std::vector<std::string> sealed;
  for (int i = 0; i < 70000; ++i)
    sealed.push_back(seal(*p.a, kVoice + std::to_string(i)).bytes);  // past a sequence wrap
  // Deliver in pairs swapped: reordering is not a replay.
  for (std::size_t i = 0; i + 1 < sealed.size(); i += 2) {
    std::string out;
    ASSERT_EQ(open(*p.b, sealed[i + 1], &out), OpenResult::ok) << i;
    ASSERT_EQ(open(*p.b, sealed[i], &out), OpenResult::ok) << i;
    ASSERT_EQ(out, kVoice + std::to_string(i));
  }
}

TEST(InterSiteCipher, KeyAttributeRoundTripsAndRejectsAnythingElse) {
  const auto key = InterSiteKey::generate();
  ASSERT_TRUE(key);
  const auto text = key->to_attribute();
  EXPECT_EQ(text.rfind("AEAD_AES_128_GCM inline:", 0), 0U) << text;
  const auto back = InterSiteKey::from_attribute(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, *key);
  EXPECT_NE(*InterSiteKey::generate(), *key);
  const std::string b64 = text.substr(text.find(':') + 1);
  for (const std::string& bad :
       {std::string(""), std::string("AEAD_AES_128_GCM"), "AES_CM_128_HMAC_SHA1_80 inline:" + b64,
        "AEAD_AES_128_GCM " + b64, "AEAD_AES_128_GCM inline:" + b64.substr(4),
        "AEAD_AES_128_GCM inline:" + b64 + "AAAA", "AEAD_AES_128_GCM inline:" + std::string(40, '!'),
        "AEAD_AES_128_GCM inline:" + std::string(40, '=')}) {
    EXPECT_FALSE(InterSiteKey::from_attribute(bad)) << bad;
  }
}

TEST(InterSiteCipher, ANewPeerKeyReplacesTheReceiver) {
  Pair p;
  const auto c = InterSiteCipher::create(*InterSiteKey::generate());
  ASSERT_TRUE(p.b->set_peer_key(c->send_key()));
  EXPECT_EQ(open(*p.b, seal(*p.a, kVoice).bytes), OpenResult::auth_failed);
  EXPECT_EQ(open(*p.b, seal(*c, kVoice).bytes), OpenResult::ok);
  // The same key again keeps the replay window.
  const auto again = seal(*c, kVoice);
  ASSERT_EQ(open(*p.b, again.bytes), OpenResult::ok);
  ASSERT_TRUE(p.b->set_peer_key(c->send_key()));
  EXPECT_EQ(open(*p.b, again.bytes), OpenResult::replayed);
}

}  // namespace
}  // namespace sipsite::media
