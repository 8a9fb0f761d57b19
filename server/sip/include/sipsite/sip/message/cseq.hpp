#pragma once
// CSeq (RFC 3261 20.16): sequence number and method.

#include "sipsite/sip/message/parse_error.hpp"

#include <cstdint>
#include <string_view>

namespace sipsite::sip {

struct CSeq {
  std::uint32_t number = 0;
  std::string_view method;  // case-sensitive token
};

// "1*DIGIT LWS Method". The number must fit in 32 bits (RFC 3261 8.1.1.5;
// RFC 4475 scalar02/scalarlg); leading zeros are fine (wsinv "0009").
[[nodiscard]] Result<CSeq> parse_cseq(std::string_view value);

}  // namespace sipsite::sip
