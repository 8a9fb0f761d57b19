#pragma once
// Parsing whole SIP messages from untrusted bytes. Sans-I/O, no exceptions:
// every failure is a ParseError (see error_status() for what to answer).
//
// What is checked here is framing and syntax of the message shell: start
// line (method token, Request-URI, SIP-Version, status code), header lines
// (field names, folding, line endings), Content-Length and the limits.
// Header values are not interpreted beyond that; validate() (validate.hpp)
// checks the headers every request and response needs.

#include "sipsite/sip/message/limits.hpp"
#include "sipsite/sip/message/message.hpp"
#include "sipsite/sip/message/parse_error.hpp"

#include <string_view>

namespace sipsite::sip {

// Parses one UDP datagram (RFC 3261 18.3). CRLFs before the start line are
// skipped. Content-Length may be absent (the body is the rest of the
// datagram); if it is smaller than the bytes left, the surplus is ignored
// (RFC 4475 dblreq); if larger, body_truncated (400). The bytes are copied
// once into storage the returned Message owns.
[[nodiscard]] Result<Message> parse_datagram(std::string_view bytes, const ParseLimits& limits = {});

}  // namespace sipsite::sip
