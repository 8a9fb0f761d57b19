#include "sipsite/sip/manual_timers.hpp"
#include "sipsite/sip/auth/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace sipsite::sip {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiter, BlocksAfterTheBurstAndRecoversAfterTheCooldown) {
  ManualTimers time;
  RateLimiter limiter{time, RateLimiterSettings{5, 1min, 2min, 100}};
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(limiter.record_failure("10.0.0.1")) << i;
    EXPECT_FALSE(limiter.blocked("10.0.0.1"));
  }
  EXPECT_TRUE(limiter.record_failure("10.0.0.1"));
  ASSERT_TRUE(limiter.blocked("10.0.0.1"));
  EXPECT_EQ(*limiter.blocked("10.0.0.1"), Duration(2min));
  EXPECT_FALSE(limiter.blocked("10.0.0.2"));  // keys are independent
  // Failures during the cool-down do not extend it.
  time.advance(1min);
  EXPECT_FALSE(limiter.record_failure("10.0.0.1"));
  EXPECT_EQ(*limiter.blocked("10.0.0.1"), Duration(1min));
  time.advance(1min);
  EXPECT_FALSE(limiter.blocked("10.0.0.1"));
  // Back to a full allowance.
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(limiter.record_failure("10.0.0.1"));
  EXPECT_TRUE(limiter.record_failure("10.0.0.1"));
}

TEST(RateLimiter, SlowFailuresAreForgiven) {
  ManualTimers time;
  RateLimiter limiter{time, RateLimiterSettings{5, 1min, 2min, 100}};
  // One failure every 12 s is exactly the sustained allowance.
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(limiter.record_failure("u"));
    time.advance(12s);
  }
  EXPECT_FALSE(limiter.blocked("u"));
}

TEST(RateLimiter, MemoryIsBounded) {
  ManualTimers time;
  RateLimiter limiter{time, RateLimiterSettings{1, 1min, 2min, 3}};
  for (int i = 0; i < 1000; ++i) limiter.record_failure("k" + std::to_string(i));
  EXPECT_EQ(limiter.size(), 3U);
  // The most recent keys survive.
  limiter.record_failure("k999");
  EXPECT_TRUE(limiter.blocked("k999"));
  EXPECT_FALSE(limiter.blocked("k0"));
}

TEST(RateLimiter, SourceKeys) {
  EXPECT_EQ(rate_limit_source_key("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(rate_limit_source_key("2001:db8:1:2:3:4:5:6"), "2001:0db8:0001:0002::/64");
  EXPECT_EQ(rate_limit_source_key("[2001:db8:1:2::9]"), "2001:0db8:0001:0002::/64");
  EXPECT_EQ(rate_limit_source_key("fe80::1%eth0"), "fe80:0000:0000:0000::/64");
  EXPECT_EQ(rate_limit_source_key("::ffff:192.0.2.9"), "192.0.2.9");
  EXPECT_EQ(rate_limit_source_key("not:an:address::x"), "not:an:address::x");
}

}  // namespace
}  // namespace sipsite::sip
