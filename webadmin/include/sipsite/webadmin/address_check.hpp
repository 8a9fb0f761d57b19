#pragma once
// The dashboard's self-check of the invite (as Syncthing checks that its
// announced address reaches the device): does the address the invite gives
// other sites lead back to this site's federation port? The check fetches
// the certificate presented there, as another site's `peer add --invite`
// would, and compares it with this site's own. (A site presented with its
// own certificate refuses the handshake without recording a pending
// request.) A NAT that does not loop back may fail the check for an
// address that works from outside: the detail says so.

#include <sipsite/webadmin/certificate_probe.hpp>

#include <string>
#include <string_view>

namespace sipsite::webadmin {

struct AddressCheck {
  std::string address;  // HOST:PORT from the invite; empty if it has none
  bool reaches_this_site = false;
  std::string detail;  // one sentence: what was found, what to do
};

// Blocks for the probe's duration.
AddressCheck check_own_address(const CertificateProbe& probe, std::string_view invite,
                               std::string_view own_fingerprint);

}  // namespace sipsite::webadmin
