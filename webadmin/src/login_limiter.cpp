#include <sipsite/webadmin/login_limiter.hpp>

#include <algorithm>

namespace sipsite::webadmin {

namespace {
std::string source_key(std::string_view s) { return "ip:" + std::string(s); }
std::string user_key(std::string_view u) { return "user:" + std::string(u.substr(0, 128)); }

std::chrono::seconds seconds_until(std::chrono::steady_clock::time_point t, std::chrono::steady_clock::time_point now) {
  return std::max(std::chrono::ceil<std::chrono::seconds>(t - now), std::chrono::seconds(1));
}
}  // namespace

std::optional<std::chrono::seconds> LoginLimiter::check(const std::string& key, TimePoint now) {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.locked_until <= now) return std::nullopt;
  return seconds_until(it->second.locked_until, now);
}

std::optional<std::chrono::seconds> LoginLimiter::blocked(std::string_view source, std::string_view username,
                                                          TimePoint now) {
  if (auto own = check(source_key(source), now)) return own;
  const auto user = entries_.find(user_key(username));
  if (user == entries_.end() || user->second.locked_until <= now || known_good(source)) return std::nullopt;
  // The username is under attack: a source with failures on record waits
  // the lockout out; a clean one takes its turn.
  const auto src = entries_.find(source_key(source));
  if (src != entries_.end() && src->second.failures > 0) return seconds_until(user->second.locked_until, now);
  if (user->second.clean_next > now) return seconds_until(user->second.clean_next, now);
  return std::nullopt;
}

bool LoginLimiter::count(const std::string& key, int limit, TimePoint now) {
  if (entries_.size() >= limits_.max_tracked && !entries_.contains(key)) {
    // Forget the entry whose window started first (a flood of sources must
    // not grow memory without bound).
    auto oldest = std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
      return std::max(a.second.window_start, a.second.locked_until) <
             std::max(b.second.window_start, b.second.locked_until);
    });
    entries_.erase(oldest);
  }
  Entry& e = entries_[key];
  if (e.failures == 0 || now - e.window_start >= limits_.window) {
    e.failures = 0;
    e.window_start = now;
  }
  if (e.locked_until > now) {
    // Already locked: later failures (clean sources taking their turn) do
    // not extend it, but space the turns out.
    e.clean_next = now + limits_.clean_source_interval;
    return false;
  }
  if (++e.failures >= limit) {
    e.failures = 0;
    e.locked_until = now + limits_.lockout;
    e.clean_next = now + limits_.clean_source_interval;
    return true;
  }
  return false;
}

bool LoginLimiter::failure(std::string_view source, std::string_view username, TimePoint now) {
  const bool a = count(source_key(source), limits_.max_failures_per_source, now);
  const bool b = count(user_key(username), limits_.max_failures_per_user, now);
  return a || b;
}

void LoginLimiter::success(std::string_view source, std::string_view username) {
  entries_.erase(source_key(source));
  entries_.erase(user_key(username));
  mark_known_good(source);
}

void LoginLimiter::mark_known_good(std::string_view source) {
  if (known_good(source)) return;
  if (known_good_.size() >= limits_.max_known_good && !known_good_order_.empty()) {
    known_good_.erase(known_good_order_.front());
    known_good_order_.pop_front();
  }
  known_good_.emplace(source);
  known_good_order_.emplace_back(source);
}

bool LoginLimiter::known_good(std::string_view source) const { return known_good_.find(source) != known_good_.end(); }

}  // namespace sipsite::webadmin
