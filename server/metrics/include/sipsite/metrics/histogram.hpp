#pragma once
// A Prometheus histogram of durations: cumulative `le` buckets, `_sum` in
// seconds and `_count`. Observed from any thread, rendered from any thread
// (relaxed atomics: each bucket is exact; a scrape racing an observation
// may see the count and the buckets one apart, as Prometheus tolerates).

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sipsite::metrics {

class Histogram {
 public:
  static constexpr std::size_t kMaxBuckets = 16;

  // Upper bounds in seconds, ascending, at most kMaxBuckets (+Inf is implied).
  explicit Histogram(std::span<const double> upper_bounds_seconds);

  void observe(std::chrono::nanoseconds d);

  // The samples of one labelled series (`labels` without braces, may be
  // empty): name_bucket{...,le="…"}…, name_sum, name_count. The family's
  // HELP/TYPE header is the caller's (exposition.hpp), once per family.
  void render(std::string& out, std::string_view name, std::string_view labels) const;

 private:
  std::array<double, kMaxBuckets> bounds_{};
  std::size_t size_ = 0;
  std::array<std::atomic<std::uint64_t>, kMaxBuckets + 1> counts_{};  // per bucket, not cumulative; last = above all
  std::atomic<std::uint64_t> sum_ns_{0};
};

// Buckets for request/response latencies, 1 ms to 30 s.
inline constexpr double kLatencyBuckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                             0.25,  0.5,    1,     2.5,  5,     10,   30};

}  // namespace sipsite::metrics
