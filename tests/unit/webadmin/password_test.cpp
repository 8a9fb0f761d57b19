#include <sipsite/webadmin/password.hpp>

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace sipsite::webadmin {
namespace {

TEST(OneTimePassword, HasTheDocumentedShapeAndIsRandom) {
  std::set<std::string> seen;
  const std::regex shape("[2-9a-km-zA-HJ-NP-Z]{5}(-[2-9a-km-zA-HJ-NP-Z]{5}){3}");
  for (int i = 0; i < 20; ++i) {
    const std::string p = generate_one_time_password();
    EXPECT_TRUE(std::regex_match(p, shape)) << p;
    seen.insert(p);
  }
  EXPECT_EQ(seen.size(), 20u);
}

TEST(PasswordHash, IsArgon2idWithTheStatedCostAndVerifies) {
  const auto hash = hash_password("correct horse");
  ASSERT_TRUE(hash);
  const std::string prefix = "$argon2id$v=19$m=" + std::to_string(kArgon2MemoryKiB) +
                             ",t=" + std::to_string(kArgon2Passes) + ",p=" + std::to_string(kArgon2Lanes) + "$";
  EXPECT_TRUE(hash->starts_with(prefix)) << *hash;
  EXPECT_EQ(hash->find("correct horse"), std::string::npos);
  EXPECT_TRUE(verify_password(*hash, "correct horse"));
  EXPECT_FALSE(verify_password(*hash, "correct horsf"));
  EXPECT_FALSE(verify_password(*hash, ""));
}

TEST(PasswordHash, SaltsEveryHash) { EXPECT_NE(hash_password("same").value(), hash_password("same").value()); }

TEST(PasswordHash, MalformedHashNeverVerifies) {
  for (const char* bad : {"", "$argon2id$", "plaintext", "$argon2i$v=19$m=16,t=2,p=1$c2FsdA$aGFzaA"}) {
    EXPECT_FALSE(verify_password(bad, "plaintext")) << bad;
  }
}

}  // namespace
}  // namespace sipsite::webadmin
