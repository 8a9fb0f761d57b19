#pragma once
// Pieces of the stateful proxy (RFC 3261 §16) that stand on their own:
// the federation extension point (PeerRouter) and the §16.7 choice of the
// best final response. The proxy itself lives in Core (core.hpp).

#include "sipsite/sip/io.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::sip {

// What to do with a request for a domain that is not this site.
struct PeerRoute {
  enum class Action : std::uint8_t {
    refuse,   // answer `code` `reason`
    forward,  // forward statefully (one branch) to `destination`, Request-URI unchanged
  };
  Action action = Action::refuse;
  int code = 403;
  std::string reason = "Forbidden (not a domain of a trusted peer site)";
  Destination destination;
};

// Federation: Core asks it about every request from the LAN whose
// Request-URI is neither this site's domain nor one of its addresses,
// after the sender authenticated as local user `user`, and for the next hop
// of in-dialog requests whose target names another host (a peer site's
// Contact, <sip:TOKEN@peer-domain>). Runs on the SIP strand; must not block.
class PeerRouter {
 public:
  virtual ~PeerRouter() = default;
  virtual PeerRoute route(const Inbound& request, std::string_view user) = 0;
  // The link to the peer site named `host`, if there is one.
  virtual std::optional<Destination> next_hop(std::string_view /*host*/) { return std::nullopt; }
};

// The default until federation exists: refuses everything with 403.
class RefusingPeerRouter final : public PeerRouter {
 public:
  PeerRoute route(const Inbound& /*request*/, std::string_view /*user*/) override { return PeerRoute{}; }
};

// The final outcome of one proxy branch.
struct BranchOutcome {
  int code = 0;
  bool local = false;  // made up here (timeout, transport error), not received
};

// RFC 3261 §16.7 step 6: the index of the response to forward when no
// branch succeeded. A 6xx if any; else one of the lowest class, preferring
// responses that were received over ones made up locally, then the first.
// Precondition: outcomes is not empty.
[[nodiscard]] std::size_t choose_best_response(const std::vector<BranchOutcome>& outcomes);

}  // namespace sipsite::sip
