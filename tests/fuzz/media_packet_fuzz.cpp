// libFuzzer target for what the media relay does to packets (issue 14):
// the inter-site SRTP tunnel, phones' SDES-SRTP legs, RTCP anonymization and
// the key attributes, fed bytes an attacker on the path or on the LAN could
// send. The first input byte chooses the part; the rest is the packet.
// Invariants (abort on violation):
//   - nothing opens under a key the input could not know: a packet that
//     opens the tunnel or a phone's SRTP leg is one this harness sealed;
//   - sealing then opening gives the datagram back, and a replay of it is
//     refused;
//   - RTCP anonymization never grows past the capacity given, and what it
//     rewrote carries no SDES item but the opaque CNAME;
//   - a key attribute that parses renders back to the same key.

#include "sipsite/media/inter_site_cipher.hpp"
#include "sipsite/media/lan_srtp.hpp"
#include "sipsite/media/rtcp_privacy.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace sipsite::media;

void check(bool invariant) {
  if (!invariant) std::abort();
}

struct Fixture {
  std::unique_ptr<InterSiteCipher> near = InterSiteCipher::create(*InterSiteKey::generate());
  std::unique_ptr<InterSiteCipher> far = InterSiteCipher::create(*InterSiteKey::generate());
  std::unique_ptr<SdesLeg> phone = SdesLeg::create("AES_CM_128_HMAC_SHA1_80");
  std::unique_ptr<SdesLeg> relay = SdesLeg::create("AES_CM_128_HMAC_SHA1_80");
  Fixture() {
    check(near && far && phone && relay);
    check(near->set_peer_key(far->send_key()));
    check(far->set_peer_key(near->send_key()));
    const auto relay_side = parse_crypto(relay->attribute("1"));
    const auto phone_side = parse_crypto(phone->attribute("1"));
    check(relay_side && phone_side);
    check(phone->set_phone_key(*relay_side));
    check(relay->set_phone_key(*phone_side));
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

// Bytes from the wire: the tunnel and the phone's leg must refuse them.
void forged(const std::uint8_t* data, std::size_t n) {
  std::vector<unsigned char> buf(data, data + n);
  buf.resize(n + kTunnelTrailer);
  std::size_t inner = 0;
  check(fixture().near->open(buf.data(), n, inner) != OpenResult::ok);
  for (const bool rtcp : {false, true}) {
    std::vector<unsigned char> copy(data, data + n);
    copy.resize(n + kTunnelTrailer);
    std::size_t len = n;
    check(fixture().relay->unprotect(copy.data(), len, rtcp) != LegResult::ok);
  }
}

// A datagram through the tunnel: it comes back whole, once.
void round_trip(const std::uint8_t* data, std::size_t n) {
  std::vector<unsigned char> packet(kTunnelHeader + n + kTunnelTrailer);
  std::memcpy(packet.data() + kTunnelHeader, data, n);
  const std::size_t sealed = fixture().near->seal(packet.data(), n);
  check(sealed == kTunnelHeader + n + 16);
  std::vector<unsigned char> copy(packet.begin(), packet.begin() + static_cast<std::ptrdiff_t>(sealed));
  std::size_t inner = 0;
  check(fixture().far->open(packet.data(), sealed, inner) == OpenResult::ok);
  check(inner == n && std::memcmp(packet.data() + kTunnelHeader, data, n) == 0);
  check(fixture().far->open(copy.data(), sealed, inner) == OpenResult::replayed);
}

// RTCP leaving the site.
void anonymized(const std::uint8_t* data, std::size_t n) {
  static const std::string kCname = "0123456789abcdef";
  const std::size_t capacity = n + 64;
  std::vector<unsigned char> buf(data, data + n);
  buf.resize(capacity);
  const std::size_t out = anonymize_rtcp(buf.data(), n, capacity, kCname);
  check(out <= capacity);
  if (out == n && std::memcmp(buf.data(), data, n) == 0) return;  // left alone
  // Rewritten: a compound of whole packets whose SDES items are the CNAME only.
  for (std::size_t at = 0; at < out;) {
    check(out - at >= 4);
    const std::size_t len = (std::size_t{static_cast<std::size_t>(buf[at + 2] << 8 | buf[at + 3])} + 1) * 4;
    check(len <= out - at);
    check(buf[at + 1] != 204);  // APP packets go
    if (buf[at + 1] == 202) {
      std::size_t pos = at + 4;
      const unsigned chunks = buf[at] & 0x1f;
      for (unsigned c = 0; c < chunks; ++c) {
        pos += 4;  // SSRC
        check(pos + 2 + kCname.size() <= at + len);
        check(buf[pos] == 1 && buf[pos + 1] == kCname.size());
        check(std::memcmp(buf.data() + pos + 2, kCname.data(), kCname.size()) == 0);
        pos = (pos + 2 + kCname.size() + 4) & ~std::size_t{3};
      }
    }
    at += len;
  }
}

void attributes(const std::uint8_t* data, std::size_t n) {
  const std::string_view text(reinterpret_cast<const char*>(data), n);
  if (const auto key = InterSiteKey::from_attribute(text)) {
    check(InterSiteKey::from_attribute(key->to_attribute()) == key);
  }
  if (const auto crypto = parse_crypto(text)) {
    auto leg = SdesLeg::create(crypto->suite);
    check(leg != nullptr);
    check(leg->set_phone_key(*crypto));
    check(parse_crypto(leg->attribute(crypto->tag)).has_value());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1 || size > 4096) return 0;
  const std::uint8_t part = data[0] % 4;
  ++data;
  --size;
  switch (part) {
    case 0: forged(data, size); break;
    case 1: round_trip(data, size); break;
    case 2: anonymized(data, size); break;
    default: attributes(data, size);
  }
  return 0;
}
