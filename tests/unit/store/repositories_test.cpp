#include <sipsite/store/admin_repository.hpp>
#include <sipsite/store/api_token_repository.hpp>
#include <sipsite/store/audit_repository.hpp>
#include <sipsite/store/peer_repository.hpp>
#include <sipsite/store/settings_repository.hpp>
#include <sipsite/store/site_repository.hpp>
#include <sipsite/store/user_repository.hpp>

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

namespace sipsite::store {
namespace {

class Repositories : public ::testing::Test {
 protected:
  test::TempDir dir_;
  Database db_ = Database::open(dir_ / "s.db", DbKey::generate().value(), OpenMode::create).value();
};

UserRecord user(std::string name) { return {std::move(name), "alpha.example", "alpha.example", "m", "s", 0, 0}; }

PeerRecord peer(std::string domain, std::string fp) {
  return {std::move(domain), std::move(fp), "PEM", "beta.example:5062", PeerState::untrusted, 0, 0};
}

TEST_F(Repositories, ApiTokensAreStoredAsTheirSha256InHex) {
  ApiTokenRepository tokens(db_);
  auto id = tokens.add("ci", "abc", "admin");
  ASSERT_TRUE(id) << id.error().message;
  // FIPS 180-2's example: SHA-256("abc").
  auto hash = first_row(db_.query("SELECT token_hash FROM api_tokens WHERE id = ?", *id),
                        [](const Statement& s) { return s.text(0); });
  EXPECT_EQ(hash.value(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(tokens.add("ci", "other", "admin").error().code, Errc::duplicate);
  EXPECT_EQ(tokens.authenticate("abc").value(), "ci");
  EXPECT_FALSE(tokens.authenticate("abd").value());
  EXPECT_FALSE(tokens.authenticate(std::string(200, 'a')).value());
  const auto listed = tokens.list().value();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].name, "ci");
  EXPECT_EQ(listed[0].created_by, "admin");
  EXPECT_EQ(tokens.find(*id).value()->name, "ci");
  ASSERT_TRUE(tokens.remove(*id));
  EXPECT_EQ(tokens.remove(*id).error().code, Errc::not_found);
  EXPECT_FALSE(tokens.authenticate("abc").value());
}

TEST_F(Repositories, SiteIsCreatedOnceAndLoaded) {
  SiteRepository site(db_);
  auto missing = site.load();
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::not_initialised);
  ASSERT_TRUE(site.create({"alpha.example", "CERT", "KEY", 0}));
  auto again = site.create({"other.example", "C", "K", 0});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::duplicate);
  auto loaded = site.load();
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->domain, "alpha.example");
  EXPECT_EQ(loaded->certificate_pem, "CERT");
  EXPECT_EQ(loaded->private_key_pem, "KEY");
  EXPECT_GT(loaded->created_at, 0);
  ASSERT_TRUE(site.replace_identity("CERT2", "KEY2"));
  EXPECT_EQ(site.load()->certificate_pem, "CERT2");
}

TEST_F(Repositories, UsersAddListRemove) {
  UserRepository users(db_);
  ASSERT_TRUE(users.add(user("bob")));
  ASSERT_TRUE(users.add(user("alice")));
  auto dup = users.add(user("alice"));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, Errc::duplicate);
  EXPECT_EQ(dup.error().message, "user alice@alpha.example already exists");
  auto list = users.list().value();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].username, "alice");
  EXPECT_EQ(list[1].username, "bob");
  ASSERT_TRUE(users.remove("alice", "alpha.example"));
  auto gone = users.remove("alice", "alpha.example");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Errc::not_found);
  EXPECT_FALSE(users.find("alice", "alpha.example").value().has_value());
  EXPECT_TRUE(users.find("bob", "alpha.example").value().has_value());
}

