// Issue 7 in the store: CDRs, stored messages, the signaling log, retention
// settings, the purge (with a clock the test controls), account deletion,
// online backup and the state-directory lock. docs/PRIVACY.md names these
// tests as the evidence for its claims.

#include <sipsite/store/audit_repository.hpp>
#include <sipsite/store/cdr_repository.hpp>
#include <sipsite/store/message_repository.hpp>
#include <sipsite/store/pending_repository.hpp>
#include <sipsite/store/purger.hpp>
#include <sipsite/store/retention_settings.hpp>
#include <sipsite/store/settings_repository.hpp>
#include <sipsite/store/signaling_log_repository.hpp>
#include <sipsite/store/site_repository.hpp>
#include <sipsite/store/state_dir.hpp>
#include <sipsite/store/user_repository.hpp>

#include "decrypted_pages.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace sipsite::store {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kNow = 1'900'000'000;  // the test's clock

PurgeLimits limits(int batch, int max_batches) {
  PurgeLimits l;
  l.batch = batch;
  l.max_batches = max_batches;
  return l;
}

class Retention : public ::testing::Test {
 protected:
  test::TempDir dir_;
  DbKey key_ = DbKey::generate().value();
  Database db_ = Database::open(dir_ / "s.db", key_, OpenMode::create).value();

  std::int64_t count(const std::string& table) {
    return first_row(db_.prepare("SELECT count(*) FROM " + table), [](const Statement& s) { return s.integer(0); })
        .value()
        .value();
  }
  std::int64_t add_cdr(const std::string& caller, const std::string& callee, std::int64_t at,
                       std::optional<std::string> ip = std::nullopt) {
    return CdrRepository(db_)
        .start({call_ref_of("call-" + std::to_string(at) + caller), caller, callee, CdrDirection::local, "", at, ip})
        .value();
  }
  std::int64_t add_message(const std::string& to, const std::string& body, std::int64_t at) {
    const MessageLimits roomy{
        .max_body_bytes = 1 << 16, .per_user_count = 1 << 20, .per_user_bytes = 1 << 30, .total_bytes = 1 << 30};
    return MessageRepository(db_, roomy).store({to, "bob@alpha.example", "text/plain", body, at}).value();
  }
  void set(std::string_view key, std::string_view value) { SettingsRepository(db_).put(key, value).value(); }
};

// --- settings

TEST_F(Retention, SettingsHaveThePrivacyDefaults) {
  const auto s = RetentionSettingsRepository(db_).load().value();
  EXPECT_EQ(s.cdr_days, 180);
  EXPECT_EQ(s.signaling_log_days, 30);
  EXPECT_EQ(s.message_days, 30);
  EXPECT_EQ(s.audit_days, 365);
  EXPECT_EQ(s.pending_request_days, 7);
  EXPECT_FALSE(s.keep_cdrs_on_user_delete);
  EXPECT_FALSE(s.store_ip);
  EXPECT_FALSE(s.signaling_log_enabled);
}

TEST_F(Retention, SettingsRoundTripAndAreValidated) {
  RetentionSettingsRepository repo(db_);
  RetentionSettings s;
  s.cdr_days = 2;
  s.store_ip = true;
  s.signaling_log_enabled = true;
  ASSERT_TRUE(repo.save(s));
  EXPECT_EQ(repo.load().value(), s);
  RetentionSettings bad = s;
  bad.message_days = 0;
  auto r = repo.save(bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid);
  EXPECT_NE(r.error().message.find("message_days"), std::string::npos);
  bad.message_days = RetentionSettings::kMaxDays + 1;
  EXPECT_FALSE(repo.save(bad));
  EXPECT_EQ(repo.load().value(), s);  // nothing of a refused save is kept
  set(setting_key::kStoreIp, "maybe");
  EXPECT_FALSE(repo.load());  // an unreadable stored value is an error, not a silent default
}

// --- CDRs

