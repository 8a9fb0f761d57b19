#pragma once
// Checks beyond syntax that every element applies before acting on a
// message (RFC 3261 8.1.1, 8.2, 16.3, 18.1.2). parse_datagram() and
// StreamFramer do not call these; the transport or core does, right after.

#include "sipsite/sip/message/message.hpp"
#include "sipsite/sip/message/parse_error.hpp"

namespace sipsite::sip {

// Requests: Via (>= 1, all well-formed), From, To, Call-ID, CSeq (exactly
// one each, well-formed), CSeq method equal to the request method (case-
// sensitive), Max-Forwards and Expires well-formed if present (absent
// Max-Forwards is allowed: proxies default it), Contact well-formed if
// present, and no headers component in a SIP/SIPS Request-URI.
[[nodiscard]] Result<void> validate_request(const Message& m);

// Responses: Via, From, To, Call-ID, CSeq present once and well-formed. Every
// error has kind response: error_status() says drop.
[[nodiscard]] Result<void> validate_response(const Message& m);

// Dispatches on m.kind().
[[nodiscard]] Result<void> validate(const Message& m);

}  // namespace sipsite::sip
