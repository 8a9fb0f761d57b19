#include <sipsite/schema/migrations.hpp>
#include <sipsite/store/database.hpp>
#include <sipsite/store/live_state_changes.hpp>
#include <sipsite/store/peer_repository.hpp>
#include <sipsite/store/site_repository.hpp>
#include <sipsite/store/user_repository.hpp>

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <sys/stat.h>

namespace sipsite::store {
namespace {

using test::run_command;
using test::TempDir;

DbKey key() { return DbKey::generate().value(); }

const UserRecord kAlice{"alice-secret-aor", "alpha-secret.example", "alpha-secret.example", "md5", "sha", 0, 0};

TEST(Database, CreatesAPrivateFileAndMigratesToTheLatestVersion) {
  TempDir dir;
  auto db = Database::open(dir / "s.db", key(), OpenMode::create);
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ(db->schema_version(), latest_schema_version());
  EXPECT_GE(latest_schema_version(), 2);
  struct stat st {};
  ASSERT_EQ(::stat((dir / "s.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(Database, ExistingModeNeverCreatesAFile) {
  TempDir dir;
  auto db = Database::open(dir / "s.db", key(), OpenMode::existing);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code, Errc::not_initialised);
  EXPECT_FALSE(std::filesystem::exists(dir / "s.db"));
}

TEST(Database, CreateModeNeverReplacesAFile) {
  TempDir dir;
  const DbKey k = key();
  ASSERT_TRUE(Database::open(dir / "s.db", k, OpenMode::create));
  auto again = Database::open(dir / "s.db", key(), OpenMode::create);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::already_exists);
  EXPECT_TRUE(Database::open(dir / "s.db", k, OpenMode::existing));
}

TEST(Database, WrongKeyFailsCleanlyAndLeavesTheFileIntact) {
  TempDir dir;
  const DbKey k = key();
  {
    auto db = Database::open(dir / "s.db", k, OpenMode::create);
    ASSERT_TRUE(UserRepository(*db).add(kAlice));
  }
  const std::string before = test::read_file(dir / "s.db");
  auto wrong = Database::open(dir / "s.db", key(), OpenMode::existing);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Errc::wrong_key);
  EXPECT_NE(wrong.error().message.find("key does not open"), std::string::npos);
  EXPECT_EQ(test::read_file(dir / "s.db"), before);
  auto right = Database::open(dir / "s.db", k, OpenMode::existing);
  ASSERT_TRUE(right);
  EXPECT_TRUE(UserRepository(*right).find(kAlice.username, kAlice.domain).value().has_value());
}

TEST(Database, FileIsOpaqueToSqlite3AndHoldsNoPlaintext) {
  TempDir dir;
  {
    auto db = Database::open(dir / "s.db", key(), OpenMode::create);
    ASSERT_TRUE(SiteRepository(*db).create({"alpha-secret.example", "CERT", "KEY", 0}));
    ASSERT_TRUE(UserRepository(*db).add(kAlice));
    // Inspect the WAL while the connection is open, before any checkpoint.
    for (const char* suffix : {"", "-wal"}) {
      const std::string bytes = test::read_file(dir.path().string() + "/s.db" + suffix);
      EXPECT_EQ(bytes.find("alice-secret-aor"), std::string::npos) << suffix;
      EXPECT_EQ(bytes.find("alpha-secret"), std::string::npos) << suffix;
      EXPECT_EQ(bytes.find("SQLite format"), std::string::npos) << suffix;
      EXPECT_EQ(bytes.find("CREATE TABLE"), std::string::npos) << suffix;
    }
  }
  const std::string bytes = test::read_file(dir / "s.db");
  ASSERT_GT(bytes.size(), 4096u);
  EXPECT_EQ(bytes.find("alice-secret-aor"), std::string::npos);
  EXPECT_EQ(bytes.find("alpha-secret"), std::string::npos);
  const auto r = run_command("sqlite3 " + (dir / "s.db").string() + " 'SELECT * FROM users;'");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("file is not a database"), std::string::npos) << r.output;
}

TEST(Database, OpensWithTheSqlcipherToolGivenTheRawKey) {
  // Interoperability with the stock tool: an admin with the key can inspect
  // or recover the database, given the settings we document.
  TempDir dir;
  const DbKey k = key();
  {
    auto db = Database::open(dir / "s.db", k, OpenMode::create);
    ASSERT_TRUE(UserRepository(*db).add(kAlice));
  }
  const auto r =
      run_command("printf \"PRAGMA key = \\\"x'" + k.hex() +
                  "'\\\";\\nPRAGMA cipher_page_size = 4096;\\nSELECT username FROM users;\\n\" | sqlcipher " +
                  (dir / "s.db").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("alice-secret-aor"), std::string::npos) << r.output;
}

TEST(Migrations, AreNumberedInOrder) {
  const auto migrations = schema::migrations();
  ASSERT_FALSE(migrations.empty());
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    char prefix[24];
    std::snprintf(prefix, sizeof prefix, "%03zu_", i + 1);
    EXPECT_EQ(migrations[i].name.substr(0, 4), prefix) << migrations[i].name;
    EXPECT_TRUE(std::regex_match(std::string(migrations[i].name), std::regex("[0-9]{3}_[a-z0-9_]+\\.sql")));
  }
}

