#pragma once
// `sipsite rotate-key`: a new site key and certificate whose proof, signed
// with the old key, lets trusted peers follow without their admins
// (pki/rotation_proof.hpp). The running daemon switches federation to it on
// its next database poll (FederationService::reload_identity).

#include "site_access.hpp"

namespace sipsite::app {

struct RotateKeyOptions {
  int validity_days = 0;
  bool force = false;  // rotate again within a day of the last rotation
};
// Implemented in site_commands.cpp.
int cmd_rotate_key(const GlobalOptions& g, const RotateKeyOptions& o);

}  // namespace sipsite::app
