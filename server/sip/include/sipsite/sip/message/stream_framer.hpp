#pragma once
// Frames SIP messages out of a byte stream (TCP, TLS, RFC 3261 18.3):
// the header section ends at the first empty line, the body is exactly
// Content-Length octets, and Content-Length is mandatory.
//
// Keep-alives (RFC 5626 3.5.1): a double CRLF between messages is a ping;
// the framer reports StreamEvent::Type::ping and the transport answers
// with a single CRLF. A lone CRLF between messages is skipped (RFC 3261 7.5).
//
// Usage: after each feed(), call next() until it returns need_more.
//   message     -> a parsed Message (not yet validated)
//   bad_message -> the message was framed but is malformed; the stream is
//                  still in sync, so the transport may answer (see
//                  make_error_response with raw) and keep reading
//   fatal       -> framing is lost (no/bad/duplicate Content-Length, limits);
//                  the transport may answer using raw, then must close. Every
//                  later next() returns fatal again.
//
// Memory is bounded: the framer never buffers more than one message's worth
// (ParseLimits::max_message_size) plus the bytes of the latest feed().
// Not thread-safe; one framer per connection.

#include "sipsite/sip/message/limits.hpp"
#include "sipsite/sip/message/message.hpp"
#include "sipsite/sip/message/parse_error.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sipsite::sip {

struct StreamEvent {
  enum class Type : std::uint8_t { need_more, message, ping, bad_message, fatal };

  Type type = Type::need_more;
  std::optional<Message> message;   // Type::message
  std::optional<ParseError> error;  // Type::bad_message, Type::fatal
  // bad_message: the whole framed message; fatal: the header section when it
  // was complete, else empty. For make_error_response().
  std::string raw;
};

class StreamFramer {
 public:
  explicit StreamFramer(ParseLimits limits = {}) : limits_(limits) {}

  void feed(std::string_view bytes);
  [[nodiscard]] StreamEvent next();

  // Octets received but not yet framed.
  [[nodiscard]] std::size_t buffered() const noexcept { return buffer_.size() - start_; }
  [[nodiscard]] bool failed() const noexcept { return failed_.has_value(); }

 private:
  StreamEvent fail(ParseError e, std::string raw);
  void consume(std::size_t n);

  ParseLimits limits_;
  std::string buffer_;
  std::size_t start_ = 0;    // first unconsumed octet of buffer_
  std::size_t scanned_ = 0;  // header-end search resumes here (relative to start_)
  std::optional<ParseError> failed_;
};

}  // namespace sipsite::sip
