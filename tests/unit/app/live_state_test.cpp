// The daemon's incremental apply of database changes (issue 18, issue 16
// item 5): LiveStateMirror alone (what a change of a few rows yields), and
// LiveStateWatcher on a real encrypted database written by another
// connection, as the CLI does.

#include "live_state_mirror.hpp"
#include "live_state_watcher.hpp"

#include <sipsite/pki/private_key.hpp>
#include <sipsite/store/peer_repository.hpp>
#include <sipsite/store/unix_time.hpp>

#include "support/temp_dir.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

namespace sipsite::app {
namespace {

struct Site {
  pki::Certificate cert;
  store::PeerRecord record;
};

Site make_site(const std::string& domain, store::PeerState state = store::PeerState::trusted,
               std::string address = "") {
  auto key = pki::PrivateKey::generate_p256().value();
  auto cert = pki::Certificate::self_signed(key, pki::CertificateOptions::valid_for_days(domain, 30)).value();
  store::PeerRecord r{domain, cert.fingerprint().to_string(), cert.to_pem(), std::move(address), state, 0, 0};
  return {std::move(cert), std::move(r)};
}

bool names(const std::vector<TrustedPeer>& peers, const pki::Fingerprint& fp) {
  return std::any_of(peers.begin(), peers.end(), [&](const TrustedPeer& p) { return p.fingerprint == fp; });
}

const store::UserRecord kAlice{"alice", "alpha.example", "alpha.example", "md5", "sha", 0, 0};

TEST(LiveStateMirror, LoadsEverythingOnceThenReportsOnlyWhatChanged) {
  LiveStateMirror mirror("alpha.example");
  std::vector<store::PeerRecord> peers;
  std::vector<Site> sites;
  for (int i = 0; i < 50; ++i) sites.push_back(make_site("p" + std::to_string(i) + ".example"));
  sites.push_back(make_site("untrusted.example", store::PeerState::untrusted));
  for (const auto& s : sites) peers.push_back(s.record);
  const auto full = mirror.load({kAlice}, peers, {}, false, store::unix_now());
  EXPECT_TRUE(full.full);
  ASSERT_TRUE(full.pins);
  EXPECT_EQ(full.pins->size(), 50u);
  EXPECT_EQ(full.trusted.size(), 50u);
  EXPECT_EQ(full.users.size(), 1u);
  EXPECT_EQ(full.peer_count, 51u);
  EXPECT_EQ(full.trusted_count, 50u);

  // One revocation: one peer untrusted and unpinned, the rest untouched.
  ChangedRows revoke;
  revoke.rows = 1;
  auto revoked = sites[7].record;
  revoked.state = store::PeerState::revoked;
  revoke.peers.emplace(revoked.fingerprint, revoked);
  const auto u = mirror.apply(revoke, store::unix_now());
  EXPECT_FALSE(u.full);
  EXPECT_EQ(u.changes, 1u);
  ASSERT_EQ(u.untrusted.size(), 1u);
  EXPECT_EQ(u.untrusted[0].fingerprint, sites[7].cert.fingerprint());
  EXPECT_EQ(u.untrusted[0].domain, "p7.example");
  EXPECT_TRUE(u.trusted.empty());
  ASSERT_EQ(u.unpinned.size(), 1u);
  EXPECT_EQ(u.unpinned[0], sites[7].cert.fingerprint());
  ASSERT_TRUE(u.pins);
  EXPECT_EQ(u.pins->size(), 49u);
  EXPECT_FALSE(u.pins->contains(sites[7].cert.fingerprint()));
  EXPECT_TRUE(u.pins->contains(sites[8].cert.fingerprint()));
  EXPECT_EQ(u.trusted_count, 49u);
  EXPECT_EQ(u.peer_count, 51u);
  // The set handshakes used before is left as it was (copy-on-write).
  EXPECT_EQ(full.pins->size(), 50u);

  // Trusting the untrusted one and adding a new trusted peer.
  ChangedRows trust;
  trust.rows = 2;
  auto now_trusted = sites[50].record;
  now_trusted.state = store::PeerState::trusted;
  trust.peers.emplace(now_trusted.fingerprint, now_trusted);
  const auto fresh = make_site("new.example", store::PeerState::trusted, "192.0.2.9:5062");
  trust.peers.emplace(fresh.record.fingerprint, fresh.record);
  const auto t = mirror.apply(trust, store::unix_now());
  EXPECT_EQ(t.trusted.size(), 2u);
  EXPECT_TRUE(names(t.trusted, fresh.cert.fingerprint()));
  EXPECT_TRUE(names(t.trusted, sites[50].cert.fingerprint()));
  EXPECT_TRUE(t.untrusted.empty());
  EXPECT_TRUE(t.unpinned.empty());
  EXPECT_EQ(t.pins->size(), 51u);
  EXPECT_EQ(t.peer_count, 52u);
  const pki::PinnedPeer* pinned = t.pins->find(fresh.cert.fingerprint());
  ASSERT_NE(pinned, nullptr);
  EXPECT_EQ(pinned->domain, "new.example");
  // The pin keeps the PEM, parsed only when a rotation proof needs it.
  EXPECT_FALSE(pinned->certificate);
  const auto parsed = pinned->parsed_certificate();
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->fingerprint(), fresh.cert.fingerprint());

