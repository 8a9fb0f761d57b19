#include <sipsite/admin/user_credentials.hpp>

#include <gtest/gtest.h>

namespace sipsite::admin {
namespace {

TEST(ParseAor, AcceptsUserAtDomainWithOptionalScheme) {
  std::string why;
  auto a = parse_aor("sip:Alice.B@Alpha.Example", why);
  ASSERT_TRUE(a) << why;
  EXPECT_EQ(a->username, "Alice.B");
  EXPECT_EQ(a->domain, "alpha.example");
}

TEST(ParseAor, RejectsWhatPhonesCannotUse) {
  for (const char* bad : {"alice", "a@b@c", "@alpha.example", "al ice@alpha.example", "alice@", "alice@-bad-.example",
                          "al\"ice@alpha.example"}) {
    std::string why;
    EXPECT_FALSE(parse_aor(bad, why)) << bad;
    EXPECT_FALSE(why.empty());
  }
  std::string why;
  EXPECT_FALSE(parse_aor(std::string(65, 'a') + "@alpha.example", why));
  EXPECT_TRUE(parse_aor(std::string(64, 'a') + "@alpha.example", why));
}

TEST(UserPassword, Rules) {
  EXPECT_FALSE(check_user_password("12345678"));
  EXPECT_TRUE(check_user_password("1234567"));
  EXPECT_TRUE(check_user_password(std::string(257, 'x')));
  EXPECT_TRUE(check_user_password("tab\there-pass"));
}

TEST(UserRecord, HoldsBothDigestsOfUserRealmPassword) {
  const auto u = make_user_record({"alice", "alpha.example"}, "alpha.example", "secret");
  EXPECT_EQ(u.aor(), "alice@alpha.example");
  EXPECT_EQ(u.realm, "alpha.example");
  // echo -n "alice:alpha.example:secret" | md5sum / sha256sum
  EXPECT_EQ(u.ha1_md5, "a0ec423ac3f88653b262369508d6019b");
  EXPECT_EQ(u.ha1_sha256, "e2af6b891099519e01637f11804b670824b5dcad1a64ae4c5071216a1e71feb6");
  const auto again = make_user_record({"alice", "alpha.example"}, "alpha.example", "secret");
  EXPECT_EQ(u.ha1_md5, again.ha1_md5);
  EXPECT_NE(u.ha1_md5, make_user_record({"alice", "alpha.example"}, "alpha.example", "secreT").ha1_md5);
}

}  // namespace
}  // namespace sipsite::admin
