#pragma once
// The network settings the daemon starts with (admin/network_settings.hpp):
// a key the configuration file sets wins; else the value stored in the
// site's settings (from the console, or site.public_address from `init`,
// which chooses it: --public-address, else the machine's first non-loopback
// address); else the default. A federation listener bound to one address is
// the public address unless the file sets one.

#include "config.hpp"

#include <sipsite/admin/network_settings.hpp>
#include <sipsite/store/database.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::app {

inline constexpr std::string_view kPublicAddressSetting = "site.public_address";

// Keeps `text` (validated by the caller with set_public_address) as the
// site's public address.
store::Result<void> store_public_address(store::Database& db, std::string_view text);

// `config` (as read from the file) with the stored values applied.
void apply_stored_settings(Config& config, const std::vector<admin::NetworkSetting>& stored);

// apply_stored_settings() with what the database holds now (nothing when it
// cannot be read: the file and the defaults).
void use_stored_settings(Config& config, store::Database& db);

using NetworkValues = std::map<std::string, admin::NetworkValue, std::less<>>;

// Every network key's value in `config`.
NetworkValues network_values(const Config& config);

// What the daemon running with `running` would start with, were the stored
// values `stored` (the same rule as at start; the file as it was read).
NetworkValues next_start_values(const Config& running, const std::vector<admin::NetworkSetting>& stored);

}  // namespace sipsite::app
