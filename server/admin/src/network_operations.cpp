// SiteOperations: network settings (site.public_address, listeners, media
// ports, aliases), applied by the daemon at its next start.

#include <sipsite/admin/site_operations.hpp>

#include <sipsite/store/settings_repository.hpp>

namespace sipsite::admin {

OpResult<std::vector<NetworkSetting>> SiteOperations::change_network_settings(
    const std::vector<NetworkSetting>& changes) {
  // Every value checked before anything is written: all or nothing.
  std::vector<NetworkSetting> checked;
  for (const auto& change : changes) {
    const NetworkKeyInfo* key = find_network_key(change.key);
    if (key == nullptr) return OpError{OpErrc::bad_setting, "'" + change.key + "' is not a network setting"};
    NetworkSetting normal{std::string(key->name), std::nullopt};
    if (change.value) {
      auto value = check_network_value(*key, *change.value);
      if (!value) return OpError{OpErrc::bad_setting, std::string(key->name) + ": " + value.error().why};
      normal.value = std::move(*value);
    }
    checked.push_back(std::move(normal));
  }
  if (checked.empty()) return checked;
  std::string detail;
  for (const auto& c : checked) {
    const std::string value = !c.value ? "(default)" : c.value->empty() ? "(none)" : encode_network_value(*c.value);
    detail += (detail.empty() ? "" : " ") + c.key + "=" + value;
  }
  auto r = db_.transaction([&]() -> store::Result<void> {
    store::SettingsRepository settings(db_);
    for (const auto& c : checked) {
      auto done = c.value ? settings.put(c.key, encode_network_value(*c.value)) : settings.remove(c.key);
      if (!done) return done;
    }
    return audit("settings.change", detail);
  });
  if (!r) return from_store(r.error());
  return checked;
}

}  // namespace sipsite::admin
