#include "stream_session.hpp"

namespace sipsite::transport::detail {

std::string_view to_string(CloseReason r) {
  switch (r) {
    case CloseReason::requested: return "closed";
    case CloseReason::flushed: return "closed after its last answer";
    case CloseReason::write_failed: return "write failed";
    case CloseReason::write_timeout: return "write timed out";
    case CloseReason::deadline: return "deadline passed";
    case CloseReason::queue_full: return "write queue full";
  }
  return "closed";
}

// Compiled once here for the two streams the transport uses.
template class StreamSession<tcp::socket>;
template class StreamSession<TlsStream>;

}  // namespace sipsite::transport::detail
