#pragma once
// What the edge tells the rest of the site: the daemon logs it, records it
// in call records and shows it in the signaling log. The edge itself logs
// nothing and touches no database (it is a library below server/app).
// Every method has a no-op default; callbacks come on the SIP strand.

#include <sipsite/media/media_relay.hpp>
#include <sipsite/sip/message/message.hpp>

#include <cstddef>
#include <string_view>

namespace sipsite::edge {

// Where an SDP the relay would not anchor was going.
enum class RefusedSdp {
  toward_peer,  // sent by the core to a peer site (the request is answered in its place)
  from_peer,    // sent by a peer site (answered on the link)
  local_call,   // between two phones of the site
};

class EdgeObserver {
 public:
  virtual ~EdgeObserver() = default;
  // `peer` is the peer site's domain (empty for a local call).
  virtual void sdp_refused(RefusedSdp /*where*/, std::string_view /*peer*/, std::string_view /*reason*/) {}
  // A peer left the trusted set with `count` calls up: each gets a BYE.
  virtual void calls_ended_by_revocation(std::string_view /*peer*/, std::size_t /*count*/) {}
  // Once a call with a peer site is answered: who could hear its media.
  // `call_id` is the core's (the phone side's) Call-ID.
  virtual void call_protection(std::string_view /*call_id*/, const media::CallProtection& /*protection*/) {}
  // A message from a peer site, after edge privacy, as the core gets it.
  virtual void received_from_peer(const sip::Message& /*message*/) {}
};

}  // namespace sipsite::edge
