#include "sipsite/common/hash_map.hpp"

#include <gtest/gtest.h>

#include <string>
#include <unordered_map>

namespace sipsite::common {
namespace {

std::unordered_map<int, std::string> filled(int n) {
  std::unordered_map<int, std::string> m;
  for (int i = 0; i < n; ++i) m.emplace(i, "x");
  return m;
}

TEST(ShrinkIfSparse, AMapEmptiedAfterABurstGivesItsBucketsBack) {
  auto m = filled(100000);
  const auto peak = m.bucket_count();
  for (int i = 10; i < 100000; ++i) m.erase(i);
  EXPECT_EQ(m.bucket_count(), peak);  // what the standard library does on its own
  shrink_if_sparse(m);
  EXPECT_LT(m.bucket_count(), peak / 100);
  EXPECT_EQ(m.size(), 10U);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(m.at(i), "x");
}

TEST(ShrinkIfSparse, AMapStillInUseOrSmallIsLeftAlone) {
  auto busy = filled(100000);
  const auto peak = busy.bucket_count();
  for (int i = 0; i < 50000; ++i) busy.erase(i);
  shrink_if_sparse(busy);  // half full: a rehash would buy little and cost a pass
  EXPECT_EQ(busy.bucket_count(), peak);

  auto small = filled(500);
  const auto buckets = small.bucket_count();
  small.clear();
  shrink_if_sparse(small);
  EXPECT_EQ(small.bucket_count(), buckets);
}

}  // namespace
}  // namespace sipsite::common
