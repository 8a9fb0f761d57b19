#include "sipsite/sip/registrar/location_service.hpp"
#include "sipsite/sip/manual_timers.hpp"

#include "registrar_fakes.hpp"

#include <gtest/gtest.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace sipsite::sip {
namespace {

using namespace std::chrono_literals;

struct LocationServiceTest : ::testing::Test {
  Binding binding(std::string contact, Duration ttl, int q1000 = 1000, FlowId flow = 0) {
    Binding b;
    b.contact = std::move(contact);
    b.destination = Destination{Endpoint{flow ? Protocol::tcp : Protocol::udp, "203.0.113.7", 5060}, flow};
    b.expires = time.now() + ttl;
    b.q1000 = q1000;
    b.call_id = "cid";
    b.cseq = 1;
    return b;
  }
  std::vector<std::string> contacts(std::string_view user) const {
    std::vector<std::string> out;
    for (const auto& b : location.lookup(user)) out.push_back(b.contact);
    return out;
  }

  ManualTimers time;
  Counters counters;
  LocationService location{time, counters};
};

TEST_F(LocationServiceTest, LookupOrdersByQThenLatestExpiry) {
  location.replace("alice", {binding("sip:a@1", 100s, 500), binding("sip:b@1", 300s, 1000),
                             binding("sip:c@1", 200s, 500), binding("sip:d@1", 50s, 1000)});
  EXPECT_EQ(contacts("alice"), (std::vector<std::string>{"sip:b@1", "sip:d@1", "sip:c@1", "sip:a@1"}));
  EXPECT_TRUE(location.lookup("bob").empty());
  EXPECT_EQ(location.size(), 4U);
  EXPECT_EQ(location.user_count(), 1U);
  EXPECT_EQ(regtest::metric(counters, "sipsite_sip_registrations"), 4);
  EXPECT_EQ(regtest::metric(counters, "sipsite_sip_registrations_added_total"), 4);
}

TEST_F(LocationServiceTest, ExpiredBindingsAreHiddenThenPurged) {
  location.replace("alice", {binding("sip:a@1", 60s), binding("sip:b@1", 120s)});
  location.replace("bob", {binding("sip:c@1", 60s)});
  time.advance(60s);
  EXPECT_EQ(contacts("alice"), (std::vector<std::string>{"sip:b@1"}));  // expiry is exclusive
  EXPECT_TRUE(location.lookup("bob").empty());
  EXPECT_EQ(location.size(), 3U);  // lookup is const: nothing removed yet
  // bindings() purges lazily for one user...
  EXPECT_EQ(location.bindings("alice").size(), 1U);
  EXPECT_EQ(location.size(), 2U);
  // ...purge_expired() for everyone.
  EXPECT_EQ(location.purge_expired(), 1U);
  EXPECT_EQ(location.size(), 1U);
  EXPECT_EQ(location.user_count(), 1U);
  EXPECT_EQ(regtest::metric(counters, "sipsite_sip_registrations"), 1);
  EXPECT_EQ(regtest::metric(counters, "sipsite_sip_registrations_removed_total"), 2);
}

TEST_F(LocationServiceTest, SweepRunsOnTheTimers) {
  location.start_sweeping(time, 10s);
  location.replace("alice", {binding("sip:a@1", 15s)});
  time.advance(10s);
  EXPECT_EQ(location.size(), 1U);
  time.advance(10s);
  EXPECT_EQ(location.size(), 0U);
  EXPECT_EQ(time.pending(), 1U);  // rescheduled
  location.stop_sweeping();
  EXPECT_EQ(time.pending(), 0U);
}

TEST_F(LocationServiceTest, RemoveOneAllAndByFlow) {
  location.replace("alice",
                   {binding("sip:a@1", 60s, 1000, 17), binding("sip:b@1", 60s, 1000, 18), binding("sip:c@1", 60s)});
  location.replace("bob", {binding("sip:d@1", 60s, 1000, 17), binding("sip:e@1", 60s, 1000, 17)});
  EXPECT_EQ(location.remove_flow(0), 0U);
  EXPECT_EQ(location.remove_flow(99), 0U);
  EXPECT_EQ(location.remove_flow(17), 3U);
  EXPECT_EQ(contacts("alice"), (std::vector<std::string>{"sip:b@1", "sip:c@1"}));
  EXPECT_TRUE(location.lookup("bob").empty());
  EXPECT_EQ(location.user_count(), 1U);
  EXPECT_EQ(location.remove_flow(17), 0U);
  EXPECT_TRUE(location.remove("alice", "sip:b@1"));
  EXPECT_FALSE(location.remove("alice", "sip:b@1"));
  EXPECT_EQ(location.remove_flow(18), 0U);  // the flow index followed the removal
  EXPECT_EQ(location.remove_all("alice"), 1U);
  EXPECT_EQ(location.remove_all("alice"), 0U);
  EXPECT_EQ(location.size(), 0U);
  EXPECT_EQ(regtest::metric(counters, "sipsite_sip_registrations"), 0);
  EXPECT_EQ(regtest::metric(counters, "sipsite_sip_registrations_removed_total"), 5);
}

TEST_F(LocationServiceTest, ReplaceCountsOnlyRealChanges) {
  location.replace("alice", {binding("sip:a@1", 60s), binding("sip:b@1", 60s)});
  location.replace("alice", {binding("sip:a@1", 120s), binding("sip:c@1", 60s)});  // refresh a, drop b, add c
  EXPECT_EQ(regtest::metric(counters, "sipsite_sip_registrations_added_total"), 3);
  EXPECT_EQ(regtest::metric(counters, "sipsite_sip_registrations_removed_total"), 1);
  location.replace("nobody", {});
  EXPECT_EQ(location.user_count(), 1U);
  const auto all = location.snapshot();
  EXPECT_EQ(all.size(), 2U);
}

#if defined(__SANITIZE_ADDRESS__)
#define SIPSITE_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIPSITE_TEST_ASAN 1
#endif
#endif
#if defined(__GLIBC__) && !defined(SIPSITE_TEST_ASAN)
#define SIPSITE_MEASURE_HEAP 1
#endif

// Under ASan its allocator, not glibc's, holds the heap: the size is not
// measured there, the 100,000 registrations are still made and counted.
TEST_F(LocationServiceTest, HundredThousandRegistrationsUnderOneKilobyteEach) {
  constexpr int kUsers = 100000;
#ifdef SIPSITE_MEASURE_HEAP
  // Heap in use before and after, as glibc counts it (chunk overheads
  // included): a rough estimate, not a benchmark. Typical phone values.
  const auto heap = [] { return mallinfo2().uordblks; };
  const std::size_t before = heap();
#endif
  for (int i = 0; i < kUsers; ++i) {
    const std::string user = "user" + std::to_string(i);
    Binding b = binding("sip:" + user + "@192.168.1.20:5060;transport=udp;ob", 3600s, 1000, i % 2 ? 0 : 1000 + i);
    b.call_id = "3c26700c6ad1-" + std::to_string(i) + "-qhx8h1gf5tnd@192.168.1.20";
    location.replace(user, {std::move(b)});
  }
#ifdef SIPSITE_MEASURE_HEAP
  const std::size_t after = heap();
  const double per = static_cast<double>(after - before) / kUsers;
  RecordProperty("bytes_per_registration", static_cast<int>(per));
  std::printf("location: %.0f bytes per registration (100,000 registrations)\n", per);
  EXPECT_LT(per, 1024.0);
#endif
  EXPECT_EQ(location.size(), static_cast<std::size_t>(kUsers));
}

}  // namespace
}  // namespace sipsite::sip
