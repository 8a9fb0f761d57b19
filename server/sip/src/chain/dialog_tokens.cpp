#include "sipsite/sip/chain/dialog_tokens.hpp"

#include "sipsite/common/hex.hpp"

#include <openssl/crypto.h>

namespace sipsite::sip {
namespace {

std::uint64_t rotl(std::uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

// SipHash-2-4 (Aumasson, Bernstein), 64-bit output.
std::uint64_t siphash24(std::uint64_t k0, std::uint64_t k1, std::string_view in) {
  std::uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
  std::uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
  std::uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
  std::uint64_t v3 = 0x7465646279746573ULL ^ k1;
  const auto round = [&] {
    // The reference implementation's layout: one line per half-round.
    // clang-format off
    v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
    v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
    // clang-format on
  };
  const std::size_t n = in.size();
  std::size_t i = 0;
  const auto byte = [&in](std::size_t k) { return static_cast<std::uint64_t>(static_cast<unsigned char>(in[k])); };
  for (; i + 8 <= n; i += 8) {
    std::uint64_t m = 0;
    for (std::size_t j = 0; j < 8; ++j) m |= byte(i + j) << (8 * j);
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  std::uint64_t b = static_cast<std::uint64_t>(n) << 56;
  for (std::size_t j = 0; i + j < n; ++j) b |= byte(i + j) << (8 * j);
  v3 ^= b;
  round();
  round();
  v0 ^= b;
  v2 ^= 0xff;
  for (int r = 0; r < 4; ++r) round();
  return v0 ^ v1 ^ v2 ^ v3;
}

}  // namespace

DialogTokens::DialogTokens(Random& random) : key0_(random.next()), key1_(random.next()) {}

std::string DialogTokens::token(std::string_view call_id) const {
  return common::to_hex(siphash24(key0_, key1_, call_id));
}

bool DialogTokens::matches(std::string_view call_id, std::string_view token) const {
  const std::string expected = this->token(call_id);
  return token.size() == expected.size() && CRYPTO_memcmp(expected.data(), token.data(), expected.size()) == 0;
}

}  // namespace sipsite::sip
