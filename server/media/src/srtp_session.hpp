#pragma once
// Private: libsrtp2 sessions as RAII handles, for the inter-site tunnel and
// the phones' SDES legs.

#include <srtp2/srtp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::media::detail {

struct SessionDeleter {
  void operator()(srtp_ctx_t* s) const noexcept {
    if (s != nullptr) srtp_dealloc(s);
  }
};
using SrtpSession = std::unique_ptr<srtp_ctx_t, SessionDeleter>;

// The crypto policies of a suite, set on a policy's rtp and rtcp members.
using PolicySetter = void (*)(srtp_crypto_policy_t*);

// A session for one direction (ssrc_any_outbound or ssrc_any_inbound) with
// `key` (master key || salt, as long as the suite needs) and a replay window
// of 1024 packets; null if libsrtp cannot be initialised or refuses.
SrtpSession make_session(PolicySetter rtp, PolicySetter rtcp, const std::uint8_t* key, std::size_t key_size,
                         srtp_ssrc_type_t direction);

// Base64 (RFC 4648, padded) of key material, as SDP key attributes carry it.
std::string encode_base64(const std::uint8_t* data, std::size_t n);
// Exactly `expected` bytes, or nullopt (bad characters, wrong length).
std::optional<std::vector<std::uint8_t>> decode_base64(std::string_view text, std::size_t expected);

// `n` random bytes from OpenSSL's CSPRNG into `out`; false if it fails.
bool random_bytes(std::uint8_t* out, std::size_t n);

}  // namespace sipsite::media::detail
