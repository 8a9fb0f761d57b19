#include "sipsite/sip/message/parse_error.hpp"

#include <boost/throw_exception.hpp>

#include <stdexcept>

namespace sipsite::sip {

void throw_exception_from_error(const ParseError& e, const boost::source_location& loc) {
  boost::throw_exception(std::runtime_error("SIP parse error (" + std::string(to_string(e.code)) + "): " + e.reason),
                         loc);
}

ErrorStatus error_status(const ParseError& e) noexcept {
  // RFC 3261 8.2 / 18.3 / 21.x. Responses are never answered (RFC 3261
  // 18.1.2: a malformed response is discarded).
  if (e.kind == MessageKind::response) return {};
  const auto respond = [](int code, std::string_view reason) {
    return ErrorStatus{ErrorAction::respond, code, reason};
  };
  switch (e.code) {
    case ParseErrc::empty_message: return {};
    case ParseErrc::message_too_large: return respond(513, "Message Too Large");
    case ParseErrc::too_many_headers: return respond(513, "Message Too Large (too many headers)");
    case ParseErrc::line_too_long: return respond(513, "Message Too Large (line too long)");
    case ParseErrc::incomplete_headers: return respond(400, "Bad Request (incomplete header section)");
    case ParseErrc::bad_line_ending: return respond(400, "Bad Request (bare CR or LF)");
    case ParseErrc::bad_start_line: return respond(400, "Bad Request (malformed Request-Line)");
    case ParseErrc::bad_request_uri: return respond(400, "Bad Request (malformed Request-URI)");
    case ParseErrc::bad_version: return respond(505, "Version Not Supported");
    case ParseErrc::bad_status_code: return {};
    case ParseErrc::bad_header_line: return respond(400, "Bad Request (malformed header line)");
    case ParseErrc::bad_content_length: return respond(400, "Bad Request (malformed Content-Length)");
    case ParseErrc::multiple_content_length: return respond(400, "Bad Request (multiple Content-Length)");
    case ParseErrc::body_truncated: return respond(400, "Bad Request (Content-Length larger than message)");
    case ParseErrc::missing_content_length: return respond(400, "Bad Request (missing Content-Length)");
    case ParseErrc::missing_via: return respond(400, "Bad Request (missing Via)");
    case ParseErrc::missing_from: return respond(400, "Bad Request (missing From)");
    case ParseErrc::missing_to: return respond(400, "Bad Request (missing To)");
    case ParseErrc::missing_call_id: return respond(400, "Bad Request (missing Call-ID)");
    case ParseErrc::missing_cseq: return respond(400, "Bad Request (missing CSeq)");
    case ParseErrc::duplicate_header: return respond(400, "Bad Request (repeated single-value header)");
    case ParseErrc::bad_via: return respond(400, "Bad Request (malformed Via)");
    case ParseErrc::bad_from: return respond(400, "Bad Request (malformed From)");
    case ParseErrc::bad_to: return respond(400, "Bad Request (malformed To)");
    case ParseErrc::bad_call_id: return respond(400, "Bad Request (malformed Call-ID)");
    case ParseErrc::bad_cseq: return respond(400, "Bad Request (malformed CSeq)");
    case ParseErrc::bad_max_forwards: return respond(400, "Bad Request (malformed Max-Forwards)");
    case ParseErrc::bad_contact: return respond(400, "Bad Request (malformed Contact)");
    case ParseErrc::bad_expires: return respond(400, "Bad Request (malformed Expires)");
    case ParseErrc::bad_uri: return respond(400, "Bad Request (malformed URI)");
    case ParseErrc::bad_name_addr: return respond(400, "Bad Request (malformed address)");
    case ParseErrc::bad_params: return respond(400, "Bad Request (malformed parameter)");
    case ParseErrc::cseq_method_mismatch: return respond(400, "Bad Request (CSeq method does not match)");
    case ParseErrc::headers_in_request_uri: return respond(400, "Bad Request (headers in Request-URI)");
  }
  return respond(400, "Bad Request");
}

std::string_view to_string(ParseErrc code) noexcept {
  switch (code) {
    case ParseErrc::empty_message: return "empty_message";
    case ParseErrc::message_too_large: return "message_too_large";
    case ParseErrc::too_many_headers: return "too_many_headers";
    case ParseErrc::line_too_long: return "line_too_long";
    case ParseErrc::incomplete_headers: return "incomplete_headers";
    case ParseErrc::bad_line_ending: return "bad_line_ending";
    case ParseErrc::bad_start_line: return "bad_start_line";
    case ParseErrc::bad_request_uri: return "bad_request_uri";
    case ParseErrc::bad_version: return "bad_version";
    case ParseErrc::bad_status_code: return "bad_status_code";
    case ParseErrc::bad_header_line: return "bad_header_line";
    case ParseErrc::bad_content_length: return "bad_content_length";
    case ParseErrc::multiple_content_length: return "multiple_content_length";
    case ParseErrc::body_truncated: return "body_truncated";
    case ParseErrc::missing_content_length: return "missing_content_length";
    case ParseErrc::missing_via: return "missing_via";
    case ParseErrc::missing_from: return "missing_from";
    case ParseErrc::missing_to: return "missing_to";
    case ParseErrc::missing_call_id: return "missing_call_id";
    case ParseErrc::missing_cseq: return "missing_cseq";
    case ParseErrc::duplicate_header: return "duplicate_header";
    case ParseErrc::bad_via: return "bad_via";
    case ParseErrc::bad_from: return "bad_from";
    case ParseErrc::bad_to: return "bad_to";
    case ParseErrc::bad_call_id: return "bad_call_id";
    case ParseErrc::bad_cseq: return "bad_cseq";
    case ParseErrc::bad_max_forwards: return "bad_max_forwards";
    case ParseErrc::bad_contact: return "bad_contact";
    case ParseErrc::bad_expires: return "bad_expires";
    case ParseErrc::bad_uri: return "bad_uri";
    case ParseErrc::bad_name_addr: return "bad_name_addr";
    case ParseErrc::bad_params: return "bad_params";
    case ParseErrc::cseq_method_mismatch: return "cseq_method_mismatch";
    case ParseErrc::headers_in_request_uri: return "headers_in_request_uri";
  }
  return "unknown";
}

}  // namespace sipsite::sip
