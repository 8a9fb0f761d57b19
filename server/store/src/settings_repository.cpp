#include <sipsite/store/settings_repository.hpp>

#include "sipsite/store/unix_time.hpp"

namespace sipsite::store {

Result<std::optional<std::string>> SettingsRepository::get(std::string_view key) {
  return first_row(db_.query("SELECT value FROM settings WHERE key = ?", key),
                   [](const Statement& s) { return s.text(0); });
}

Result<void> SettingsRepository::put(std::string_view key, std::string_view value) {
  auto r =
      db_.execute("INSERT OR REPLACE INTO settings (key, value, updated_at) VALUES (?, ?, ?)", key, value, unix_now());
  if (!r) return r.error();
  return {};
}

Result<void> SettingsRepository::remove(std::string_view key) {
  auto r = db_.execute("DELETE FROM settings WHERE key = ?", key);
  if (!r) return r.error();
  return {};
}

}  // namespace sipsite::store