TEST_F(Retention, CdrRecordsStartAnswerAndEnd) {
  CdrRepository cdrs(db_);
  const auto id = cdrs.start({call_ref_of("abc@10.0.0.5"), "alice@alpha.example", "carol@beta.example",
                              CdrDirection::outgoing, "beta.example", kNow, "10.0.0.5"})
                      .value();
  ASSERT_TRUE(cdrs.answered(id, kNow + 3));
  ASSERT_TRUE(cdrs.answered(id, kNow + 9));  // a second 200 keeps the first answer
  ASSERT_TRUE(cdrs.ended(id, kNow + 63, 200, "caller hung up"));
  const auto r = cdrs.find(id).value().value();
  EXPECT_EQ(r.caller_aor, "alice@alpha.example");
  EXPECT_EQ(r.callee_aor, "carol@beta.example");
  EXPECT_EQ(r.direction, CdrDirection::outgoing);
  EXPECT_EQ(r.peer_domain, "beta.example");
  EXPECT_EQ(r.answered_at, kNow + 3);
  EXPECT_EQ(r.ended_at, kNow + 63);
  EXPECT_EQ(r.duration_s, 60);
  EXPECT_EQ(r.final_status, 200);
  EXPECT_EQ(r.end_reason, "caller hung up");
  EXPECT_EQ(r.call_ref.size(), 32u);
  EXPECT_EQ(r.call_ref.find("10.0.0.5"), std::string::npos);
  EXPECT_FALSE(cdrs.answered(999, kNow));
  EXPECT_EQ(cdrs.ended(999, kNow, 200, "").error().code, Errc::not_found);

  const auto missed = add_cdr("bob@alpha.example", "alice@alpha.example", kNow + 100);
  ASSERT_TRUE(cdrs.ended(missed, kNow + 130, 486, "busy"));
  EXPECT_EQ(cdrs.find(missed).value()->duration_s, 0);
  EXPECT_FALSE(cdrs.find(missed).value()->answered_at);
}

// A record written in one INSERT (a call that started and ended within one
// batch of the writer) reads back as the same record made in three steps.
TEST_F(Retention, CdrWrittenWholeEqualsCdrWrittenInSteps) {
  CdrRepository cdrs(db_);
  const CdrStart start{call_ref_of("whole@10.0.0.5"),
                       "alice@alpha.example",
                       "bob@alpha.example",
                       CdrDirection::local,
                       "",
                       kNow,
                       "10.0.0.5"};
  const auto stepped = cdrs.start(start).value();
  ASSERT_TRUE(cdrs.answered(stepped, kNow + 2));
  ASSERT_TRUE(cdrs.media_protection(stepped, CdrMedia{"", "plain", "none"}));
  ASSERT_TRUE(cdrs.ended(stepped, kNow + 32, 200, "callee hung up"));
  const auto whole =
      cdrs.insert(CdrWrite{start, kNow + 2, CdrEnd{kNow + 32, 200, "callee hung up"}, CdrMedia{"", "plain", "none"}},
                  false)
          .value();
  ASSERT_NE(whole, stepped);
  auto a = cdrs.find(stepped).value().value();
  auto b = cdrs.find(whole).value().value();
  EXPECT_EQ(b.duration_s, 30);
  EXPECT_FALSE(b.source_ip);  // store_ip off
  a.id = b.id = 0;
  EXPECT_EQ(a.call_ref, b.call_ref);
  EXPECT_EQ(a.answered_at, b.answered_at);
  EXPECT_EQ(a.ended_at, b.ended_at);
  EXPECT_EQ(a.duration_s, b.duration_s);
  EXPECT_EQ(a.final_status, b.final_status);
  EXPECT_EQ(a.end_reason, b.end_reason);
  EXPECT_EQ(a.media_lan, b.media_lan);
  EXPECT_EQ(a.media_end_to_end, b.media_end_to_end);

  // Only started: the same defaults as start() leaves.
  const auto open = cdrs.insert(CdrWrite{start, std::nullopt, std::nullopt, std::nullopt}, true).value();
  const auto o = cdrs.find(open).value().value();
  EXPECT_FALSE(o.answered_at);
  EXPECT_FALSE(o.ended_at);
  EXPECT_EQ(o.final_status, 0);
  EXPECT_EQ(o.end_reason, "");
  EXPECT_EQ(o.source_ip, "10.0.0.5");  // store_ip on
  ASSERT_TRUE(cdrs.ended(open, kNow + 5, 487, "cancelled"));
  EXPECT_EQ(cdrs.find(open).value()->final_status, 487);
}

