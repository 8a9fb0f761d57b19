#pragma once
// Single-value headers whose value is a number or an identifier.

#include "sipsite/sip/message/parse_error.hpp"

#include <cstdint>
#include <string_view>

namespace sipsite::sip {

// Max-Forwards = 1*DIGIT. Values up to 2^32-1 parse; a proxy clamps to its
// own ceiling (RFC 3261 suggests 70) — the parser does not judge.
[[nodiscard]] Result<std::uint32_t> parse_max_forwards(std::string_view value);

// Content-Length = 1*DIGIT (no sign). Values beyond 2^32-1 are errors; the
// message-size limit applies separately.
[[nodiscard]] Result<std::uint64_t> parse_content_length(std::string_view value);

// Expires / expires param = delta-seconds. Oversized values saturate at
// 2^32-1 rather than failing (RFC 4475 scalar02: treat as a very long time).
[[nodiscard]] Result<std::uint32_t> parse_expires(std::string_view value);

// callid = word [ "@" word ]. Returns the trimmed value.
[[nodiscard]] Result<std::string_view> parse_call_id(std::string_view value);

}  // namespace sipsite::sip
