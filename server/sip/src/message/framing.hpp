#pragma once
// Shared by parse_datagram and StreamFramer. Internal header.

#include "sipsite/sip/message/limits.hpp"
#include "sipsite/sip/message/message.hpp"
#include "sipsite/sip/message/parse_error.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace sipsite::sip::detail {

// Response iff the first octets are "SIP/" (case-insensitive): '/' is not a
// token character, so no method can start that way.
MessageKind guess_kind(std::string_view bytes) noexcept;

// Walks the header lines of head (start line and headers, each ending in
// CRLF, without the empty line) and returns the Content-Length value, or
// nullopt when there is none. Several Content-Length headers, or a
// malformed one, are errors: framing would be ambiguous.
Result<std::optional<std::uint64_t>> find_content_length(std::string_view head, MessageKind kind);

enum class Framing : std::uint8_t { datagram, stream };

// Parses one message. For Framing::stream, bytes is exactly one message as
// framed by Content-Length.
Result<Message> parse_message(std::string_view bytes, const ParseLimits& limits, Framing framing);

}  // namespace sipsite::sip::detail
