#pragma once
// Hard limits applied to untrusted input before any other work. Exceeding a
// limit is a ParseError (mapped to 513 Message Too Large), never a crash or an
// unbounded allocation.

#include <cstddef>

namespace sipsite::sip {

struct ParseLimits {
  std::size_t max_message_size = 64 * 1024;  // start line + headers + body
  std::size_t max_headers = 128;             // header fields (not values)
  std::size_t max_line_length = 8 * 1024;    // one physical line, CRLF excluded
};

}  // namespace sipsite::sip
