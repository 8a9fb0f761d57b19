#include "sipsite/media/inter_site_cipher.hpp"

#include "srtp_session.hpp"

#include <openssl/crypto.h>

#include <cstring>
#include <limits>

namespace sipsite::media {

namespace {

constexpr std::uint8_t kTunnelPayloadType = 127;
constexpr std::string_view kInline = "inline:";

static_assert(kTunnelTrailer >= SRTP_MAX_TRAILER_LEN);

detail::SrtpSession make_session(const InterSiteKey& key, srtp_ssrc_type_t direction) {
  return detail::make_session(srtp_crypto_policy_set_aes_gcm_128_16_auth, srtp_crypto_policy_set_aes_gcm_128_16_auth,
                              key.bytes().data(), key.bytes().size(), direction);
}

std::uint32_t random_u32() {
  std::uint32_t v = 0;
  if (!detail::random_bytes(reinterpret_cast<std::uint8_t*>(&v), sizeof v)) return 0x5a5a5a5a;
  return v;
}

}  // namespace

std::optional<InterSiteKey> InterSiteKey::generate() {
  InterSiteKey key;
  if (!detail::random_bytes(key.bytes_.data(), key.bytes_.size())) return std::nullopt;
  return key;
}

std::optional<InterSiteKey> InterSiteKey::from_attribute(std::string_view value) {
  const auto space = value.find(' ');
  if (space == std::string_view::npos || value.substr(0, space) != kInterSiteSuite) return std::nullopt;
  auto rest = value.substr(space + 1);
  if (rest.substr(0, kInline.size()) != kInline) return std::nullopt;
  rest.remove_prefix(kInline.size());
  auto decoded = detail::decode_base64(rest, kSize);
  if (!decoded) return std::nullopt;
  InterSiteKey key;
  std::memcpy(key.bytes_.data(), decoded->data(), kSize);
  OPENSSL_cleanse(decoded->data(), decoded->size());
  return key;
}

std::string InterSiteKey::to_attribute() const {
  return std::string(kInterSiteSuite) + " " + std::string(kInline) +
         detail::encode_base64(bytes_.data(), bytes_.size());
}

struct InterSiteCipher::Impl {
  InterSiteKey send_key;
  std::optional<InterSiteKey> peer_key;
  detail::SrtpSession sender;
  detail::SrtpSession receiver;
  std::uint32_t ssrc = random_u32();
  std::uint16_t seq = static_cast<std::uint16_t>(random_u32() & 0x7fff);  // RFC 3550: random start
};

std::unique_ptr<InterSiteCipher> InterSiteCipher::create(const InterSiteKey& send_key) {
  auto impl = std::make_unique<Impl>();
  impl->send_key = send_key;
  impl->sender = make_session(send_key, ssrc_any_outbound);
  if (!impl->sender) return nullptr;
  return std::unique_ptr<InterSiteCipher>(new InterSiteCipher(std::move(impl)));
}

InterSiteCipher::InterSiteCipher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
InterSiteCipher::~InterSiteCipher() = default;

bool InterSiteCipher::set_peer_key(const InterSiteKey& key) {
  if (impl_->peer_key && *impl_->peer_key == key && impl_->receiver) return true;
  auto receiver = make_session(key, ssrc_any_inbound);
  if (!receiver) return false;
  impl_->receiver = std::move(receiver);
  impl_->peer_key = key;
  return true;
}

bool InterSiteCipher::keyed() const { return impl_->receiver != nullptr; }

const InterSiteKey& InterSiteCipher::send_key() const { return impl_->send_key; }

std::size_t InterSiteCipher::seal(unsigned char* packet, std::size_t n) {
  constexpr std::size_t kMaxPayload = std::numeric_limits<int>::max() - kTunnelHeader - kTunnelTrailer;
  if (n > kMaxPayload) return 0;
  const std::uint16_t seq = impl_->seq++;
  const std::uint32_t ssrc = impl_->ssrc;
  packet[0] = 0x80;  // V=2, no padding, extension or CSRC
  packet[1] = kTunnelPayloadType;
  packet[2] = static_cast<unsigned char>(seq >> 8);
  packet[3] = static_cast<unsigned char>(seq);
  std::memset(packet + 4, 0, 4);  // timestamp: the relay has no media clock to reveal
  packet[8] = static_cast<unsigned char>(ssrc >> 24);
  packet[9] = static_cast<unsigned char>(ssrc >> 16);
  packet[10] = static_cast<unsigned char>(ssrc >> 8);
  packet[11] = static_cast<unsigned char>(ssrc);
  int len = static_cast<int>(kTunnelHeader + n);
  if (srtp_protect(impl_->sender.get(), packet, &len) != srtp_err_status_ok) return 0;
  return static_cast<std::size_t>(len);
}

OpenResult InterSiteCipher::open(unsigned char* packet, std::size_t n, std::size_t& inner) {
  if (!impl_->receiver) return OpenResult::not_keyed;
  // A tunnel packet is the fixed header (no CSRC, no extension) plus a tag.
  if (n < kTunnelHeader + 16 || n > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return OpenResult::malformed;
  }
  if (packet[0] != 0x80 || (packet[1] & 0x7f) != kTunnelPayloadType) return OpenResult::malformed;
  int len = static_cast<int>(n);
  switch (srtp_unprotect(impl_->receiver.get(), packet, &len)) {
    case srtp_err_status_ok: break;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old: return OpenResult::replayed;
    case srtp_err_status_auth_fail:
    case srtp_err_status_cipher_fail: return OpenResult::auth_failed;
    default: return OpenResult::malformed;
  }
  inner = static_cast<std::size_t>(len) - kTunnelHeader;
  return OpenResult::ok;
}

std::string_view to_string(OpenResult r) noexcept {
  switch (r) {
    case OpenResult::ok: return "ok";
    case OpenResult::not_keyed: return "not keyed";
    case OpenResult::malformed: return "malformed";
    case OpenResult::auth_failed: return "authentication failed";
    case OpenResult::replayed: return "replayed";
  }
  return "unknown";
}

}  // namespace sipsite::media