TEST(Migrations, AreIdempotent) {
  TempDir dir;
  const DbKey k = key();
  ASSERT_TRUE(Database::open(dir / "s.db", k, OpenMode::create));
  for (int i = 0; i < 3; ++i) {
    auto db = Database::open(dir / "s.db", k, OpenMode::existing);
    ASSERT_TRUE(db) << db.error().message;
    EXPECT_EQ(db->schema_version(), latest_schema_version());
  }
}

TEST(Migrations, UpgradeAnOlderSchemaKeepingItsData) {
  TempDir dir;
  const DbKey k = key();
  {
    auto v1 = Database::open_at_version(dir / "s.db", k, OpenMode::create, 1);
    ASSERT_TRUE(v1) << v1.error().message;
    EXPECT_EQ(v1->schema_version(), 1);
    ASSERT_TRUE(UserRepository(*v1).add(kAlice));
    // Version 2's table is absent at version 1.
    EXPECT_FALSE(v1->prepare("SELECT count(*) FROM peer_requests"));
  }
  auto db = Database::open(dir / "s.db", k, OpenMode::existing);
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ(db->schema_version(), latest_schema_version());
  EXPECT_TRUE(db->prepare("SELECT count(*) FROM peer_requests"));
  EXPECT_TRUE(UserRepository(*db).find(kAlice.username, kAlice.domain).value().has_value());
}

TEST(Migrations, RefuseADatabaseFromANewerRelease) {
  TempDir dir;
  const DbKey k = key();
  {
    auto db = Database::open(dir / "s.db", k, OpenMode::create);
    ASSERT_TRUE(db->execute_script("PRAGMA user_version = 999;"));
  }
  auto db = Database::open(dir / "s.db", k, OpenMode::existing);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code, Errc::schema_too_new);
}

TEST(Database, TransactionRollsBackOnError) {
  TempDir dir;
  auto db = Database::open(dir / "s.db", key(), OpenMode::create);
  UserRepository users(*db);
  auto r = db->transaction([&]() -> Result<void> {
    if (auto a = users.add(kAlice); !a) return a;
    return Error{Errc::invalid, "abort"};
  });
  ASSERT_FALSE(r);
  EXPECT_TRUE(users.list().value().empty());
}

TEST(Database, DataVersionMovesWhenAnotherConnectionCommits) {
  TempDir dir;
  const DbKey k = key();
  auto watcher = Database::open(dir / "s.db", k, OpenMode::create);
  auto writer = Database::open(dir / "s.db", k, OpenMode::existing);
  const auto before = watcher->data_version();
  EXPECT_EQ(watcher->data_version(), before);
  ASSERT_TRUE(UserRepository(*writer).add(kAlice));
  EXPECT_NE(watcher->data_version(), before);
  EXPECT_EQ(UserRepository(*watcher).list().value().size(), 1u);
}

TEST(Database, LiveStateGenerationMovesOnlyWithWhatTheDaemonKeepsInMemory) {
  TempDir dir;
  const DbKey k = key();
  auto watcher = Database::open(dir / "s.db", k, OpenMode::create);
  auto writer = Database::open(dir / "s.db", k, OpenMode::existing);
  const auto start = watcher->live_state_generation();
  ASSERT_NE(start, -1);
  // Call records, messages, the audit log and pending requests: data_version
  // moves (another connection committed), the generation does not.
  const auto version = watcher->data_version();
  ASSERT_TRUE(writer->execute_script(
      "INSERT INTO cdrs (call_ref, caller_aor, callee_aor, direction, started_at) VALUES ('r', 'a@x', 'b@x', 'local', "
      "1);"
      "INSERT INTO audit_log (at, actor, source, action, detail) VALUES (1, 'a', 's', 'x', '');"));
  EXPECT_NE(watcher->data_version(), version);
  EXPECT_EQ(watcher->live_state_generation(), start);
  // Users, peers, settings: it moves, whichever connection wrote.
  ASSERT_TRUE(UserRepository(*writer).add(kAlice));
  const auto after_user = watcher->live_state_generation();
  EXPECT_GT(after_user, start);
  ASSERT_TRUE(writer->execute_script("INSERT INTO settings (key, value, updated_at) VALUES ('k', 'v', 0);"));
  EXPECT_GT(watcher->live_state_generation(), after_user);
}

