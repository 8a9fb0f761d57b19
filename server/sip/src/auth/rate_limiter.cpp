#include "sipsite/sip/auth/rate_limiter.hpp"
#include "sipsite/common/hex.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>

namespace sipsite::sip {

RateLimiter::RateLimiter(const Clock& clock, RateLimiterSettings settings) : clock_(clock), settings_(settings) {
  if (settings_.max_failures == 0) settings_.max_failures = 1;
  if (settings_.max_keys == 0) settings_.max_keys = 1;
  if (settings_.window < Duration{1}) settings_.window = Duration{1};
  index_.reserve(std::min<std::size_t>(settings_.max_keys, 1024));
}

std::optional<Duration> RateLimiter::blocked(std::string_view key) const {
  const auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  const TimePoint now = clock_.now();
  if (it->second->blocked_until <= now) return std::nullopt;
  return std::chrono::duration_cast<Duration>(it->second->blocked_until - now);
}

bool RateLimiter::record_failure(std::string_view key) {
  const TimePoint now = clock_.now();
  auto it = index_.find(key);
  List::iterator node;
  if (it == index_.end()) {
    if (index_.size() >= settings_.max_keys) {
      index_.erase(std::string_view(lru_.back().key));
      lru_.pop_back();
    }
    lru_.push_front(Node{std::string(key), now, TimePoint::min()});
    node = lru_.begin();
    index_.emplace(std::string_view(node->key), node);
  } else {
    node = it->second;
    lru_.splice(lru_.begin(), lru_, node);
  }
  if (node->blocked_until > now) return false;
  const Duration cost = std::max(Duration{1}, settings_.window / settings_.max_failures);
  node->tat = std::max(node->tat, now) + cost;
  if (node->tat - now > settings_.window) {
    node->blocked_until = now + settings_.cooldown;
    node->tat = now;
    return true;
  }
  return false;
}

std::string rate_limit_source_key(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.find(':') == std::string_view::npos || host.size() > 64) return std::string(host);
  const std::string text(host.substr(0, host.find('%')));  // drop a zone index
  std::array<unsigned char, 16> addr{};
  if (inet_pton(AF_INET6, text.c_str(), addr.data()) != 1) return std::string(host);
  // An IPv4-mapped address (dual-stack socket) is the IPv4 host it maps.
  if (std::all_of(addr.begin(), addr.begin() + 10, [](unsigned char b) { return b == 0; }) && addr[10] == 0xFF &&
      addr[11] == 0xFF) {
    return std::to_string(addr[12]) + '.' + std::to_string(addr[13]) + '.' + std::to_string(addr[14]) + '.' +
           std::to_string(addr[15]);
  }
  std::string out;
  out.reserve(20);
  for (std::size_t i = 0; i < 8; ++i) {
    if (i > 0 && i % 2 == 0) out += ':';
    common::append_hex(out, addr[i]);
  }
  out += "::/64";
  return out;
}

}  // namespace sipsite::sip
