#include "sipsite/metrics/exposition.hpp"
#include "sipsite/metrics/histogram.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace sipsite::metrics {
namespace {

using namespace std::chrono_literals;

TEST(Histogram, BucketsAreCumulativeWithSumAndCount) {
  constexpr double bounds[] = {0.01, 0.1, 1};
  Histogram h(bounds);
  h.observe(5ms);   // <= 0.01
  h.observe(10ms);  // exactly on a bound: counted in it (le is "less or equal")
  h.observe(50ms);  // <= 0.1
  h.observe(2s);    // above every bound: only in +Inf
  std::string out;
  h.render(out, "x_seconds", "role=\"server\"");
  EXPECT_EQ(out,
            "x_seconds_bucket{role=\"server\",le=\"0.01\"} 2\n"
            "x_seconds_bucket{role=\"server\",le=\"0.1\"} 3\n"
            "x_seconds_bucket{role=\"server\",le=\"1\"} 3\n"
            "x_seconds_bucket{role=\"server\",le=\"+Inf\"} 4\n"
            "x_seconds_sum{role=\"server\"} 2.065\n"
            "x_seconds_count{role=\"server\"} 4\n");
}

TEST(Histogram, WithoutLabelsAndWithoutObservations) {
  constexpr double bounds[] = {0.5};
  Histogram h(bounds);
  std::string out;
  h.render(out, "y", "");
  EXPECT_EQ(out, "y_bucket{le=\"0.5\"} 0\ny_bucket{le=\"+Inf\"} 0\ny_sum 0\ny_count 0\n");
}

TEST(Histogram, NegativeDurationsCountAsZero) {
  constexpr double bounds[] = {0.001};
  Histogram h(bounds);
  h.observe(-5ms);  // a clock that went backwards must not underflow the sum
  std::string out;
  h.render(out, "z", "");
  EXPECT_NE(out.find("z_bucket{le=\"0.001\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("z_sum 0\n"), std::string::npos) << out;
}

TEST(Exposition, LabelValuesAreEscaped) { EXPECT_EQ(label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd"); }

TEST(Exposition, NumbersAreShortestRoundTrip) {
  EXPECT_EQ(number(0.1), "0.1");
  EXPECT_EQ(number(30), "30");
  EXPECT_EQ(number(0.0025), "0.0025");
}

}  // namespace
}  // namespace sipsite::metrics
