#include "sipsite/sip/message/stream_framer.hpp"

#include "framing.hpp"

namespace sipsite::sip {
namespace {

constexpr std::string_view kPing = "\r\n\r\n";
constexpr std::string_view kCrlf = "\r\n";

}  // namespace

void StreamFramer::feed(std::string_view bytes) {
  if (failed_) return;
  // Reclaim consumed space before growing, so the buffer stays about one
  // message in size on a long-lived connection.
  if (start_ > 0 && (start_ >= buffer_.size() / 2 || start_ > limits_.max_message_size)) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  buffer_.append(bytes);
}

void StreamFramer::consume(std::size_t n) {
  start_ += n;
  scanned_ = 0;
  if (start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  }
}

StreamEvent StreamFramer::fail(ParseError e, std::string raw) {
  failed_ = e;
  StreamEvent ev;
  ev.type = StreamEvent::Type::fatal;
  ev.error = std::move(e);
  ev.raw = std::move(raw);
  return ev;
}

StreamEvent StreamFramer::next() {
  if (failed_) {
    StreamEvent ev;
    ev.type = StreamEvent::Type::fatal;
    ev.error = failed_;
    return ev;
  }

  // Keep-alives and stray CRLFs between messages.
  while (true) {
    const std::string_view pending = std::string_view(buffer_).substr(start_);
    if (pending.substr(0, 2) != kCrlf) {
      if (pending.size() == 1 && pending[0] == '\r') return {};  // maybe the start of a ping
      break;
    }
    if (pending.size() < kPing.size()) {
      // "\r\n" or "\r\n\r": wait to tell a ping from a stray CRLF
      if (kPing.substr(0, pending.size()) == pending) return {};
    }
    if (pending.substr(0, kPing.size()) == kPing) {
      consume(kPing.size());
      StreamEvent ev;
      ev.type = StreamEvent::Type::ping;
      return ev;
    }
    consume(kCrlf.size());
  }

  const std::string_view pending = std::string_view(buffer_).substr(start_);
  if (pending.empty()) return {};
  const auto kind = detail::guess_kind(pending);

  // Resume the search a few octets back in case the terminator straddles feeds.
  const std::size_t from = scanned_ >= 3 ? scanned_ - 3 : 0;
  const auto header_end = pending.find(kPing, from);
  if (header_end == std::string_view::npos) {
    scanned_ = pending.size();
    if (pending.size() > limits_.max_message_size) {
      return fail(ParseError{ParseErrc::message_too_large, kind, "header section exceeds the size limit"}, {});
    }
    return {};
  }
  const std::size_t head_len = header_end + 2;  // through the last header's CRLF
  const std::string_view head = pending.substr(0, head_len);

  auto content_length = detail::find_content_length(head, kind);
  if (!content_length) return fail(content_length.error(), std::string(head));
  if (!*content_length) {
    return fail(ParseError{ParseErrc::missing_content_length, kind, "Content-Length is mandatory on streams"},
                std::string(head));
  }
  const std::uint64_t total = head_len + 2 + **content_length;
  if (total > limits_.max_message_size) {
    return fail(ParseError{ParseErrc::message_too_large, kind, "message exceeds the size limit"}, std::string(head));
  }
  if (pending.size() < total) {
    scanned_ = header_end + 3;  // the next search finds this header end at once
    return {};
  }

  const auto bytes = pending.substr(0, static_cast<std::size_t>(total));
  auto parsed = detail::parse_message(bytes, limits_, detail::Framing::stream);
  StreamEvent ev;
  if (parsed) {
    ev.type = StreamEvent::Type::message;
    ev.message = std::move(*parsed);
  } else {
    ev.type = StreamEvent::Type::bad_message;
    ev.error = parsed.error();
    ev.raw = std::string(bytes);
  }
  consume(bytes.size());
  return ev;
}

}  // namespace sipsite::sip