TEST_F(Retention, CdrSourceIpIsStoredOnlyWhenTheSettingIsOn) {
  const auto off = add_cdr("alice@alpha.example", "bob@alpha.example", kNow, "192.168.1.20");
  EXPECT_FALSE(CdrRepository(db_).find(off).value()->source_ip);
  set(setting_key::kStoreIp, "true");
  const auto on = add_cdr("alice@alpha.example", "bob@alpha.example", kNow, "192.168.1.20");
  EXPECT_EQ(CdrRepository(db_).find(on).value()->source_ip, "192.168.1.20");
  EXPECT_EQ(count("cdrs WHERE source_ip IS NOT NULL"), 1);
}

TEST_F(Retention, CdrListIsNewestFirstFilteredAndPaginated) {
  for (int i = 0; i < 5; ++i) add_cdr("alice@alpha.example", "bob@alpha.example", kNow + i);
  add_cdr("carol@alpha.example", "dave@beta.example", kNow + 10);
  CdrRepository cdrs(db_);
  const auto filter = [](auto set) {
    CdrFilter f;
    set(f);
    return f;
  };
  auto all = cdrs.list({}, 0, 50).value();
  EXPECT_EQ(all.total, 6);
  ASSERT_EQ(all.items.size(), 6u);
  EXPECT_EQ(all.items.front().caller_aor, "carol@alpha.example");
  auto page = cdrs.list(filter([](CdrFilter& f) { f.aor = "bob@alpha.example"; }), 1, 2).value();
  EXPECT_EQ(page.total, 5);
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0].started_at, kNow + 3);
  EXPECT_EQ(cdrs.list(filter([](CdrFilter& f) {
                        f.since = kNow + 2;
                        f.until = kNow + 4;
                      }),
                      0, 50)
                .value()
                .total,
            2);
  EXPECT_EQ(cdrs.list(filter([](CdrFilter& f) { f.direction = CdrDirection::incoming; }), 0, 50).value().total, 0);
  EXPECT_EQ(cdrs.list(filter([](CdrFilter& f) { f.aor = "dave@beta.example"; }), 0, 50).value().total, 1);
}

// --- stored messages

TEST_F(Retention, MessagesAreDeliveredInOrderAndDeletedOnceDelivered) {
  add_message("alice", "first", kNow);
  add_message("bob", "for bob", kNow + 1);
  add_message("alice", std::string("second\0with a NUL", 17), kNow + 2);
  add_message("alice", "third", kNow + 3);
  MessageRepository messages(db_);
  auto batch = messages.queued_for("alice", 2).value();
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].body, "first");
  EXPECT_EQ(batch[1].body, std::string("second\0with a NUL", 17));
  EXPECT_EQ(batch[1].size, 17);
  EXPECT_EQ(batch[0].sender_aor, "bob@alpha.example");
  for (const auto& m : batch) ASSERT_TRUE(messages.delivered(m.id));
  ASSERT_TRUE(messages.delivered(batch[0].id));  // twice is harmless
  batch = messages.queued_for("alice", 10).value();
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0].body, "third");
  EXPECT_EQ(messages.count("alice").value(), 1);
  EXPECT_EQ(messages.count("").value(), 2);
  const auto infos = messages.list("", 0, 10).value();
  ASSERT_EQ(infos.size(), 2u);
  EXPECT_EQ(infos[0].recipient, "alice");  // newest first
  EXPECT_EQ(infos[1].recipient, "bob");
}

