#pragma once
// Limits how often a key (a source address, a username) may fail
// authentication. Each key has a GCRA / leaky bucket: up to max_failures
// failures in a burst, forgiven at a rate of max_failures per window. One
// failure more and the key is refused for `cooldown`; when the cool-down
// ends the bucket is empty again. Successes are not counted.
//
// Memory is bounded: at most max_keys keys, the least recently failing one
// evicted first (an evicted key simply starts again with an empty bucket).
//
// Thread safety: one thread (the SIP strand).

#include "sipsite/sip/io.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sipsite::sip {

struct RateLimiterSettings {
  std::uint32_t max_failures = 10;              // burst allowed...
  Duration window = std::chrono::minutes(1);    // ...and refilled over this period
  Duration cooldown = std::chrono::minutes(5);  // refusal once over the limit
  std::size_t max_keys = 16384;                 // ~150 bytes per key
};

class RateLimiter {
 public:
  RateLimiter(const Clock& clock, RateLimiterSettings settings);

  // The remaining cool-down of key, or nullopt when it may try.
  [[nodiscard]] std::optional<Duration> blocked(std::string_view key) const;

  // Records one failure of key; true when this failure started a cool-down.
  // Failures during a cool-down do not extend it.
  bool record_failure(std::string_view key);

  [[nodiscard]] std::size_t size() const noexcept { return index_.size(); }

 private:
  struct Node {
    std::string key;
    TimePoint tat;            // theoretical arrival time (GCRA): the bucket is empty at tat
    TimePoint blocked_until;  // refused before this
  };
  using List = std::list<Node>;

  const Clock& clock_;
  RateLimiterSettings settings_;
  List lru_;                                                    // most recent failure first
  std::unordered_map<std::string_view, List::iterator> index_;  // views into the nodes' keys
};

// The rate-limit key of a source host: an IPv4 address as it is; an IPv6
// address by its /64 prefix (one subscriber commonly holds a whole /64, so
// per-address keys would be trivial to rotate); anything else as it is.
[[nodiscard]] std::string rate_limit_source_key(std::string_view host);

}  // namespace sipsite::sip
