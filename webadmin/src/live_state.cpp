#include "sipsite/webadmin/live_state.hpp"

#include "sipsite/common/sha256.hpp"

namespace sipsite::webadmin {

std::string media_call_id(std::string_view call_key) {
  // The fallback is not reachable with a working libcrypto; never the key itself.
  return common::sha256_hex(call_key, 6).value_or("000000000000");
}

}  // namespace sipsite::webadmin
