#include "sipsite/webadmin/live_state.hpp"

#include <openssl/evp.h>

#include <array>

namespace sipsite::webadmin {

std::string media_call_id(std::string_view call_key) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  if (EVP_Digest(call_key.data(), call_key.size(), digest.data(), &len, EVP_sha256(), nullptr) != 1 || len < 6) {
    return "000000000000";  // not reachable with a working libcrypto; never the key itself
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < 6; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0x0f];
  }
  return out;
}

}  // namespace sipsite::webadmin
