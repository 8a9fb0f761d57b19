#pragma once
// Errors from parsing and validating SIP messages. Untrusted input never
// throws and never asserts: every failure is a ParseError value. The single
// mapping from an error to what goes on the wire (a status code and reason
// phrase, or silence) is error_status(); keep it the only such table, as
// Kamailio keeps rerrno.h/reply.c.

#include <boost/system/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace sipsite::sip {

enum class MessageKind : std::uint8_t { request, response };

enum class ParseErrc : std::uint8_t {
  empty_message,       // nothing but CRLF / whitespace
  message_too_large,   // ParseLimits::max_message_size exceeded
  too_many_headers,    // ParseLimits::max_headers exceeded
  line_too_long,       // ParseLimits::max_line_length exceeded
  incomplete_headers,  // no empty line ends the header section
  bad_line_ending,     // bare CR or LF inside the header section
  bad_start_line,      // not "Method SP URI SP Version" / "Version SP Code SP Reason"
  bad_request_uri,
  bad_version,              // well-formed SIP-Version other than SIP/2.0 (505)
  bad_status_code,          // not three digits in 100..699
  bad_header_line,          // no colon, or a field name that is not a token
  bad_content_length,       // not 1*DIGIT, negative, or absurdly large
  multiple_content_length,  // framing is ambiguous
  body_truncated,           // Content-Length larger than the bytes received
  missing_content_length,   // mandatory on stream transports
  missing_via,
  missing_from,
  missing_to,
  missing_call_id,
  missing_cseq,
  duplicate_header,  // more than one of a single-value header
  bad_via,
  bad_from,
  bad_to,
  bad_call_id,
  bad_cseq,
  bad_max_forwards,
  bad_contact,
  bad_expires,
  bad_uri,        // from the URI helper
  bad_name_addr,  // from the name-addr helper
  bad_params,     // from the generic-param helper
  cseq_method_mismatch,
  headers_in_request_uri,  // RFC 3261 19.1.1: not allowed in a Request-URI
};

struct ParseError {
  ParseErrc code{};
  // Whether the offending bytes looked like a response ("SIP/" start). A
  // response that fails to parse is dropped, never answered.
  MessageKind kind = MessageKind::request;
  std::string reason;  // one human sentence fragment, for logs and counters
};

// Lets Result<T>::value() throw for callers that choose exceptions (tests);
// library code uses has_value()/error() instead.
[[noreturn]] void throw_exception_from_error(const ParseError& e, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, ParseError>;

enum class ErrorAction : std::uint8_t {
  respond,  // send a stateless response with code/reason
  drop,     // discard silently (responses, garbage without a start line)
};

struct ErrorStatus {
  ErrorAction action = ErrorAction::drop;
  int code = 0;             // 400, 505, 513; 0 when dropped
  std::string_view reason;  // static storage, e.g. "Bad Request (malformed Via)"
};

// The one mapping from a parse/validation failure to the answer on the wire.
// A failure in a response, or in bytes that are not a message, is dropped.
[[nodiscard]] ErrorStatus error_status(const ParseError& e) noexcept;

// Short stable name of a code ("bad_via"), for counters and tests.
[[nodiscard]] std::string_view to_string(ParseErrc code) noexcept;

}  // namespace sipsite::sip
