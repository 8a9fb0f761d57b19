#pragma once
// Login rate limiting and lockout. Failures are counted per source address
// and per username over a window; reaching the limit locks that key out for
// `lockout` (every attempt is refused, right password or not, without
// checking it). A success clears the source's and the user's count.
//
// The per-user limit is higher than the per-source one, so one noisy
// address is stopped long before it can lock the admin out from elsewhere.
//
// Thread safety: none; the console uses it from its one thread.

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace sipsite::webadmin {

struct LoginLimits {
  int max_failures_per_source = 5;
  int max_failures_per_user = 10;
  std::chrono::seconds window{15 * 60};
  std::chrono::seconds lockout{15 * 60};
  std::size_t max_tracked = 4096;  // keys remembered; beyond, the oldest are forgotten
};

class LoginLimiter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit LoginLimiter(LoginLimits limits = {}) : limits_(limits) {}

  // How long until `source` / `username` may try again; nullopt: now.
  std::optional<std::chrono::seconds> blocked(std::string_view source, std::string_view username, TimePoint now);
  // Returns true when this failure started a lockout (worth an audit entry).
  bool failure(std::string_view source, std::string_view username, TimePoint now);
  void success(std::string_view source, std::string_view username);

 private:
  struct Entry {
    int failures = 0;
    TimePoint window_start;
    TimePoint locked_until;
  };
  std::optional<std::chrono::seconds> check(const std::string& key, TimePoint now);
  bool count(const std::string& key, int limit, TimePoint now);
  LoginLimits limits_;
  std::map<std::string, Entry, std::less<>> entries_;  // "ip:ADDR" / "user:NAME"
};

}  // namespace sipsite::webadmin
