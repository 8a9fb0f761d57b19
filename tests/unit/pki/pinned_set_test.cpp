// PinnedSet: a value with copy-on-write shards. A copy is independent of
// the set it came from (a handshake's snapshot never sees a later change),
// whichever shard a change lands in.

#include "sipsite/pki/pinned_set.hpp"

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <string>

namespace sipsite::pki {
namespace {

Fingerprint fp(int n) {
  std::array<std::uint8_t, Fingerprint::kSize> bytes{};
  bytes[0] = static_cast<std::uint8_t>(n);  // the shard
  bytes[1] = static_cast<std::uint8_t>(n >> 8);
  bytes[31] = 0x5a;
  return Fingerprint::from_bytes(bytes);
}

std::string domain(int n) { return "site" + std::to_string(n) + ".example"; }

PinnedSet filled(int n) {
  PinnedSet set;
  for (int i = 0; i < n; ++i) EXPECT_TRUE(set.emplace(fp(i), domain(i)));
  return set;
}

TEST(PinnedSetTest, FindsEveryPinAcrossAllShardsAndCountsThem) {
  const PinnedSet set = filled(1000);
  EXPECT_EQ(set.size(), 1000U);
  for (int i = 0; i < 1000; ++i) {
    const PinnedPeer* p = set.find(fp(i));
    ASSERT_NE(p, nullptr) << i;
    EXPECT_EQ(p->domain, domain(i));
  }
  EXPECT_FALSE(set.contains(fp(1000)));
  std::set<Fingerprint> seen;
  set.for_each([&](const Fingerprint& f, const PinnedPeer& /*p*/) { seen.insert(f); });
  EXPECT_EQ(seen.size(), 1000U);
}

TEST(PinnedSetTest, ACopyNeverSeesLaterChangesOfTheOriginalNorTheOtherWayRound) {
  PinnedSet original = filled(300);
  const PinnedSet snapshot = original;  // what a handshake in flight holds
  EXPECT_TRUE(original.erase(fp(7)));
  original.insert_or_assign(fp(8), "moved.example");
  EXPECT_TRUE(original.emplace(fp(500), domain(500)));
  EXPECT_EQ(original.size(), 300U);

  EXPECT_EQ(snapshot.size(), 300U);
  ASSERT_NE(snapshot.find(fp(7)), nullptr);
  EXPECT_EQ(snapshot.find(fp(8))->domain, domain(8));
  EXPECT_FALSE(snapshot.contains(fp(500)));

  PinnedSet copy = snapshot;
  copy.erase(fp(9));
  EXPECT_TRUE(snapshot.contains(fp(9)));
  EXPECT_FALSE(original.contains(fp(7)));
  EXPECT_EQ(original.find(fp(8))->domain, "moved.example");
}

TEST(PinnedSetTest, EmplaceKeepsAnExistingPinAndEraseOfAnUnknownOneIsANoOp) {
  PinnedSet set{{fp(1), "one.example"}, {fp(2), "two.example"}};
  EXPECT_FALSE(set.emplace(fp(1), "other.example"));
  EXPECT_EQ(set.find(fp(1))->domain, "one.example");
  EXPECT_FALSE(set.erase(fp(3)));
  EXPECT_EQ(set.size(), 2U);
  set.insert_or_assign(fp(1), "other.example");
  EXPECT_EQ(set.size(), 2U);
  EXPECT_EQ(set.find(fp(1))->domain, "other.example");
  EXPECT_TRUE(set.erase(fp(1)));
  EXPECT_TRUE(set.erase(fp(2)));
  EXPECT_TRUE(set.empty());
  EXPECT_TRUE(PinnedSet{}.empty());
}

}  // namespace
}  // namespace sipsite::pki
