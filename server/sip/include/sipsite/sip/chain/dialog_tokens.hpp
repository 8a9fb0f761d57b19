#pragma once
// The rt= token in the site's Record-Route: a keyed MAC (SipHash-2-4) of
// the Call-ID. An in-dialog request, or the ACK of a 2xx, is routed through
// the site without authentication only when the Route naming the site
// carries the token of its Call-ID, so nobody can use the site as a relay
// for a dialog it did not record-route. The key is fresh per process: a
// restart ends every dialog anyway (the daemon BYEs them at shutdown).

#include "sipsite/sip/io.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace sipsite::sip {

class DialogTokens {
 public:
  explicit DialogTokens(Random& random);

  [[nodiscard]] std::string token(std::string_view call_id) const;
  // Constant time in the token's contents.
  [[nodiscard]] bool matches(std::string_view call_id, std::string_view token) const;

 private:
  std::uint64_t key0_;
  std::uint64_t key1_;
};

}  // namespace sipsite::sip