  // A row touched without a change the daemon keeps: nothing to do.
  ChangedRows touch;
  touch.rows = 1;
  touch.peers.emplace(sites[3].record.fingerprint, sites[3].record);
  const auto nothing = mirror.apply(touch, store::unix_now());
  EXPECT_TRUE(nothing.trusted.empty());
  EXPECT_TRUE(nothing.untrusted.empty());
  EXPECT_TRUE(nothing.unpinned.empty());

  // A deleted peer row.
  ChangedRows removed;
  removed.rows = 1;
  removed.peers.emplace(fresh.record.fingerprint, std::nullopt);
  const auto r = mirror.apply(removed, store::unix_now());
  EXPECT_TRUE(names(r.untrusted, fresh.cert.fingerprint()));
  EXPECT_EQ(r.peer_count, 51u);
}

TEST(LiveStateMirror, UsersOfThisSiteComeAndGoOneByOne) {
  LiveStateMirror mirror("alpha.example");
  mirror.load({kAlice}, {}, {}, std::nullopt, store::unix_now());
  ChangedRows add;
  auto bob = kAlice;
  bob.username = "bob";
  add.users.emplace("bob@alpha.example", bob);
  auto other = kAlice;
  other.domain = "elsewhere.example";
  add.users.emplace("alice@elsewhere.example", other);  // another domain: not this site's
  auto a = mirror.apply(add, store::unix_now());
  ASSERT_EQ(a.users.size(), 1u);
  EXPECT_EQ(a.users[0].username, "bob");
  EXPECT_EQ(a.user_count, 2u);
  EXPECT_FALSE(a.pins);  // no peer changed: the pinned set is not rebuilt
  ChangedRows del;
  del.users.emplace("alice@alpha.example", std::nullopt);
  auto d = mirror.apply(del, store::unix_now());
  ASSERT_EQ(d.users_removed.size(), 1u);
  EXPECT_EQ(d.users_removed[0], "alice");
  EXPECT_EQ(d.user_count, 1u);
}

TEST(LiveStateMirror, PreviousPinsFollowTheirPeersTrust) {
  LiveStateMirror mirror("alpha.example");
  const auto beta = make_site("beta.example");
  const auto old = make_site("beta.example");  // beta's key before a rotation
  const std::int64_t now = store::unix_now();
  store::PreviousPin pin{old.record.fingerprint,  "beta.example", old.record.certificate_pem,
                         beta.record.fingerprint, now - 10,       now + 3600};
  auto full = mirror.load({}, {beta.record}, {pin}, std::nullopt, now);
  ASSERT_EQ(full.pins->size(), 2u);
  ASSERT_TRUE(full.pins->contains(old.cert.fingerprint()));
  EXPECT_TRUE(full.pins->find(old.cert.fingerprint())->superseded);
  EXPECT_EQ(full.earliest_pin_expiry, now + 3600);
  // Revoking beta drops its old pin too: both unpinned (their links close).
  ChangedRows revoke;
  auto revoked = beta.record;
  revoked.state = store::PeerState::revoked;
  revoke.peers.emplace(revoked.fingerprint, revoked);
  auto r = mirror.apply(revoke, now);
  EXPECT_TRUE(r.pins->empty());
  EXPECT_EQ(r.unpinned.size(), 2u);
}

// The watcher on a real database, written by another connection (the CLI):
// a full load at start, then each change applied incrementally.
TEST(LiveStateWatcher, AppliesAnotherConnectionsChangesIncrementally) {
  test::TempDir dir;
  const auto key = store::DbKey::generate().value();
  auto writer = store::Database::open(dir / "s.db", key, store::OpenMode::create).value();
  std::vector<Site> sites;
  for (int i = 0; i < 20; ++i) {
    sites.push_back(make_site("w" + std::to_string(i) + ".example"));
    ASSERT_TRUE(store::PeerRepository(writer).add(sites.back().record));
  }
  boost::asio::io_context io;
  std::vector<LiveStateUpdate> updates;
  LiveStateWatcher watcher(
      io, store::Database::open(dir / "s.db", key, store::OpenMode::existing).value(), "alpha.example",
      [&](LiveStateUpdate u) { updates.push_back(std::move(u)); }, std::chrono::milliseconds(20));
  auto wait_for_updates = [&](std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (updates.size() < n && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_for(std::chrono::milliseconds(20));
    }
    return updates.size() >= n;
  };
  watcher.start();
  ASSERT_EQ(updates.size(), 1u) << "the first load is applied before start() returns";
  EXPECT_TRUE(updates[0].full);
  EXPECT_EQ(updates[0].trusted_count, 20u);

  ASSERT_TRUE(store::PeerRepository(writer).set_state(sites[4].record.fingerprint, store::PeerState::revoked));
  ASSERT_TRUE(wait_for_updates(2));
  const auto& u = updates[1];
  EXPECT_FALSE(u.full);
  EXPECT_EQ(u.changes, 1u);
  ASSERT_EQ(u.untrusted.size(), 1u);
  EXPECT_EQ(u.untrusted[0].fingerprint, sites[4].cert.fingerprint());
  ASSERT_EQ(u.unpinned.size(), 1u);
  EXPECT_EQ(u.trusted_count, 19u);

  // A write the daemon does not keep (an audit record) yields no update.
  ASSERT_TRUE(writer.execute_script(
      "INSERT INTO audit_log (at, actor, source, action, detail) VALUES (1, 'a', 's', 'x', '');"));
  ASSERT_TRUE(store::UserRepository(writer).add(kAlice));
  ASSERT_TRUE(wait_for_updates(3));
  EXPECT_FALSE(updates[2].full);
  EXPECT_EQ(updates[2].users.size(), 1u);
  EXPECT_TRUE(updates[2].untrusted.empty());
  EXPECT_FALSE(updates[2].pins);
  watcher.stop();
}

// The console's write is in force when its answer leaves: catch_up() makes
// the watcher look now (not at its next tick, here an hour away) and returns
// once what it read is applied on the io thread.
TEST(LiveStateWatcher, CatchUpReturnsOnceAWriteCommittedBeforeItIsApplied) {
  test::TempDir dir;
  const auto key = store::DbKey::generate().value();
  auto writer = store::Database::open(dir / "s.db", key, store::OpenMode::create).value();
  ASSERT_TRUE(store::UserRepository(writer).add(kAlice));
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::vector<LiveStateUpdate> updates;  // touched on the io thread only, read after catch_up()
  LiveStateWatcher watcher(
      io, store::Database::open(dir / "s.db", key, store::OpenMode::existing).value(), "alpha.example",
      [&](LiveStateUpdate u) { updates.push_back(std::move(u)); }, std::chrono::hours(1));
  EXPECT_FALSE(watcher.catch_up(std::chrono::milliseconds(10))) << "not started: nothing will ever apply";
  watcher.start();
  std::thread io_thread([&] { io.run(); });

  auto changed = kAlice;
  changed.ha1_md5 = "new md5";
  ASSERT_TRUE(store::UserRepository(writer).update_credentials(changed));
  const bool caught_up = watcher.catch_up(std::chrono::seconds(30));
  std::vector<LiveStateUpdate> seen;
  boost::asio::post(io, [&] { seen = updates; });
  watcher.stop();
  work.reset();
  io_thread.join();

  EXPECT_TRUE(caught_up);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_FALSE(seen[1].full);
  ASSERT_EQ(seen[1].users.size(), 1u);
  EXPECT_EQ(seen[1].users[0].ha1_md5, "new md5");
}

}  // namespace
}  // namespace sipsite::app
