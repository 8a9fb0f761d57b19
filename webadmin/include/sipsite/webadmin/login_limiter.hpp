#pragma once
// Login throttling that slows guessing without locking the rightful admin
// out. Failures are counted per source address and per username over a
// window:
//   - a source that reaches its limit is refused for `lockout` (every
//     attempt, right password or not, without checking it);
//   - a username that reaches its limit (guesses from many sources) is
//     under attack for `lockout`: sources that already failed are refused,
//     but a source that logged in successfully before (known good) is never
//     held by the username's count, and a clean source (no failure on
//     record) may still try, once per `clean_source_interval` for that
//     username. So an attacker with a few addresses cannot keep the admin
//     out, and one with very many gets one guess per interval, not a
//     lock-out of everybody.
// A success clears the source's and the username's counts and makes the
// source known good (a bounded set: the console also reserves connections
// for known-good addresses).
//
// Thread safety: none; the console uses it from its one thread.

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace sipsite::webadmin {

struct LoginLimits {
  int max_failures_per_source = 5;
  int max_failures_per_user = 10;
  std::chrono::seconds window{15 * 60};
  std::chrono::seconds lockout{15 * 60};
  std::size_t max_tracked = 4096;  // keys remembered; beyond, the oldest are forgotten
  std::chrono::seconds clean_source_interval{10};
  std::size_t max_known_good = 256;  // sources remembered as known good; beyond, the oldest go
};

class LoginLimiter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit LoginLimiter(LoginLimits limits = {}) : limits_(limits) {}

  // How long until `source` may try `username` again; nullopt: now.
  std::optional<std::chrono::seconds> blocked(std::string_view source, std::string_view username, TimePoint now);
  // Returns true when this failure started a lockout (worth an audit entry).
  bool failure(std::string_view source, std::string_view username, TimePoint now);
  void success(std::string_view source, std::string_view username);
  // A source that authenticated (a login, or an API token) before.
  void mark_known_good(std::string_view source);
  [[nodiscard]] bool known_good(std::string_view source) const;

 private:
  struct Entry {
    int failures = 0;
    TimePoint window_start;
    TimePoint locked_until;
    TimePoint clean_next;  // usernames under attack: when the next clean source may try
  };
  std::optional<std::chrono::seconds> check(const std::string& key, TimePoint now);
  bool count(const std::string& key, int limit, TimePoint now);
  LoginLimits limits_;
  std::map<std::string, Entry, std::less<>> entries_;  // "ip:ADDR" / "user:NAME"
  std::set<std::string, std::less<>> known_good_;
  std::deque<std::string> known_good_order_;  // oldest first
};

}  // namespace sipsite::webadmin