TEST_F(Retention, MessageCapsRefuseWithADistinctFullError) {
  MessageRepository messages(
      db_, MessageLimits{.max_body_bytes = 100, .per_user_count = 3, .per_user_bytes = 150, .total_bytes = 250});
  const auto msg = [](std::string to, std::size_t size) {
    return NewMessage{std::move(to), "bob@alpha.example", "text/plain", std::string(size, 'x'), kNow};
  };
  auto too_big = messages.store(msg("alice", 101));
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().code, Errc::invalid);
  ASSERT_TRUE(messages.store(msg("alice", 10)));
  ASSERT_TRUE(messages.store(msg("alice", 10)));
  ASSERT_TRUE(messages.store(msg("alice", 10)));
  auto count_full = messages.store(msg("alice", 10));
  ASSERT_FALSE(count_full);
  EXPECT_EQ(count_full.error().code, Errc::full);
  EXPECT_NE(count_full.error().message.find("alice"), std::string::npos);
  ASSERT_TRUE(messages.store(msg("bob", 100)));
  auto bytes_full = messages.store(msg("bob", 60));
  ASSERT_FALSE(bytes_full);
  EXPECT_EQ(bytes_full.error().code, Errc::full);
  ASSERT_TRUE(messages.store(msg("carol", 90)));  // total 220
  auto total_full = messages.store(msg("dave", 40));
  ASSERT_FALSE(total_full);
  EXPECT_EQ(total_full.error().code, Errc::full);
  EXPECT_NE(total_full.error().message.find("site"), std::string::npos);
  EXPECT_EQ(count("stored_messages"), 5);
}

// --- signaling log

constexpr std::string_view kInvite =
    "INVITE sip:bob@alpha.example SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1\r\n"
    "Call-ID: raw-call-id-1234@10.0.0.5\r\n"
    "Authorization: Digest username=\"alice\", response=\"secret-response-hash\"\r\n"
    "Proxy-Authorization: Digest username=\"alice\",\r\n"
    " response=\"folded-secret\"\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 31\r\n"
    "\r\n"
    "v=0\r\no=secret-body-line 1 1 IN IP4\r\n";

TEST_F(Retention, SignalingLogIsOffByDefault) {
  SignalingLogRepository log(db_);
  EXPECT_FALSE(log.append(kNow, "in", "INVITE", call_ref_of("x"), kInvite).value());
  EXPECT_EQ(count("signaling_log"), 0);
}

TEST_F(Retention, SignalingLogKeepsNoBodyNoCredentialsNoCallId) {
  set(setting_key::kSignalingLogEnabled, "true");
  SignalingLogRepository log(db_);
  ASSERT_TRUE(log.append(kNow, "in", "INVITE", call_ref_of("raw-call-id-1234@10.0.0.5"), kInvite).value());
  EXPECT_FALSE(log.append(kNow, "sideways", "INVITE", "", kInvite));
  const auto entries = log.recent(10).value();
  ASSERT_EQ(entries.size(), 1u);
  const std::string& text = entries[0].text;
  EXPECT_NE(text.find("INVITE sip:bob@alpha.example SIP/2.0"), std::string::npos) << text;
  EXPECT_NE(text.find("Authorization: [removed]"), std::string::npos) << text;
  EXPECT_NE(text.find("Content-Length: 0"), std::string::npos) << text;
  for (const char* secret : {"secret-response-hash", "folded-secret", "secret-body-line", "v=0", "raw-call-id"}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << secret << "\n" << text;
  }
}

// --- purge

