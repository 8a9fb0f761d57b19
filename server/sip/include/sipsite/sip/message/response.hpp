#pragma once
// Building responses to requests (RFC 3261 8.2.6), including stateless error
// responses to requests that failed to parse or validate.

#include "sipsite/sip/message/message.hpp"
#include "sipsite/sip/message/parse_error.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace sipsite::sip {

// A response to request: every Via in order, From, To, Call-ID and CSeq
// copied (RFC 3261 8.2.6.2), Timestamp too for 100 (8.2.6.1). For codes
// above 100, when To has no tag, ";tag=" is added: to_tag if given, else
// stateless_to_tag() of the request, so retransmissions get the same tag.
// Precondition: request.is_request(). Headers the request lacks are simply
// not copied.
[[nodiscard]] Message make_response(const Message& request, int code, std::string_view reason_phrase,
                                    std::string_view to_tag = {});

// A deterministic To tag for stateless responses: a hash of Call-ID, From
// tag and top Via branch, as 16 hex digits.
[[nodiscard]] std::string stateless_to_tag(std::string_view call_id, std::string_view from_tag,
                                           std::string_view branch);

// The bytes of the error response for raw, a request that failed
// parse_datagram/validate (or a StreamEvent::raw), per error_status(error).
// nullopt — drop — when error_status says so, when raw is a response, or
// when the headers a response needs cannot be recovered from raw: every Via
// well-formed (the top one routes the answer), and a CSeq, Call-ID, From and
// To present. Those four are echoed verbatim even when malformed (the
// client matches on its own bytes); of duplicates, the first is used.
[[nodiscard]] std::optional<std::string> make_error_response(std::string_view raw, const ParseError& error,
                                                             std::string_view to_tag = {});
// The same response as a message (for a sender that serializes it itself).
[[nodiscard]] std::optional<Message> error_response_for(std::string_view raw, const ParseError& error,
                                                        std::string_view to_tag = {});

}  // namespace sipsite::sip
