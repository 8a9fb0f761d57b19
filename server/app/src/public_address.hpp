#pragma once
// site.public_address, the address peers and media reach this site at (it
// goes into invites and SDP). `init` chooses it (--public-address, else the
// machine's first non-loopback address) and keeps it in the site's
// settings; the configuration file's key, when set, overrides it, and so
// does a federation listener bound to a specific address.

#include "config.hpp"

#include <sipsite/store/database.hpp>

#include <string>
#include <string_view>

namespace sipsite::app {

inline constexpr std::string_view kPublicAddressSetting = "site.public_address";

// Keeps `text` (validated by the caller with set_public_address) as the
// site's public address.
store::Result<void> store_public_address(store::Database& db, std::string_view text);

// For a config that sets no site.public_address: the address of the
// federation listener when it is bound to one, else the address stored at
// init, if any (sites made before it was stored keep using their domain).
void use_stored_public_address(Config& config, store::Database& db);

}  // namespace sipsite::app
