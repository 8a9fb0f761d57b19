// libFuzzer target for the SIP message layer: parse_datagram, validate, the
// typed accessors, serialize round trips, error responses, and StreamFramer
// fed the same bytes in chunks whose sizes the input chooses. Any crash,
// sanitizer report or broken invariant (abort) is a bug.

#include "sipsite/sip/message/accessors.hpp"
#include "sipsite/sip/message/parser.hpp"
#include "sipsite/sip/message/response.hpp"
#include "sipsite/sip/message/serializer.hpp"
#include "sipsite/sip/message/stream_framer.hpp"
#include "sipsite/sip/message/validate.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace sipsite::sip;

void check(bool invariant) {
  if (!invariant) std::abort();
}

void exercise(const Message& m) {
  (void)via_headers(m);
  (void)from_header(m);
  (void)to_header(m);
  (void)call_id_header(m);
  (void)cseq_header(m);
  (void)max_forwards_header(m);
  (void)expires_header(m);
  (void)contact_headers(m);
  if (m.is_request()) (void)parse_uri(m.request_uri());
  const bool valid = validate(m).has_value();
  if (valid && m.is_request()) {
    const auto response = serialize(make_response(m, 404, "Not Found"));
    check(parse_datagram(response).has_value());
  }
  // Whatever parsed must serialize into something that parses the same way.
  const auto wire = serialize(m);
  const auto again = parse_datagram(wire);
  check(again.has_value());
  check(again->body() == m.body());
  check(serialize(*again) == wire);
}

void datagram(std::string_view bytes) {
  const auto m = parse_datagram(bytes);
  if (m) {
    exercise(*m);
    if (const auto v = validate(*m); !v) (void)make_error_response(bytes, v.error());
  } else {
    (void)error_status(m.error());
    (void)make_error_response(bytes, m.error());
  }
}

void stream(std::string_view bytes, std::uint8_t chunk_seed) {
  ParseLimits limits;
  limits.max_message_size = 4096;  // reach the limit paths with small inputs
  StreamFramer framer(limits);
  const std::size_t chunk = 1 + chunk_seed % 64;
  for (std::size_t i = 0; i < bytes.size(); i += chunk) {
    framer.feed(bytes.substr(i, chunk));
    for (auto ev = framer.next(); ev.type != StreamEvent::Type::need_more; ev = framer.next()) {
      if (ev.type == StreamEvent::Type::message) {
        check(ev.message.has_value());
        exercise(*ev.message);
      } else if (ev.type == StreamEvent::Type::bad_message) {
        (void)make_error_response(ev.raw, *ev.error);
      } else if (ev.type == StreamEvent::Type::fatal) {
        check(framer.failed());
        return;
      }
    }
    check(framer.buffered() <= limits.max_message_size + chunk);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  datagram(bytes);
  stream(bytes, data[0]);
  return 0;
}
