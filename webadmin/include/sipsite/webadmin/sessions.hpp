#pragma once
// Console sessions, in memory only: a restart logs every admin out, and no
// session secret ever reaches the disk.
//
// A session id is 256 random bits, given to the browser once (base64url in a
// cookie); the table is keyed by its SHA-256, so the ids themselves are not
// kept. Each session has its own CSRF token. Sessions end after `idle`
// without requests or `absolute` after login, whichever comes first.
//
// Thread safety: none; the console uses it from its one thread.

#include <sipsite/admin/random_token.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace sipsite::webadmin {

struct SessionLimits {
  std::chrono::seconds idle{30 * 60};
  std::chrono::seconds absolute{12 * 60 * 60};
  std::size_t max_sessions = 256;  // beyond: the least recently used ends
};

struct Session {
  std::string username;
  std::string csrf_token;
  bool must_change_password = false;
  std::chrono::steady_clock::time_point created;
  std::chrono::steady_clock::time_point last_seen;
};

class SessionStore {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit SessionStore(SessionLimits limits = {}) : limits_(limits) {}

  // A new session; returns its id (the cookie value). Empty if the system
  // random generator failed.
  std::string create(std::string username, bool must_change_password, TimePoint now);

  // The live session with this id, its idle timer restarted; nullptr when
  // unknown or expired (an expired one is removed).
  Session* find(std::string_view id, TimePoint now);

  void remove(std::string_view id);
  // Ends every session of `username` but the one with id `keep` (after a
  // password change).
  void remove_user_except(std::string_view username, std::string_view keep);

  std::size_t size() const { return sessions_.size(); }
  const SessionLimits& limits() const { return limits_; }

 private:
  bool expired(const Session& s, TimePoint now) const;
  SessionLimits limits_;
  std::map<std::string, Session, std::less<>> sessions_;  // SHA-256(id) -> session
};

// `bytes` random bytes as unpadded base64url; empty on failure.
using admin::random_token;

// Constant-time equality (the length is not secret).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace sipsite::webadmin
