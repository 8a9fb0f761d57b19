#pragma once

#include "sipsite/sip/message/header_id.hpp"

#include <string_view>

namespace sipsite::sip {

// One header field as it appeared (or was added): name as written
// ("MaX-fOrWaRdS", "v"), value unfolded (folding LWS replaced by one SP)
// and trimmed. Views point into storage owned by the Message.
struct Header {
  HeaderId id = HeaderId::unknown;
  std::string_view name;
  std::string_view value;
};

}  // namespace sipsite::sip
