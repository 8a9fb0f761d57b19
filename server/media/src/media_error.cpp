#include "sipsite/media/media_error.hpp"

#include <stdexcept>

namespace sipsite::media {

int MediaError::sip_status() const noexcept {
  switch (code) {
    case MediaErrc::bad_sdp:
    case MediaErrc::unprotected:
    case MediaErrc::insecure_phone: return 488;
    case MediaErrc::ports_exhausted:
    case MediaErrc::bind_failed: return 503;
    case MediaErrc::bad_plan:
    case MediaErrc::bad_settings: return 500;
  }
  return 500;
}

std::string_view to_string(MediaErrc code) noexcept {
  switch (code) {
    case MediaErrc::bad_sdp: return "bad SDP";
    case MediaErrc::ports_exhausted: return "media ports exhausted";
    case MediaErrc::bind_failed: return "media ports could not be bound";
    case MediaErrc::bad_plan: return "bad rewrite plan";
    case MediaErrc::bad_settings: return "bad relay settings";
    case MediaErrc::unprotected: return "no media protection agreed with the peer site";
    case MediaErrc::insecure_phone: return "the phone offered no media encryption";
  }
  return "media error";
}

void throw_exception_from_error(const MediaError& e, const boost::source_location&) {
  throw std::runtime_error(std::string(to_string(e.code)) + ": " + e.reason);
}

}  // namespace sipsite::media
