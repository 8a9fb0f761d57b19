#include <sipsite/webadmin/login_limiter.hpp>
#include <sipsite/webadmin/sessions.hpp>

#include <gtest/gtest.h>

#include <set>

namespace sipsite::webadmin {
namespace {

using namespace std::chrono_literals;
using TimePoint = std::chrono::steady_clock::time_point;
const TimePoint t0{};

TEST(RandomToken, Is256BitsOfBase64url) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    const auto t = random_token(32);
    EXPECT_EQ(t.size(), 43u);
    EXPECT_EQ(t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 50u);
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(constant_time_equal("", "a"));
}

TEST(SessionStore, CreatesFindsAndRemoves) {
  SessionStore store;
  const auto id = store.create("admin", true, t0);
  ASSERT_FALSE(id.empty());
  Session* s = store.find(id, t0 + 1s);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->username, "admin");
  EXPECT_TRUE(s->must_change_password);
  EXPECT_EQ(s->csrf_token.size(), 43u);
  EXPECT_EQ(store.find(id + "x", t0), nullptr);
  EXPECT_EQ(store.find("", t0), nullptr);
  store.remove(id);
  EXPECT_EQ(store.find(id, t0), nullptr);
}

TEST(SessionStore, IdleTimeoutRestartsOnUse) {
  SessionStore store(SessionLimits{30min, 12h, 10});
  const auto id = store.create("admin", false, t0);
  EXPECT_NE(store.find(id, t0 + 29min), nullptr);
  EXPECT_NE(store.find(id, t0 + 58min), nullptr);  // 29 min after the last use
  EXPECT_EQ(store.find(id, t0 + 58min + 30min), nullptr);
  EXPECT_EQ(store.size(), 0u);
}

TEST(SessionStore, AbsoluteTimeoutEndsAnActiveSession) {
  SessionStore store(SessionLimits{30min, 1h, 10});
  const auto id = store.create("admin", false, t0);
  for (auto t = t0; t < t0 + 1h; t += 10min) EXPECT_NE(store.find(id, t), nullptr);
  EXPECT_EQ(store.find(id, t0 + 1h), nullptr);
}

TEST(SessionStore, CapEvictsTheLeastRecentlyUsed) {
  SessionStore store(SessionLimits{30min, 12h, 2});
  const auto a = store.create("a", false, t0);
  const auto b = store.create("b", false, t0 + 1s);
  ASSERT_NE(store.find(a, t0 + 2s), nullptr);  // a is now the most recent
  const auto c = store.create("c", false, t0 + 3s);
  EXPECT_EQ(store.size(), 2u);
  EXPECT_NE(store.find(a, t0 + 4s), nullptr);
  EXPECT_EQ(store.find(b, t0 + 4s), nullptr);
  EXPECT_NE(store.find(c, t0 + 4s), nullptr);
}

TEST(SessionStore, PasswordChangeEndsTheUsersOtherSessions) {
  SessionStore store;
  const auto a1 = store.create("admin", false, t0);
  const auto a2 = store.create("admin", false, t0);
  const auto o = store.create("other", false, t0);
  store.remove_user_except("admin", a1);
  EXPECT_NE(store.find(a1, t0), nullptr);
  EXPECT_EQ(store.find(a2, t0), nullptr);
  EXPECT_NE(store.find(o, t0), nullptr);
}

TEST(LoginLimiter, LocksASourceOutAfterItsFailures) {
  LoginLimiter l(LoginLimits{3, 10, 15min, 15min, 100});
  EXPECT_FALSE(l.blocked("10.0.0.1", "admin", t0));
  EXPECT_FALSE(l.failure("10.0.0.1", "admin", t0));
  EXPECT_FALSE(l.failure("10.0.0.1", "admin", t0 + 1s));
  EXPECT_TRUE(l.failure("10.0.0.1", "admin", t0 + 2s));
  auto wait = l.blocked("10.0.0.1", "someone", t0 + 3s);
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 15min - 1s);
  EXPECT_FALSE(l.blocked("10.0.0.2", "admin", t0 + 3s));  // the user is not locked yet
  EXPECT_FALSE(l.blocked("10.0.0.1", "admin", t0 + 2s + 15min));
}

