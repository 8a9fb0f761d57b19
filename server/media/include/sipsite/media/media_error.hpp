#pragma once
// Errors of the media library, as values. The one mapping from an error to
// the SIP answer the gateway sends is sip_status(): bad SDP is 488 (Not
// Acceptable Here, with the reason in a Warning or reason phrase), as is
// media that cannot be protected; no relay ports is 503.

#include <boost/system/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace sipsite::media {

enum class MediaErrc : std::uint8_t {
  bad_sdp,          // the SDP does not parse (structure, m=, c=, limits)
  ports_exhausted,  // no free port (pair) in the configured range
  bind_failed,      // the ports could not be bound (in use by another program)
  bad_plan,         // rewrite asked for something the SDP cannot take (caller bug)
  bad_settings,     // RelaySettings unusable (addresses, range)
  unprotected,      // the peer site's SDP carries no usable relay key: never relay between sites in clear
  insecure_phone,   // a phone offered plain RTP where media.lan_srtp = "require"
};

struct MediaError {
  MediaErrc code{};
  std::string reason;  // one human sentence fragment, safe to show and log (no SDP bytes)

  // 488 for bad SDP, 503 for ports, 500 otherwise.
  [[nodiscard]] int sip_status() const noexcept;
};

[[nodiscard]] std::string_view to_string(MediaErrc code) noexcept;

// Lets Result<T>::value() throw for callers that choose exceptions (tests);
// library code uses has_value()/error().
[[noreturn]] void throw_exception_from_error(const MediaError& e, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, MediaError>;

}  // namespace sipsite::media