TEST_F(Repositories, UserCredentialsAreReplacedInPlace) {
  UserRepository users(db_);
  ASSERT_TRUE(users.add(user("alice")));
  const auto before = users.find("alice", "alpha.example").value().value();
  UserRecord changed = user("alice");
  changed.ha1_md5 = "m2";
  changed.ha1_sha256 = "s2";
  ASSERT_TRUE(users.update_credentials(changed));
  const auto after = users.find("alice", "alpha.example").value().value();
  EXPECT_EQ(after.ha1_md5, "m2");
  EXPECT_EQ(after.ha1_sha256, "s2");
  EXPECT_EQ(after.created_at, before.created_at);
  auto unknown = users.update_credentials(user("ghost"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::not_found);
  EXPECT_EQ(users.list().value().size(), 1u);
}

TEST_F(Repositories, PeerRemovalDeletesTheRowAndOnlyIt) {
  PeerRepository peers(db_);
  ASSERT_TRUE(peers.add(peer("beta.example", "AA")));
  ASSERT_TRUE(peers.add(peer("gamma.example", "BB")));
  ASSERT_TRUE(peers.remove("AA"));
  EXPECT_FALSE(peers.find_by_fingerprint("AA").value().has_value());
  EXPECT_TRUE(peers.find_by_fingerprint("BB").value().has_value());
  auto again = peers.remove("AA");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::not_found);
  // The domain is free again: the same site can be imported anew.
  EXPECT_TRUE(peers.add(peer("beta.example", "AA")));
}

TEST_F(Repositories, PeersAreUniqueByFingerprintAndDomain) {
  PeerRepository peers(db_);
  ASSERT_TRUE(peers.add(peer("beta.example", "AA")));
  auto same_fp = peers.add(peer("gamma.example", "AA"));
  ASSERT_FALSE(same_fp);
  EXPECT_EQ(same_fp.error().code, Errc::duplicate);
  EXPECT_NE(same_fp.error().message.find("beta.example"), std::string::npos);
  auto same_domain = peers.add(peer("beta.example", "BB"));
  ASSERT_FALSE(same_domain);
  EXPECT_EQ(same_domain.error().code, Errc::duplicate);
  EXPECT_EQ(peers.list().value().size(), 1u);
}

TEST_F(Repositories, PeerStateChanges) {
  PeerRepository peers(db_);
  ASSERT_TRUE(peers.add(peer("beta.example", "AA")));
  ASSERT_TRUE(peers.set_state("AA", PeerState::trusted));
  EXPECT_EQ(peers.find_by_domain("beta.example").value()->state, PeerState::trusted);
  ASSERT_TRUE(peers.set_state("AA", PeerState::revoked));
  EXPECT_EQ(peers.find_by_fingerprint("AA").value()->state, PeerState::revoked);
  auto unknown = peers.set_state("ZZ", PeerState::trusted);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::not_found);
}

TEST_F(Repositories, SchemaRefusesAnUnknownPeerState) {
  auto r = db_.execute(
      "INSERT INTO peers (domain, fingerprint, certificate_pem, address, state, created_at, "
      "updated_at) VALUES ('x', 'y', 'z', '', 'friendly', 0, 0)");
  EXPECT_FALSE(r);
}

TEST_F(Repositories, AdminPasswordIsReplaced) {
  AdminRepository admins(db_);
  EXPECT_FALSE(admins.find("admin").value().has_value());
  ASSERT_TRUE(admins.put({"admin", "h1", true, 0}));
  ASSERT_TRUE(admins.put({"admin", "h2", false, 0}));
  auto a = admins.find("admin").value();
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->password_hash, "h2");
  EXPECT_FALSE(a->must_change);
}

TEST_F(Repositories, AuditIsNewestFirst) {
  AuditRepository audit(db_);
  ASSERT_TRUE(audit.append("cli:root", "local", "user.add", "alice@alpha.example"));
  ASSERT_TRUE(audit.append("cli:root", "local", "peer.trust", "beta.example"));
  auto entries = audit.recent(10).value();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].action, "peer.trust");
  EXPECT_EQ(entries[1].action, "user.add");
  EXPECT_EQ(audit.recent(1).value().size(), 1u);
}