TEST_F(Retention, PurgeDeletesWhatIsOlderThanEachWindowAndKeepsTheRest) {
  RetentionSettings s;
  s.cdr_days = 10;
  s.message_days = 5;
  s.signaling_log_days = 2;
  s.audit_days = 20;
  s.pending_request_days = 7;
  s.signaling_log_enabled = true;
  RetentionSettingsRepository(db_).save(s).value();
  for (int i = 0; i < 12; ++i) add_cdr("old@alpha.example", "x@alpha.example", kNow - 11 * kDay - i);
  add_cdr("new@alpha.example", "x@alpha.example", kNow - 9 * kDay);
  add_message("alice", "old message", kNow - 6 * kDay);
  add_message("alice", "new message", kNow - 4 * kDay);
  SignalingLogRepository log(db_);
  ASSERT_TRUE(log.append(kNow - 3 * kDay, "in", "BYE", "r", "BYE sip:a SIP/2.0\r\n\r\n").value());
  ASSERT_TRUE(log.append(kNow - 1 * kDay, "out", "200", "r", "SIP/2.0 200 OK\r\n\r\n").value());
  // The audit log and pending requests stamp real time; rewrite their times.
  AuditRepository(db_).append("admin", "local", "old.action", "").value();
  AuditRepository(db_).append("admin", "local", "new.action", "").value();
  db_.execute("UPDATE audit_log SET at = ? WHERE action = 'old.action'", kNow - 21 * kDay).value();
  db_.execute("UPDATE audit_log SET at = ? WHERE action <> 'old.action'", kNow - 19 * kDay).value();
  PendingRepository(db_).record("AA:old", "PEM", "old.example", "192.0.2.1:1").value();
  PendingRepository(db_).record("AA:new", "PEM", "new.example", "192.0.2.2:1").value();
  db_.execute("UPDATE peer_requests SET last_seen = ? WHERE fingerprint = 'AA:old'", kNow - 8 * kDay).value();
  db_.execute("UPDATE peer_requests SET last_seen = ? WHERE fingerprint = 'AA:new'", kNow - 6 * kDay).value();

  const auto report = Purger(db_, limits(5, 100)).run(kNow).value();
  EXPECT_EQ(report.cdrs, 12);  // in batches of 5, 5, 2
  EXPECT_EQ(report.messages, 1);
  EXPECT_EQ(report.signaling_log, 1);
  EXPECT_EQ(report.audit, 1);
  EXPECT_EQ(report.pending_requests, 1);
  EXPECT_TRUE(report.complete);
  EXPECT_TRUE(report.checkpointed);
  EXPECT_EQ(count("cdrs"), 1);
  EXPECT_EQ(count("cdrs WHERE caller_aor = 'new@alpha.example'"), 1);
  EXPECT_EQ(count("stored_messages"), 1);
  EXPECT_EQ(MessageRepository(db_).queued_for("alice", 5).value().at(0).body, "new message");
  EXPECT_EQ(count("signaling_log"), 1);
  EXPECT_EQ(count("audit_log WHERE action = 'old.action'"), 0);
  EXPECT_EQ(count("audit_log WHERE action = 'new.action'"), 1);
  EXPECT_FALSE(PendingRepository(db_).find("AA:old").value());
  EXPECT_TRUE(PendingRepository(db_).find("AA:new").value());

  // A second run at the same time finds nothing more.
  EXPECT_EQ(Purger(db_).run(kNow).value().total(), 0);
}

TEST_F(Retention, PurgeStopsAtItsBatchBoundAndFinishesOnTheNextRun) {
  for (int i = 0; i < 7; ++i) add_cdr("old@alpha.example", "x@alpha.example", kNow - 200 * kDay);
  auto first = Purger(db_, limits(2, 2)).run(kNow).value();
  EXPECT_EQ(first.cdrs, 4);
  EXPECT_FALSE(first.complete);
  auto second = Purger(db_, limits(2, 10)).run(kNow).value();
  EXPECT_EQ(second.cdrs, 3);
  EXPECT_TRUE(second.complete);
  EXPECT_EQ(count("cdrs"), 0);
}

TEST_F(Retention, PurgeStopsWhenAsked) {
  for (int i = 0; i < 7; ++i) add_cdr("old@alpha.example", "x@alpha.example", kNow - 200 * kDay);
  int asked = 0;
  PurgeLimits l = limits(2, 100);
  l.stop_requested = [&] { return ++asked > 1; };
  auto report = Purger(db_, l).run(kNow).value();
  EXPECT_EQ(report.cdrs, 2);
  EXPECT_FALSE(report.complete);
}

