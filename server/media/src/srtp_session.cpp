#include "srtp_session.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>
#include <mutex>
#include <vector>

namespace sipsite::media::detail {

namespace {

constexpr unsigned long kReplayWindow = 1024;

bool library_ready() {
  static std::once_flag once;
  static bool ready = false;
  std::call_once(once, [] { ready = srtp_init() == srtp_err_status_ok; });
  return ready;
}

}  // namespace

SrtpSession make_session(PolicySetter rtp, PolicySetter rtcp, const std::uint8_t* key, std::size_t key_size,
                         srtp_ssrc_type_t direction) {
  if (!library_ready()) return nullptr;
  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof policy);
  rtp(&policy.rtp);
  rtcp(&policy.rtcp);
  policy.ssrc.type = direction;
  // libsrtp takes the key through a non-const pointer (it does not write it).
  std::vector<std::uint8_t> material(key, key + key_size);
  policy.key = material.data();
  policy.window_size = kReplayWindow;
  policy.allow_repeat_tx = 0;
  srtp_t session = nullptr;
  const auto status = srtp_create(&session, &policy);
  OPENSSL_cleanse(material.data(), material.size());
  if (status != srtp_err_status_ok) return nullptr;
  return SrtpSession(session);
}

std::string encode_base64(const std::uint8_t* data, std::size_t n) {
  std::string out((n + 2) / 3 * 4 + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

std::optional<std::vector<std::uint8_t>> decode_base64(std::string_view text, std::size_t expected) {
  // The padded encoding of `expected` bytes, and nothing else.
  const std::size_t length = (expected + 2) / 3 * 4;
  const std::size_t padding = (3 - expected % 3) % 3;
  if (text.size() != length) return std::nullopt;
  for (std::size_t i = 0; i < length; ++i) {
    const bool pad = i >= length - padding;
    if ((text[i] == '=') != pad) return std::nullopt;
  }
  std::vector<std::uint8_t> out(length / 4 * 3);
  const int n =
      EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n != static_cast<int>(out.size())) return std::nullopt;  // -1: not base64
  OPENSSL_cleanse(out.data() + expected, out.size() - expected);
  out.resize(expected);
  return out;
}

bool random_bytes(std::uint8_t* out, std::size_t n) { return RAND_bytes(out, static_cast<int>(n)) == 1; }

}  // namespace sipsite::media::detail
