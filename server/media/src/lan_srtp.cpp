#include "sipsite/media/lan_srtp.hpp"

#include "sipsite/media/inter_site_cipher.hpp"
#include "srtp_session.hpp"

#include <openssl/crypto.h>

#include <array>
#include <limits>

namespace sipsite::media {

namespace {

struct Suite {
  std::string_view name;
  std::size_t key_size;  // master key + salt
  detail::PolicySetter rtp;
  detail::PolicySetter rtcp;
};

// RFC 4568 §6.2: the _32 suite authenticates SRTCP with 80 bits.
constexpr std::array kSuites{
    Suite{"AES_CM_128_HMAC_SHA1_80", 30, srtp_crypto_policy_set_rtp_default, srtp_crypto_policy_set_rtcp_default},
    Suite{"AES_CM_128_HMAC_SHA1_32", 30, srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32,
          srtp_crypto_policy_set_rtcp_default},
    Suite{"AEAD_AES_128_GCM", 28, srtp_crypto_policy_set_aes_gcm_128_16_auth,
          srtp_crypto_policy_set_aes_gcm_128_16_auth},
};

const Suite* find_suite(std::string_view name) {
  for (const auto& s : kSuites)
    if (s.name == name) return &s;
  return nullptr;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

constexpr std::string_view kInline = "inline:";

}  // namespace

std::optional<LanSrtp> lan_srtp_from_string(std::string_view s) {
  if (s == "off") return LanSrtp::off;
  if (s == "offer") return LanSrtp::offer;
  if (s == "require") return LanSrtp::require;
  return std::nullopt;
}

std::string_view to_string(LanSrtp mode) noexcept {
  switch (mode) {
    case LanSrtp::off: return "off";
    case LanSrtp::require: return "require";
    case LanSrtp::offer: break;
  }
  return "offer";
}

std::optional<CryptoOffer> parse_crypto(std::string_view value) {
  // tag SP suite SP key-params [SP session-params]
  const auto s1 = value.find(' ');
  if (s1 == std::string_view::npos) return std::nullopt;
  const auto tag = value.substr(0, s1);
  if (!all_digits(tag) || tag.size() > 9) return std::nullopt;
  const auto rest = value.substr(s1 + 1);
  const auto s2 = rest.find(' ');
  if (s2 == std::string_view::npos) return std::nullopt;
  const Suite* suite = find_suite(rest.substr(0, s2));
  if (suite == nullptr) return std::nullopt;
  auto key_params = rest.substr(s2 + 1);
  if (key_params.find(' ') != std::string_view::npos) return std::nullopt;  // session parameters
  if (key_params.find(';') != std::string_view::npos) return std::nullopt;  // several keys (MKIs)
  if (key_params.substr(0, kInline.size()) != kInline) return std::nullopt;
  key_params.remove_prefix(kInline.size());
  // inline:<key||salt>[|lifetime][|MKI:length]: a lifetime is fine, an MKI is not.
  const auto bar = key_params.find('|');
  const auto material = key_params.substr(0, bar);
  if (bar != std::string_view::npos && key_params.substr(bar + 1).find(':') != std::string_view::npos)
    return std::nullopt;
  auto key = detail::decode_base64(material, suite->key_size);
  if (!key) return std::nullopt;
  return CryptoOffer{std::string(tag), std::string(suite->name), std::move(*key)};
}

struct SdesLeg::Impl {
  const Suite* suite = nullptr;
  std::string suite_name;
  std::vector<std::uint8_t> own_key;
  std::vector<std::uint8_t> phone_key;
  detail::SrtpSession sender;
  detail::SrtpSession receiver;

  ~Impl() {
    OPENSSL_cleanse(own_key.data(), own_key.size());
    OPENSSL_cleanse(phone_key.data(), phone_key.size());
  }
};

std::unique_ptr<SdesLeg> SdesLeg::create(std::string_view suite_name) {
  const Suite* suite = find_suite(suite_name);
  if (suite == nullptr) return nullptr;
  auto impl = std::make_unique<Impl>();
  impl->suite = suite;
  impl->suite_name = std::string(suite->name);
  impl->own_key.resize(suite->key_size);
  if (!detail::random_bytes(impl->own_key.data(), impl->own_key.size())) return nullptr;
  impl->sender =
      detail::make_session(suite->rtp, suite->rtcp, impl->own_key.data(), impl->own_key.size(), ssrc_any_outbound);
  if (!impl->sender) return nullptr;
  return std::unique_ptr<SdesLeg>(new SdesLeg(std::move(impl)));
}

SdesLeg::SdesLeg(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SdesLeg::~SdesLeg() = default;

const std::string& SdesLeg::suite() const { return impl_->suite_name; }

bool SdesLeg::set_phone_key(const CryptoOffer& offer) {
  if (offer.suite != impl_->suite_name || offer.key.size() != impl_->suite->key_size) return false;
  if (impl_->receiver && offer.key == impl_->phone_key) return true;
  auto receiver =
      detail::make_session(impl_->suite->rtp, impl_->suite->rtcp, offer.key.data(), offer.key.size(), ssrc_any_inbound);
  if (!receiver) return false;
  impl_->receiver = std::move(receiver);
  impl_->phone_key = offer.key;
  return true;
}

bool SdesLeg::keyed() const { return impl_->receiver != nullptr; }

std::string SdesLeg::attribute(std::string_view tag) const {
  return std::string(tag) + " " + impl_->suite_name + " " + std::string(kInline) +
         detail::encode_base64(impl_->own_key.data(), impl_->own_key.size());
}

LegResult SdesLeg::unprotect(unsigned char* packet, std::size_t& n, bool rtcp) {
  if (!impl_->receiver) return LegResult::not_keyed;
  if (n > static_cast<std::size_t>(std::numeric_limits<int>::max()) || n < (rtcp ? 8U : 12U)) return LegResult::failed;
  int len = static_cast<int>(n);
  const auto status = rtcp ? srtp_unprotect_rtcp(impl_->receiver.get(), packet, &len)
                           : srtp_unprotect(impl_->receiver.get(), packet, &len);
  if (status == srtp_err_status_replay_fail || status == srtp_err_status_replay_old) return LegResult::replayed;
  if (status != srtp_err_status_ok) return LegResult::failed;
  n = static_cast<std::size_t>(len);
  return LegResult::ok;
}

LegResult SdesLeg::protect(unsigned char* packet, std::size_t& n, bool rtcp) {
  if (n > static_cast<std::size_t>(std::numeric_limits<int>::max()) - kTunnelTrailer || n < (rtcp ? 8U : 12U))
    return LegResult::failed;
  int len = static_cast<int>(n);
  const auto status =
      rtcp ? srtp_protect_rtcp(impl_->sender.get(), packet, &len) : srtp_protect(impl_->sender.get(), packet, &len);
  if (status != srtp_err_status_ok) return LegResult::failed;
  n = static_cast<std::size_t>(len);
  return LegResult::ok;
}

std::string plain_profile(std::string_view proto) {
  if (proto == "RTP/SAVP") return "RTP/AVP";
  if (proto == "RTP/SAVPF") return "RTP/AVPF";
  return std::string(proto);
}

std::string secure_profile(std::string_view proto) {
  if (proto == "RTP/AVP") return "RTP/SAVP";
  if (proto == "RTP/AVPF") return "RTP/SAVPF";
  return std::string(proto);
}

bool is_sdes_profile(std::string_view proto) { return proto == "RTP/SAVP" || proto == "RTP/SAVPF"; }

}  // namespace sipsite::media