// The bytes of purged rows are gone from the files, not just unlinked:
// every page of the database and its WAL, decrypted with the key (free
// pages included), no longer contains them, while kept rows are there.
TEST_F(Retention, PurgedValuesAreNotInTheDecryptedFileAfterPurgeAndCheckpoint) {
  RetentionSettings s;
  s.cdr_days = 1;
  s.message_days = 1;
  RetentionSettingsRepository(db_).save(s).value();
  for (int i = 0; i < 300; ++i) {
    add_cdr("purged-caller-" + std::to_string(i) + "@alpha.example", "callee-kept@alpha.example", kNow - 2 * kDay);
    add_message("alice", "PURGED-BODY-" + std::to_string(i) + std::string(200, '#'), kNow - 2 * kDay);
  }
  add_cdr("kept-caller@alpha.example", "callee-kept@alpha.example", kNow);
  add_message("alice", "KEPT-BODY", kNow);
  ASSERT_TRUE(db_.checkpoint_truncate().value());
  const std::string before = test::decrypted_database(dir_ / "s.db", key_.hex());
  ASSERT_NE(before.find("purged-caller-17@"), std::string::npos);  // the decryption sees the rows
  ASSERT_NE(before.find("PURGED-BODY-17"), std::string::npos);

  const auto report = Purger(db_).run(kNow).value();
  EXPECT_EQ(report.cdrs, 300);
  EXPECT_EQ(report.messages, 300);
  EXPECT_TRUE(report.checkpointed);
  EXPECT_EQ(std::filesystem::file_size(dir_.path().string() + "/s.db-wal"), 0u);

  const std::string after = test::decrypted_database(dir_ / "s.db", key_.hex());
  EXPECT_NE(after.find("kept-caller@alpha.example"), std::string::npos);
  EXPECT_NE(after.find("KEPT-BODY"), std::string::npos);
  EXPECT_EQ(after.find("purged-caller"), std::string::npos);
  EXPECT_EQ(after.find("PURGED-BODY"), std::string::npos);
  // And nothing readable without the key, as ever.
  const std::string raw = test::read_file(dir_ / "s.db");
  EXPECT_EQ(raw.find("kept-caller"), std::string::npos);
}

// --- account deletion

class AccountDeletion : public Retention {
 protected:
  void SetUp() override {
    UserRepository users(db_);
    ASSERT_TRUE(users.add({"alice", "alpha.example", "alpha.example", "md5-alice", "sha-alice", 0, 0}));
    ASSERT_TRUE(users.add({"bob", "alpha.example", "alpha.example", "md5-bob", "sha-bob", 0, 0}));
    add_cdr("alice@alpha.example", "bob@alpha.example", kNow);
    add_cdr("bob@alpha.example", "alice@alpha.example", kNow);
    add_cdr("carol@beta.example", "alice@alpha.example", kNow);
    add_cdr("bob@alpha.example", "carol@beta.example", kNow);
    add_message("alice", "for alice 1", kNow);
    add_message("alice", "for alice 2", kNow);
    add_message("bob", "for bob", kNow);
  }
};

TEST_F(AccountDeletion, RemovesTheUserCredentialsMessagesAndCdrsInOneTransaction) {
  const auto deleted = UserRepository(db_).delete_account("alice", "alpha.example", "admin", "192.0.2.1").value();
  EXPECT_EQ(deleted.messages, 2);
  EXPECT_EQ(deleted.cdrs, 3);
  EXPECT_FALSE(deleted.cdrs_kept);
  // Every table that can hold something of alice.
  EXPECT_EQ(count("users WHERE username = 'alice'"), 0);
  EXPECT_EQ(count("users WHERE ha1_md5 = 'md5-alice' OR ha1_sha256 = 'sha-alice'"), 0);
  EXPECT_EQ(count("stored_messages WHERE recipient = 'alice'"), 0);
  EXPECT_EQ(count("cdrs WHERE caller_aor LIKE 'alice@%' OR callee_aor LIKE 'alice@%'"), 0);
  EXPECT_EQ(count("signaling_log"), 0);
  // Bob's data stays.
  EXPECT_EQ(count("users"), 1);
  EXPECT_EQ(count("stored_messages"), 1);
  EXPECT_EQ(count("cdrs"), 1);
  const auto audit = AuditRepository(db_).recent(1).value().at(0);
  EXPECT_EQ(audit.action, "user.del");
  EXPECT_EQ(audit.actor, "admin");
  EXPECT_EQ(audit.source, "192.0.2.1");
  EXPECT_NE(audit.detail.find("alice@alpha.example"), std::string::npos);
}

