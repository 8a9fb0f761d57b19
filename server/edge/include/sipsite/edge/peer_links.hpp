#pragma once
// The federation links as the edge uses them: which link reaches a peer
// site, which peer a link belongs to, and sending bytes on one. The daemon
// adapts transport::FederationLinks to it; tests and the federation fuzzer
// have links without sockets.

#include <sipsite/pki/fingerprint.hpp>
#include <sipsite/sip/io.hpp>

#include <optional>
#include <string>

namespace sipsite::edge {

class PeerLinks {
 public:
  virtual ~PeerLinks() = default;
  // The live link to `peer`, if any.
  [[nodiscard]] virtual std::optional<sip::FlowId> flow_for(const pki::Fingerprint& peer) const = 0;
  // The peer a live link belongs to.
  [[nodiscard]] virtual std::optional<pki::Fingerprint> peer_of(sip::FlowId flow) const = 0;
  // False when the link is gone or will not take more.
  virtual bool send(sip::FlowId flow, std::string bytes) = 0;
};

}  // namespace sipsite::edge
