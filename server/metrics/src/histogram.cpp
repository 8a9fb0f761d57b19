#include "sipsite/metrics/histogram.hpp"

#include "sipsite/metrics/exposition.hpp"

#include <algorithm>

namespace sipsite::metrics {

Histogram::Histogram(std::span<const double> upper_bounds_seconds)
    : size_(std::min(upper_bounds_seconds.size(), kMaxBuckets)) {
  std::copy_n(upper_bounds_seconds.begin(), size_, bounds_.begin());
}

void Histogram::observe(std::chrono::nanoseconds d) {
  const auto ns = static_cast<std::uint64_t>(std::max<std::int64_t>(d.count(), 0));
  const double seconds = static_cast<double>(ns) / 1e9;
  std::size_t i = 0;
  while (i < size_ && seconds > bounds_[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(ns, std::memory_order_relaxed);
}

void Histogram::render(std::string& out, std::string_view name, std::string_view labels) const {
  const std::string prefix = labels.empty() ? std::string() : std::string(labels) + ",";
  const std::string bucket = std::string(name) + "_bucket";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= size_; ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    std::string with_le = prefix;
    with_le += "le=\"";
    with_le += i < size_ ? number(bounds_[i]) : "+Inf";
    with_le += '"';
    sample(out, bucket, with_le, std::to_string(cumulative));
  }
  const double sum = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  sample(out, std::string(name) + "_sum", labels, number(sum));
  sample(out, std::string(name) + "_count", labels, std::to_string(cumulative));
}

}  // namespace sipsite::metrics