TEST(LoginLimiter, AUserUnderAttackHoldsTheGuessingSourcesNotTheAdmin) {
  LoginLimiter l(LoginLimits{100, 3, 15min, 15min, 100, 10s});
  l.failure("10.0.0.1", "admin", t0);
  l.failure("10.0.0.2", "admin", t0);
  EXPECT_TRUE(l.failure("10.0.0.3", "admin", t0));
  // The guessing sources are held for the lockout...
  for (const char* s : {"10.0.0.1", "10.0.0.2", "10.0.0.3"}) EXPECT_TRUE(l.blocked(s, "admin", t0 + 1min)) << s;
  EXPECT_FALSE(l.blocked("10.0.0.1", "other", t0));
  // ...a clean source (the admin from a new address) may still try...
  EXPECT_FALSE(l.blocked("192.0.2.50", "admin", t0 + 1min));
  // ...one clean source at a time: a failed turn spaces the next one out.
  EXPECT_FALSE(l.failure("10.0.0.4", "admin", t0 + 1min));
  const auto wait = l.blocked("192.0.2.50", "admin", t0 + 1min);
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 10s);
  EXPECT_FALSE(l.blocked("192.0.2.50", "admin", t0 + 1min + 10s));
  EXPECT_TRUE(l.blocked("10.0.0.4", "admin", t0 + 1min + 10s)) << "it failed: no more turns";
}

TEST(LoginLimiter, AKnownGoodSourceIsNeverHeldByTheUsersCount) {
  LoginLimiter l(LoginLimits{5, 3, 15min, 15min, 100, 10s});
  l.success("192.0.2.50", "admin");  // the admin's desk logged in yesterday
  EXPECT_TRUE(l.known_good("192.0.2.50"));
  for (int i = 0; i < 30; ++i) l.failure("10.9.0." + std::to_string(i), "admin", t0 + std::chrono::seconds(i));
  EXPECT_FALSE(l.blocked("192.0.2.50", "admin", t0 + 40s));
  // Its own failures still count against it.
  for (int i = 0; i < 5; ++i) l.failure("192.0.2.50", "admin", t0 + 41s);
  EXPECT_TRUE(l.blocked("192.0.2.50", "admin", t0 + 42s));
}

TEST(LoginLimiter, KnownGoodSourcesAreBounded) {
  LoginLimiter l(LoginLimits{5, 10, 15min, 15min, 100, 10s, 4});
  for (int i = 0; i < 10; ++i) l.mark_known_good("10.0.0." + std::to_string(i));
  EXPECT_FALSE(l.known_good("10.0.0.0"));
  EXPECT_TRUE(l.known_good("10.0.0.9"));
}

TEST(LoginLimiter, WindowExpiresAndSuccessClears) {
  LoginLimiter l(LoginLimits{3, 10, 1min, 15min, 100});
  l.failure("s", "u", t0);
  l.failure("s", "u", t0 + 1s);
  l.failure("s", "u", t0 + 2min);  // a new window
  EXPECT_FALSE(l.blocked("s", "u", t0 + 2min));
  l.failure("s", "u", t0 + 2min);
  l.success("s", "u");
  l.failure("s", "u", t0 + 2min);
  l.failure("s", "u", t0 + 2min);
  EXPECT_FALSE(l.blocked("s", "u", t0 + 2min));
}

TEST(LoginLimiter, MemoryIsBounded) {
  LoginLimiter l(LoginLimits{3, 10, 15min, 15min, 8});
  const auto t = [](int i) { return t0 + std::chrono::milliseconds(i); };
  for (int i = 0; i < 1000; ++i) l.failure("10.0.0." + std::to_string(i), "u" + std::to_string(i), t(i));
  // The oldest entries were forgotten, the newest are still counted.
  l.failure("10.0.0.0", "x", t(1000));
  EXPECT_FALSE(l.failure("10.0.0.0", "y", t(1001)));
  l.failure("10.0.0.999", "x", t(1002));
  EXPECT_TRUE(l.failure("10.0.0.999", "y", t(1003)));
}

}  // namespace
}  // namespace sipsite::webadmin