TEST(Database, ChangeLogNamesEachChangedRowForAnyConnection) {
  TempDir dir;
  const DbKey k = key();
  auto watcher = Database::open(dir / "s.db", k, OpenMode::create);
  auto writer = Database::open(dir / "s.db", k, OpenMode::existing);
  LiveStateChangeRepository log(*watcher);
  const auto start = log.latest();
  ASSERT_TRUE(start) << start.error().message;
  // Call records and the audit log are not in it.
  ASSERT_TRUE(writer->execute_script(
      "INSERT INTO cdrs (call_ref, caller_aor, callee_aor, direction, started_at) VALUES ('r', 'a@x', 'b@x', 'local', "
      "1);"
      "INSERT INTO audit_log (at, actor, source, action, detail) VALUES (1, 'a', 's', 'x', '');"));
  EXPECT_EQ(log.latest().value(), *start);

  ASSERT_TRUE(UserRepository(*writer).add(kAlice));
  const PeerRecord beta{"beta.example", "AA:BB", "pem", "", PeerState::trusted, 0, 0};
  ASSERT_TRUE(PeerRepository(*writer).add(beta));
  ASSERT_TRUE(PeerRepository(*writer).set_state("AA:BB", PeerState::revoked));
  ASSERT_TRUE(writer->execute_script("INSERT INTO settings (key, value, updated_at) VALUES ('k', 'v', 0);"));
  auto since = log.since(*start, 100);
  ASSERT_TRUE(since) << since.error().message;
  EXPECT_TRUE(since->complete);
  ASSERT_EQ(since->changes.size(), 4u);
  EXPECT_EQ(since->changes[0].kind, ChangeKind::user);
  EXPECT_EQ(since->changes[0].key, kAlice.username + "@" + kAlice.domain);
  EXPECT_EQ(since->changes[1].kind, ChangeKind::peer);
  EXPECT_EQ(since->changes[1].key, "AA:BB");
  EXPECT_EQ(since->changes[2].kind, ChangeKind::peer);
  EXPECT_EQ(since->changes[3].kind, ChangeKind::setting);
  EXPECT_EQ(since->changes[3].key, "k");
  EXPECT_EQ(since->latest, since->changes.back().seq);
  // From the last seq seen: nothing new.
  auto none = log.since(since->latest, 100);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->complete);
  EXPECT_TRUE(none->changes.empty());
  // More than the limit: the caller must read everything instead.
  auto many = log.since(*start, 2);
  ASSERT_TRUE(many);
  EXPECT_FALSE(many->complete);
  EXPECT_TRUE(many->changes.empty());
}

TEST(Database, ChangeLogReportsAGapWhenRowsAfterTheCursorWerePruned) {
  TempDir dir;
  auto db = Database::open(dir / "s.db", key(), OpenMode::create);
  ASSERT_TRUE(db);
  LiveStateChangeRepository log(*db);
  const auto start = log.latest().value();
  ASSERT_TRUE(
      db->execute_script("INSERT INTO settings (key, value, updated_at) VALUES ('a', '1', 0);"
                         "INSERT INTO settings (key, value, updated_at) VALUES ('b', '1', 0);"));
  ASSERT_TRUE(
      db->execute_script("DELETE FROM live_state_changes WHERE seq = (SELECT min(seq) FROM live_state_changes);"));
  auto since = log.since(start, 100);
  ASSERT_TRUE(since);
  EXPECT_FALSE(since->complete);
  // A reader that had seen the pruned row is not affected.
  auto later = log.since(start + 1, 100);
  ASSERT_TRUE(later);
  EXPECT_TRUE(later->complete);
  EXPECT_EQ(later->changes.size(), 1u);
}

TEST(Database, ChangeLogStaysBounded) {
  TempDir dir;
  auto db = Database::open(dir / "s.db", key(), OpenMode::create);
  ASSERT_TRUE(db);
  // 70,000 changes in one statement each way: the log keeps at most the last
  // 65,536 plus one pruning period.
  ASSERT_TRUE(
      db->execute_script("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 70000) "
                         "INSERT INTO settings (key, value, updated_at) SELECT 'k' || i, 'v', 0 FROM n;"));
  auto count =
      first_row(db->query("SELECT count(*) FROM live_state_changes"), [](const Statement& s) { return s.integer(0); });
  ASSERT_TRUE(count && *count);
  EXPECT_LE(**count, 65536 + 1024);
  EXPECT_GE(LiveStateChangeRepository(*db).latest().value(), 70000);
}

}  // namespace
}  // namespace sipsite::store
