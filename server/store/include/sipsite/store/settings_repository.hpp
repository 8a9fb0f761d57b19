#pragma once
// Runtime settings changed from the console (retention windows, …), as
// key/value text. Typed validation belongs to the caller.

#include <sipsite/store/database.hpp>

namespace sipsite::store {

class SettingsRepository {
 public:
  explicit SettingsRepository(Database& db) : db_(db) {}
  Result<std::optional<std::string>> get(std::string_view key);
  Result<void> put(std::string_view key, std::string_view value);
  // The key back to unset (its default); nothing happens if it is unset.
  Result<void> remove(std::string_view key);

 private:
  Database& db_;
};

}  // namespace sipsite::store