TEST_F(Repositories, SettingsPutAndGet) {
  SettingsRepository settings(db_);
  EXPECT_FALSE(settings.get("retention.cdr_days").value().has_value());
  ASSERT_TRUE(settings.put("retention.cdr_days", "180"));
  ASSERT_TRUE(settings.put("retention.cdr_days", "90"));
  EXPECT_EQ(settings.get("retention.cdr_days").value().value(), "90");
}

}  // namespace
}  // namespace sipsite::store

#include <sipsite/store/pending_repository.hpp>

namespace sipsite::store {
namespace {

TEST_F(Repositories, PendingRequestsAreRecordedUpdatedIgnoredAndCapped) {
  PendingRepository pending(db_);
  EXPECT_EQ(pending.record("FP1", "PEM1", "gamma.example", "192.0.2.1:4000").value(), PendingOutcome::recorded);
  EXPECT_EQ(pending.record("FP1", "PEM1", "gamma.example", "192.0.2.1:4001").value(), PendingOutcome::updated);
  auto one = pending.find("FP1").value();
  ASSERT_TRUE(one);
  EXPECT_EQ(one->attempts, 2);
  EXPECT_EQ(one->source_address, "192.0.2.1:4001");
  ASSERT_TRUE(pending.ignore("FP1"));
  EXPECT_EQ(pending.record("FP1", "PEM1", "gamma.example", "192.0.2.1:4002").value(), PendingOutcome::ignored);
  EXPECT_EQ(pending.find("FP1").value()->attempts, 2);
  EXPECT_TRUE(pending.list(false).value().empty());
  EXPECT_EQ(pending.list(true).value().size(), 1u);
  EXPECT_EQ(pending.ignore("NOPE").error().code, Errc::not_found);

  // Capped at 3: the least recently seen non-ignored request makes room;
  // ignored entries (deny list) are never evicted.
  EXPECT_EQ(pending.record("FP2", "P", "d2.example", "s", 3).value(), PendingOutcome::recorded);
  EXPECT_EQ(pending.record("FP3", "P", "d3.example", "s", 3).value(), PendingOutcome::recorded);
  EXPECT_EQ(pending.record("FP4", "P", "d4.example", "s", 3).value(), PendingOutcome::replaced);  // evicts FP2
  EXPECT_EQ(pending.list(true).value().size(), 3u);
  EXPECT_FALSE(pending.find("FP2").value());
  EXPECT_TRUE(pending.find("FP1").value());
  ASSERT_TRUE(pending.ignore("FP3"));
  EXPECT_EQ(pending.record("FP5", "P", "d5.example", "s", 3).value(), PendingOutcome::replaced);  // evicts FP4
  EXPECT_FALSE(pending.find("FP4").value());
  ASSERT_TRUE(pending.ignore("FP5"));
  EXPECT_EQ(pending.record("FP6", "P", "d6.example", "s", 3).value(), PendingOutcome::full);
  EXPECT_FALSE(pending.find("FP6").value());
}

TEST_F(Repositories, APendingRequestClaimingATrustedPeersDomainIsAnImpostor) {
  PeerRepository peers(db_);
  ASSERT_TRUE(peers.add(peer("beta.example", "AA")));
  PendingRepository pending(db_);
  ASSERT_TRUE(pending.record("EVIL", "PEM", "Beta.Example", "192.0.2.66:4000"));
  ASSERT_TRUE(pending.record("NEW", "PEM", "gamma.example", "192.0.2.7:4000"));
  // beta is only imported, not trusted: nobody to impersonate yet.
  EXPECT_FALSE(pending.find("EVIL").value()->impostor);
  ASSERT_TRUE(peers.set_state("AA", PeerState::trusted));
  EXPECT_TRUE(pending.find("EVIL").value()->impostor);
  for (const auto& r : pending.list(false).value()) EXPECT_EQ(r.impostor, r.fingerprint == "EVIL") << r.fingerprint;
  ASSERT_TRUE(peers.set_state("AA", PeerState::revoked));
  EXPECT_FALSE(pending.find("EVIL").value()->impostor);
}

}  // namespace
}  // namespace sipsite::store
