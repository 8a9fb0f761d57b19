// Port allocation: even/odd pairs, single ports, exhaustion as a value, and
// no double allocation under randomised churn.

#include "sipsite/media/port_allocator.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

namespace sipsite::media {
namespace {

TEST(PortAllocator, PairsAreEvenAndOddAndExhaustionIs503) {
  PortAllocator a(40000, 40007, 1);
  std::set<std::uint16_t> seen;
  for (int i = 0; i < 4; ++i) {
    const auto b = a.allocate_pair();
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->rtp % 2, 0);
    EXPECT_EQ(b->rtcp, b->rtp + 1);
    EXPECT_GE(b->rtp, 40000);
    EXPECT_LE(b->rtcp, 40007);
    EXPECT_TRUE(seen.insert(b->rtp).second);
  }
  const auto none = a.allocate_pair();
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, MediaErrc::ports_exhausted);
  EXPECT_EQ(none.error().sip_status(), 503);
  EXPECT_FALSE(a.allocate_single().has_value());
  EXPECT_EQ(a.free_ports(), 0U);
}

TEST(PortAllocator, SinglesSplitPairsAndReleaseMergesThem) {
  PortAllocator a(40000, 40003, 7);
  const auto s1 = a.allocate_single();
  ASSERT_TRUE(s1);
  EXPECT_EQ(a.free_pairs(), 1U);
  const auto s2 = a.allocate_single();  // the other half of the split pair
  ASSERT_TRUE(s2);
  EXPECT_EQ(*s1 ^ 1, *s2);
  EXPECT_EQ(a.free_pairs(), 1U);
  a.release(*s1);
  EXPECT_EQ(a.free_pairs(), 1U);
  a.release(*s2);
  EXPECT_EQ(a.free_pairs(), 2U);
  EXPECT_EQ(a.free_ports(), 4U);
}

TEST(PortAllocator, OddBoundsLeaveLonePortsForSingles) {
  PortAllocator a(40001, 40006, 3);  // 40001 and 40006 have no mate in range
  EXPECT_EQ(a.capacity(), 6U);
  EXPECT_EQ(a.free_pairs(), 2U);
  std::set<std::uint16_t> singles;
  for (int i = 0; i < 2; ++i) singles.insert(*a.allocate_single());
  EXPECT_EQ(singles, (std::set<std::uint16_t>{40001, 40006}));
  EXPECT_EQ(a.free_pairs(), 2U);
  const auto p1 = a.allocate_pair();
  const auto p2 = a.allocate_pair();
  ASSERT_TRUE(p1 && p2);
  EXPECT_EQ(std::set<std::uint16_t>({p1->rtp, p2->rtp}), (std::set<std::uint16_t>{40002, 40004}));
}

TEST(PortAllocator, ReleaseOfUnknownPortsIsHarmless) {
  PortAllocator a(40000, 40003, 5);
  a.release(40000);
  a.release(12);
  const auto b = a.allocate_pair();
  ASSERT_TRUE(b);
  a.release(*b);
  a.release(*b);
  EXPECT_EQ(a.free_ports(), 4U);
  EXPECT_EQ(a.free_pairs(), 2U);
}

TEST(PortAllocator, EmptyAndFullRanges) {
  PortAllocator empty(40010, 40000);
  EXPECT_EQ(empty.capacity(), 0U);
  EXPECT_FALSE(empty.allocate_pair());
  EXPECT_FALSE(empty.allocate_single());
  PortAllocator low(0, 3, 1);  // port 0 is never handed out
  std::set<std::uint16_t> got;
  while (auto p = low.allocate_single()) got.insert(*p);
  EXPECT_EQ(got, (std::set<std::uint16_t>{1, 2, 3}));
  PortAllocator top(65532, 65535, 1);
  EXPECT_EQ(top.free_pairs(), 2U);
}

// Thousands of random allocations and releases; a model tracks what is held.
TEST(PortAllocator, NoDoubleAllocationUnderChurn) {
  constexpr std::uint16_t kFirst = 30001;  // odd start: a lone port at each end
  constexpr std::uint16_t kLast = 30200;
  PortAllocator a(kFirst, kLast, 42);
  std::mt19937 rng(1234);
  std::set<std::uint16_t> held;
  std::vector<PortBlock> blocks;
  std::size_t exhausted = 0;
  for (int step = 0; step < 20000; ++step) {
    const int op = static_cast<int>(rng() % 10);
    if (op < 6) {
      const bool pair = (rng() % 2) == 0;
      PortBlock b;
      if (pair) {
        auto r = a.allocate_pair();
        if (!r) {
          ++exhausted;
          EXPECT_EQ(r.error().code, MediaErrc::ports_exhausted);
          continue;
        }
        b = *r;
        ASSERT_EQ(b.rtp % 2, 0);
        ASSERT_EQ(b.rtcp, b.rtp + 1);
      } else {
        auto r = a.allocate_single();
        if (!r) {
          ++exhausted;
          ASSERT_EQ(held.size(), a.capacity());
          continue;
        }
        b = PortBlock{*r, *r};
      }
      for (std::uint16_t p : {b.rtp, b.rtcp}) {
        ASSERT_GE(p, kFirst);
        ASSERT_LE(p, kLast);
        held.insert(p);
        ASSERT_TRUE(a.allocated(p));
      }
      ASSERT_EQ(held.size(), [&] {
        std::size_t n = 0;
        for (const auto& x : blocks) n += x.single() ? 1 : 2;
        return n + (b.single() ? 1 : 2);
      }()) << "a port was handed out twice";
      blocks.push_back(b);
    } else if (!blocks.empty()) {
      const std::size_t i = rng() % blocks.size();
      const PortBlock b = blocks[i];
      blocks[i] = blocks.back();
      blocks.pop_back();
      a.release(b);
      held.erase(b.rtp);
      held.erase(b.rtcp);
      ASSERT_FALSE(a.allocated(b.rtp));
    }
    ASSERT_EQ(a.free_ports(), a.capacity() - held.size());
  }
  EXPECT_GT(exhausted, 0U) << "the churn should reach exhaustion at times";
  for (const auto& b : blocks) a.release(b);
  EXPECT_EQ(a.free_ports(), a.capacity());
  EXPECT_EQ(a.free_pairs(), (kLast - kFirst - 1) / 2);
}

}  // namespace
}  // namespace sipsite::media
