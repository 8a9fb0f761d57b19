#pragma once
// Private: what every stream transport (LAN TCP/TLS, federation links) does
// with the framer's events after a read. One implementation, so both answer
// malformed input and keep-alives the same way.

#include <sipsite/sip/message/response.hpp>
#include <sipsite/sip/message/stream_framer.hpp>

#include <string>
#include <utility>

namespace sipsite::transport::detail {

enum class FramesOutcome {
  in_sync,  // everything framed so far was handled; keep reading
  lost,     // framing is lost: send what was queued (the error answer), then close
};

// Handles every event the framer has after feed(), until it needs more bytes:
//   message     -> on_message(sip::Message&&)
//   ping        -> reply("\r\n") (RFC 5626 §3.5.1)
//   bad_message -> on_parse_error(), reply(the core's error response) if any
//   fatal       -> the same, then FramesOutcome::lost
// Stops early when stopped() turns true (a callback closed the connection).
template <class OnMessage, class Reply, class OnParseError, class Stopped>
FramesOutcome drain_frames(sip::StreamFramer& framer, OnMessage&& on_message, Reply&& reply,
                           OnParseError&& on_parse_error, Stopped&& stopped) {
  while (!stopped()) {
    sip::StreamEvent event = framer.next();
    switch (event.type) {
      case sip::StreamEvent::Type::need_more: return FramesOutcome::in_sync;
      case sip::StreamEvent::Type::message: on_message(std::move(*event.message)); break;
      case sip::StreamEvent::Type::ping: reply(std::string("\r\n")); break;
      case sip::StreamEvent::Type::bad_message:
        on_parse_error();
        if (auto answer = sip::make_error_response(event.raw, *event.error)) reply(std::move(*answer));
        break;
      case sip::StreamEvent::Type::fatal:
        on_parse_error();
        if (auto answer = sip::make_error_response(event.raw, *event.error)) reply(std::move(*answer));
        return FramesOutcome::lost;
    }
  }
  return FramesOutcome::in_sync;
}

}  // namespace sipsite::transport::detail