TEST_F(AccountDeletion, KeepsCdrsWhenTheSettingSaysSo) {
  set(setting_key::kKeepCdrsOnUserDelete, "true");
  const auto deleted = UserRepository(db_).delete_account("alice", "alpha.example", "admin", "local").value();
  EXPECT_TRUE(deleted.cdrs_kept);
  EXPECT_EQ(count("users WHERE username = 'alice'"), 0);
  EXPECT_EQ(count("stored_messages WHERE recipient = 'alice'"), 0);
  EXPECT_EQ(count("cdrs"), 4);
}

TEST_F(AccountDeletion, AnUnknownUserChangesNothing) {
  auto r = UserRepository(db_).delete_account("nobody", "alpha.example", "admin", "local");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::not_found);
  EXPECT_EQ(count("users"), 2);
  EXPECT_EQ(count("audit_log"), 0);
}

TEST_F(AccountDeletion, AFailureRollsEverythingBack) {
  // A transaction inside a transaction is a savepoint: the caller's error
  // undoes the whole deletion.
  auto r = db_.transaction([&]() -> Result<void> {
    if (auto d = UserRepository(db_).delete_account("alice", "alpha.example", "admin", "local"); !d) return d.error();
    return Error{Errc::io, "later step failed"};
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(count("users"), 2);
  EXPECT_EQ(count("stored_messages"), 3);
  EXPECT_EQ(count("cdrs"), 4);
  EXPECT_EQ(count("audit_log"), 0);
}

// --- backup

TEST_F(Retention, BackupIsAConsistentEncryptedSnapshotWhileAnotherConnectionWrites) {
  ASSERT_TRUE(SiteRepository(db_).create({"alpha.example", "CERT", "KEY", 0}));
  for (int i = 0; i < 200; ++i) add_message("alice", "message " + std::to_string(i), kNow);
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    auto other = Database::open(dir_ / "s.db", key_, OpenMode::existing).value();
    for (int i = 0; i < 5000 && !stop; ++i) {
      if (UserRepository(other).add({"u" + std::to_string(i), "alpha.example", "alpha.example", "m", "s", 0, 0})) {
        ++written;
      }
    }
  });
  for (int i = 0; i < 1000 && written < 20; ++i) std::this_thread::yield();
  auto backup = db_.backup_to(dir_ / "backup.db", key_);
  stop = true;
  writer.join();
  ASSERT_TRUE(backup) << backup.error().message;
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "backup.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(test::read_file(dir_ / "backup.db").find("message 1"), std::string::npos);

  auto copy = Database::open(dir_ / "backup.db", key_, OpenMode::existing).value();
  EXPECT_EQ(copy.schema_version(), latest_schema_version());
  EXPECT_EQ(SiteRepository(copy).load().value().domain, "alpha.example");
  EXPECT_EQ(MessageRepository(copy).count("alice").value(), 200);
  EXPECT_TRUE(copy.quick_check());
  // Users u0..uN-1 were committed in order: a snapshot holds a prefix.
  const auto users = UserRepository(copy).list().value();
  for (const auto& u : users) {
    EXPECT_LT(std::stoi(u.username.substr(1)), static_cast<int>(users.size())) << u.username;
  }

  auto wrong = Database::open(dir_ / "backup.db", DbKey::generate().value(), OpenMode::existing);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Errc::wrong_key);
}

TEST_F(Retention, BackupNeverOverwritesAFile) {
  test::write_file(dir_ / "exists.db", "precious");
  auto r = db_.backup_to(dir_ / "exists.db", key_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::already_exists);
  EXPECT_EQ(test::read_file(dir_ / "exists.db"), "precious");
}

// --- the state lock

TEST(StateLock, IsExclusiveAndReleasedWithItsHolder) {
  test::TempDir dir;
  {
    auto first = StateLock::try_acquire(dir.path());
    ASSERT_TRUE(first) << first.error().message;
    auto second = StateLock::try_acquire(dir.path());
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, Errc::busy);
    EXPECT_NE(second.error().message.find("daemon is running"), std::string::npos);
  }
  EXPECT_TRUE(StateLock::try_acquire(dir.path()));
  auto missing = StateLock::try_acquire(dir / "no-such-dir");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::io);
}

}  // namespace
}  // namespace sipsite::store
