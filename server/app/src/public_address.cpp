#include "public_address.hpp"

#include <sipsite/store/settings_repository.hpp>

#include <algorithm>

namespace sipsite::app {

store::Result<void> store_public_address(store::Database& db, std::string_view text) {
  return store::SettingsRepository(db).put(kPublicAddressSetting, text);
}

void apply_stored_settings(Config& config, const std::vector<admin::NetworkSetting>& stored) {
  const auto from_file = [&](std::string_view key) {
    return std::find(config.file_keys.begin(), config.file_keys.end(), key) != config.file_keys.end();
  };
  const admin::NetworkValue* public_address = nullptr;
  for (const auto& s : stored) {
    const auto* key = admin::find_network_key(s.key);
    if (key == nullptr || !s.value || from_file(s.key)) continue;
    if (key->key == admin::NetworkKey::public_address) {
      public_address = &*s.value;
      continue;
    }
    // Validated when stored; a value that no longer passes leaves the default.
    (void)set_network_value(*key, *s.value, config);
  }
  if (from_file(kPublicAddressSetting) || !config.public_host.empty()) return;
  // A federation listener bound to one address is where peers reach the
  // site (the relay's public leg is bound there too).
  const std::string& listen = config.federation_listen.host;
  if (listen != "0.0.0.0" && listen != "::") {
    config.public_host = listen;
    return;
  }
  if (public_address != nullptr) {
    (void)set_network_value(*admin::find_network_key(kPublicAddressSetting), *public_address, config);
  }
}

void use_stored_settings(Config& config, store::Database& db) {
  auto stored = admin::load_network_settings(db);
  apply_stored_settings(config, stored ? *stored : std::vector<admin::NetworkSetting>{});
}

NetworkValues network_values(const Config& config) {
  NetworkValues out;
  for (const auto& key : admin::network_keys()) out.emplace(std::string(key.name), network_value(key, config));
  return out;
}

NetworkValues next_start_values(const Config& running, const std::vector<admin::NetworkSetting>& stored) {
  // The running configuration without what came from the database: the
  // file's values and the defaults.
  Config next = running;
  const Config defaults;
  for (const auto& key : admin::network_keys()) {
    if (std::find(running.file_keys.begin(), running.file_keys.end(), key.name) != running.file_keys.end()) continue;
    if (key.key == admin::NetworkKey::public_address) {
      next.public_host.clear();
      next.public_federation_port = 0;
    } else {
      (void)set_network_value(key, network_value(key, defaults), next);
    }
  }
  apply_stored_settings(next, stored);
  return network_values(next);
}

}  // namespace sipsite::app
