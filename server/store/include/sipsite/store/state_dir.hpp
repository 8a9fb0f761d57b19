#pragma once
// Files of a site's state directory.

#include <filesystem>

namespace sipsite::store {

inline std::filesystem::path database_path(const std::filesystem::path& state_dir) {
  return state_dir / "sipsite.db";
}
inline std::filesystem::path default_key_path(const std::filesystem::path& state_dir) {
  return state_dir / "db.key";
}

}  // namespace sipsite::store
