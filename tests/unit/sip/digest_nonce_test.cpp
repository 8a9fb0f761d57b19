#include "sipsite/sip/auth/digest_nonce.hpp"
#include "sipsite/sip/manual_timers.hpp"

#include "registrar_fakes.hpp"

#include <gtest/gtest.h>

#include <set>

namespace sipsite::sip {
namespace {

using namespace std::chrono_literals;

struct DigestNonceTest : ::testing::Test {
  ManualTimers time;
  regtest::SeqRandom random;
  DigestNonces nonces{time, random, DigestNonceSettings{std::vector<std::uint8_t>(32, 7), 5min, 4}};
};

TEST_F(DigestNonceTest, FreshNoncesVerifyAndDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string n = nonces.issue("alpha.example");
    EXPECT_EQ(n.size(), 43U);
    EXPECT_EQ(n.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
    EXPECT_EQ(nonces.check(n, "alpha.example"), NonceCheck::ok);
    seen.insert(n);
  }
  EXPECT_EQ(seen.size(), 100U);     // same millisecond, different salt
  EXPECT_EQ(nonces.tracked(), 0U);  // issuing stores nothing
}

TEST_F(DigestNonceTest, OtherRealmSecretOrTamperingIsInvalid) {
  const std::string n = nonces.issue("alpha.example");
  EXPECT_EQ(nonces.check(n, "beta.example"), NonceCheck::invalid);
  DigestNonces other{time, random, DigestNonceSettings{std::vector<std::uint8_t>(32, 8), 5min, 4}};
  EXPECT_EQ(other.check(n, "alpha.example"), NonceCheck::invalid);
  for (std::size_t i = 0; i < n.size(); ++i) {
    std::string t = n;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    EXPECT_EQ(nonces.check(t, "alpha.example"), NonceCheck::invalid) << i;
  }
  EXPECT_EQ(nonces.check("", "alpha.example"), NonceCheck::invalid);
  EXPECT_EQ(nonces.check(n + "A", "alpha.example"), NonceCheck::invalid);
  EXPECT_EQ(nonces.check(n.substr(1), "alpha.example"), NonceCheck::invalid);
  EXPECT_EQ(nonces.check(std::string(43, '!'), "alpha.example"), NonceCheck::invalid);
}

TEST_F(DigestNonceTest, ExpiresAfterItsLifetime) {
  const std::string n = nonces.issue("alpha.example");
  time.advance(5min);
  EXPECT_EQ(nonces.check(n, "alpha.example"), NonceCheck::ok);
  time.advance(1ms);
  EXPECT_EQ(nonces.check(n, "alpha.example"), NonceCheck::expired);
  EXPECT_EQ(nonces.use(n, "alpha.example", 1), NonceCheck::expired);
}

TEST_F(DigestNonceTest, NcMustIncrease) {
  const std::string n = nonces.issue("alpha.example");
  EXPECT_EQ(nonces.use(n, "alpha.example", 0), NonceCheck::replayed);
  EXPECT_EQ(nonces.use(n, "alpha.example", 1), NonceCheck::ok);
  EXPECT_EQ(nonces.use(n, "alpha.example", 1), NonceCheck::replayed);
  EXPECT_EQ(nonces.use(n, "alpha.example", 3), NonceCheck::ok);
  EXPECT_EQ(nonces.use(n, "alpha.example", 2), NonceCheck::replayed);
  EXPECT_EQ(nonces.use(n, "alpha.example", 4), NonceCheck::ok);
  EXPECT_EQ(nonces.tracked(), 1U);
}

TEST_F(DigestNonceTest, TableIsBoundedAndEvictionNeverReopensACounter) {
  std::vector<std::string> issued;
  for (int i = 0; i < 6; ++i) {
    issued.push_back(nonces.issue("alpha.example"));
    time.advance(1ms);
  }
  for (const auto& n : issued) EXPECT_EQ(nonces.use(n, "alpha.example", 1), NonceCheck::ok);
  EXPECT_LE(nonces.tracked(), 4U);
  // The first two were evicted for room: replaying them must not pass.
  EXPECT_EQ(nonces.use(issued[0], "alpha.example", 1), NonceCheck::replayed);
  EXPECT_EQ(nonces.use(issued[1], "alpha.example", 2), NonceCheck::replayed);
  // A nonce issued after the eviction is fine.
  const std::string later = nonces.issue("alpha.example");
  EXPECT_EQ(nonces.use(later, "alpha.example", 1), NonceCheck::ok);
}

TEST_F(DigestNonceTest, ExpiredEntriesMakeRoomWithoutAWatermark) {
  for (int i = 0; i < 4; ++i) EXPECT_EQ(nonces.use(nonces.issue("r"), "r", 1), NonceCheck::ok);
  time.advance(6min);
  const std::string fresh = nonces.issue("r");
  EXPECT_EQ(nonces.use(fresh, "r", 1), NonceCheck::ok);
  EXPECT_EQ(nonces.tracked(), 1U);
}

TEST_F(DigestNonceTest, OpaqueIsStablePerRealm) {
  const std::string a = nonces.opaque("alpha.example");
  EXPECT_EQ(nonces.opaque("alpha.example"), a);
  EXPECT_NE(nonces.opaque("beta.example"), a);
  EXPECT_FALSE(a.empty());
}

TEST(DigestNonceSecret, EmptySecretIsDrawnFromRandom) {
  ManualTimers time;
  regtest::SeqRandom random;
  DigestNonces a{time, random, {}};
  DigestNonces b{time, random, {}};
  const std::string n = a.issue("r");
  EXPECT_EQ(a.check(n, "r"), NonceCheck::ok);
  EXPECT_EQ(b.check(n, "r"), NonceCheck::invalid);
}

}  // namespace
}  // namespace sipsite::sip
