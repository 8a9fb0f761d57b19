#include "public_address.hpp"

#include <sipsite/store/settings_repository.hpp>

namespace sipsite::app {

store::Result<void> store_public_address(store::Database& db, std::string_view text) {
  return store::SettingsRepository(db).put(kPublicAddressSetting, text);
}

void use_stored_public_address(Config& config, store::Database& db) {
  if (!config.public_host.empty()) return;
  // A federation listener bound to one address is where peers reach the
  // site (the relay's public leg is bound there too).
  const std::string& listen = config.federation_listen.host;
  if (listen != "0.0.0.0" && listen != "::") {
    config.public_host = listen;
    return;
  }
  const auto stored = store::SettingsRepository(db).get(kPublicAddressSetting);
  if (!stored || !*stored) return;
  set_public_address(**stored, config);  // validated when stored; a bad value leaves the domain
}

}  // namespace sipsite::app
