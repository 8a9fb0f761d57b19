#pragma once
// The time the database stores: whole seconds since the Unix epoch.

#include <chrono>
#include <cstdint>

namespace sipsite::store {

inline std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace sipsite::store
