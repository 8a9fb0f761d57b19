#include <sipsite/webadmin/password.hpp>

#include <argon2.h>
#include <openssl/rand.h>

#include <array>
#include <vector>

namespace sipsite::webadmin {

namespace {
constexpr std::string_view kAlphabet = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;
}  // namespace

std::string generate_one_time_password() {
  std::string out;
  std::array<unsigned char, 1> byte{};
  while (out.size() < 23) {
    if (out.size() % 6 == 5) {
      out += '-';
      continue;
    }
    // Rejection sampling keeps every character equally likely.
    if (RAND_bytes(byte.data(), 1) != 1) continue;
    const std::size_t limit = 256 - 256 % kAlphabet.size();
    if (byte[0] >= limit) continue;
    out += kAlphabet[byte[0] % kAlphabet.size()];
  }
  return out;
}

std::optional<std::string> hash_password(std::string_view password) {
  std::array<unsigned char, kSaltBytes> salt{};
  if (RAND_bytes(salt.data(), salt.size()) != 1) return std::nullopt;
  const std::size_t encoded_len =
      argon2_encodedlen(kArgon2Passes, kArgon2MemoryKiB, kArgon2Lanes, kSaltBytes, kHashBytes, Argon2_id);
  std::vector<char> encoded(encoded_len);
  const int rc = argon2id_hash_encoded(kArgon2Passes, kArgon2MemoryKiB, kArgon2Lanes, password.data(), password.size(),
                                       salt.data(), salt.size(), kHashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) return std::nullopt;
  return std::string(encoded.data());
}

bool verify_password(std::string_view encoded_hash, std::string_view password) {
  const std::string hash(encoded_hash);  // argon2 wants a NUL-terminated string
  return argon2id_verify(hash.c_str(), password.data(), password.size()) == ARGON2_OK;
}

}  // namespace sipsite::webadmin
