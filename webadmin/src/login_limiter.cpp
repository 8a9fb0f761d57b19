#include <sipsite/webadmin/login_limiter.hpp>

#include <algorithm>

namespace sipsite::webadmin {

namespace {
std::string source_key(std::string_view s) { return "ip:" + std::string(s); }
std::string user_key(std::string_view u) { return "user:" + std::string(u.substr(0, 128)); }
}  // namespace

std::optional<std::chrono::seconds> LoginLimiter::check(const std::string& key, TimePoint now) {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.locked_until <= now) return std::nullopt;
  auto left = std::chrono::ceil<std::chrono::seconds>(it->second.locked_until - now);
  return std::max(left, std::chrono::seconds(1));
}

std::optional<std::chrono::seconds> LoginLimiter::blocked(std::string_view source, std::string_view username,
                                                          TimePoint now) {
  auto a = check(source_key(source), now);
  auto b = check(user_key(username), now);
  if (a && b) return std::max(*a, *b);
  return a ? a : b;
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
  if (++e.failures >= limit) {
    e.failures = 0;
    e.locked_until = now + limits_.lockout;
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
}

}  // namespace sipsite::webadmin
