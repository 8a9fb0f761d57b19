#include "sipsite/sip/message/validate.hpp"

#include "sipsite/sip/message/accessors.hpp"
#include "sipsite/sip/message/uri.hpp"

namespace sipsite::sip {
namespace {

Result<void> common(const Message& m) {
  if (auto v = via_headers(m); !v) return v.error();
  if (auto v = from_header(m); !v) return v.error();
  if (auto v = to_header(m); !v) return v.error();
  if (auto v = call_id_header(m); !v) return v.error();
  if (auto v = cseq_header(m); !v) return v.error();
  return {};
}

}  // namespace

Result<void> validate_request(const Message& m) {
  if (auto r = common(m); !r) return r;
  const auto cseq = cseq_header(m);
  if (cseq->method != m.method()) {
    return ParseError{ParseErrc::cseq_method_mismatch, m.kind(), "CSeq method differs from the request method"};
  }
  if (auto v = max_forwards_header(m); !v) return v.error();
  if (auto v = expires_header(m); !v) return v.error();
  if (auto v = contact_headers(m); !v) return v.error();
  const auto uri = parse_uri(m.request_uri());
  if (!uri) return ParseError{ParseErrc::bad_request_uri, m.kind(), uri.error().reason};
  if (const auto* sip = uri->sip(); sip != nullptr && !sip->headers.empty()) {
    return ParseError{ParseErrc::headers_in_request_uri, m.kind(), "Request-URI carries headers"};
  }
  return {};
}

Result<void> validate_response(const Message& m) {
  if (m.status_code() < 100 || m.status_code() > 699) {
    return ParseError{ParseErrc::bad_status_code, m.kind(), "Status-Code not in 100..699"};
  }
  return common(m);
}

Result<void> validate(const Message& m) { return m.is_request() ? validate_request(m) : validate_response(m); }

}  // namespace sipsite::sip
