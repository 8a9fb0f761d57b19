// Each admin operation once, on a real (temporary) encrypted database: what
// it writes, its audit record, and the typed error for each refusal. The
// front ends (CLI, REST API) are tested only for their mapping.

#include <sipsite/admin/site_operations.hpp>

#include <sipsite/pki/private_key.hpp>
#include <sipsite/store/api_token_repository.hpp>
#include <sipsite/store/audit_repository.hpp>
#include <sipsite/store/cdr_repository.hpp>
#include <sipsite/store/pending_repository.hpp>

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

namespace sipsite::admin {
namespace {

using store::PeerState;

pki::Certificate make_cert(const std::string& domain, int days = 30) {
  auto key = pki::PrivateKey::generate_p256().value();
  return pki::Certificate::self_signed(key, pki::CertificateOptions::valid_for_days(domain, days)).value();
}

class SiteOperationsTest : public ::testing::Test {
 protected:
  SiteOperationsTest()
      : db_(store::Database::open(dir_ / "s.db", store::DbKey::generate().value(), store::OpenMode::create).value()),
        own_(make_cert("alpha.example")),
        ops_(db_, {"alpha.example", own_.fingerprint().to_string()}, {"admin", "192.0.2.1"}) {}

  // The newest audit entry.
  store::AuditEntry last_audit() { return store::AuditRepository(db_).recent(1).value().at(0); }
  std::size_t audit_count() { return store::AuditRepository(db_).recent(1000).value().size(); }

  std::optional<store::PeerRecord> peer(const std::string& fingerprint) {
    return store::PeerRepository(db_).find_by_fingerprint(fingerprint).value();
  }

  store::PeerRecord import(const pki::Certificate& cert) {
    auto r = ops_.import_peer({pki::Certificate::from_pem(cert.to_pem()).value(), std::nullopt, "", false});
    EXPECT_TRUE(r) << r.error().message;
    return *r;
  }

  test::TempDir dir_;
  store::Database db_;
  pki::Certificate own_;
  SiteOperations ops_;
};

template <class T>
OpErrc error_of(const OpResult<T>& r) {
  EXPECT_FALSE(r);
  return r ? OpErrc::failed : r.error().code;
}

TEST_F(SiteOperationsTest, AddUserStoresDigestsAndAudits) {
  auto user = ops_.add_user("sip:alice@Alpha.Example", "correct-horse");
  ASSERT_TRUE(user) << user.error().message;
  EXPECT_EQ(user->aor(), "alice@alpha.example");
  // echo -n "alice:alpha.example:correct-horse" | md5sum
  const auto stored = store::UserRepository(db_).find("alice", "alpha.example").value().value();
  EXPECT_EQ(stored.realm, "alpha.example");
  EXPECT_EQ(stored.ha1_md5, user->ha1_md5);
  EXPECT_EQ(stored.ha1_md5.size(), 32u);
  EXPECT_EQ(stored.ha1_sha256.size(), 64u);
  const auto entry = last_audit();
  EXPECT_EQ(entry.actor, "admin");
  EXPECT_EQ(entry.source, "192.0.2.1");
  EXPECT_EQ(entry.action, "user.add");
  EXPECT_EQ(entry.detail, "alice@alpha.example");
}

TEST_F(SiteOperationsTest, AddUserRefusesBadInputAndDuplicatesWithoutWriting) {
  ASSERT_TRUE(ops_.add_user("alice@alpha.example", "correct-horse"));
  const auto audits = audit_count();
  EXPECT_EQ(error_of(ops_.add_user("alice", "correct-horse")), OpErrc::bad_aor);
  EXPECT_EQ(error_of(ops_.add_user("eve@beta.example", "correct-horse")), OpErrc::bad_aor);
  EXPECT_EQ(error_of(ops_.add_user("bob@alpha.example", "short")), OpErrc::bad_password);
  EXPECT_EQ(error_of(ops_.add_user("alice@alpha.example", "another-password")), OpErrc::conflict);
  EXPECT_EQ(audit_count(), audits);
  EXPECT_EQ(store::UserRepository(db_).list().value().size(), 1u);
}

TEST_F(SiteOperationsTest, ChangingAPasswordReplacesTheDigestsAndKeepsTheUsersRecords) {
  ASSERT_TRUE(ops_.add_user("alice@alpha.example", "correct-horse"));
  const auto before = store::UserRepository(db_).find("alice", "alpha.example").value().value();
  store::CdrRepository cdrs(db_);
  ASSERT_TRUE(cdrs.start({"c1", "alice@alpha.example", "bob@alpha.example", store::CdrDirection::local, "", 100, {}}));
  auto changed = ops_.change_user_password("alice@alpha.example", "battery-staple");
  ASSERT_TRUE(changed) << changed.error().message;
  const auto stored = store::UserRepository(db_).find("alice", "alpha.example").value().value();
  EXPECT_NE(stored.ha1_md5, before.ha1_md5);
  EXPECT_NE(stored.ha1_sha256, before.ha1_sha256);
  EXPECT_EQ(stored.ha1_md5, changed->ha1_md5);
  EXPECT_EQ(stored.created_at, before.created_at);
  EXPECT_EQ(cdrs.list({}, 0, 10).value().total, 1);
  EXPECT_EQ(last_audit().action, "user.password_change");
  EXPECT_EQ(last_audit().detail, "alice@alpha.example");

  const auto audits = audit_count();
  EXPECT_EQ(error_of(ops_.change_user_password("ghost@alpha.example", "battery-staple")), OpErrc::not_found);
  EXPECT_EQ(error_of(ops_.change_user_password("alice@alpha.example", "short")), OpErrc::bad_password);
  EXPECT_EQ(error_of(ops_.change_user_password("alice@beta.example", "battery-staple")), OpErrc::bad_aor);
  EXPECT_EQ(audit_count(), audits);
}

TEST_F(SiteOperationsTest, DeleteUserIsTheAccountDeletion) {
  ASSERT_TRUE(ops_.add_user("alice@alpha.example", "correct-horse"));
  auto deleted = ops_.delete_user("alice@alpha.example");
  ASSERT_TRUE(deleted) << deleted.error().message;
  EXPECT_TRUE(store::UserRepository(db_).list().value().empty());
  EXPECT_EQ(last_audit().action, "user.del");
  EXPECT_EQ(error_of(ops_.delete_user("alice@alpha.example")), OpErrc::not_found);
  EXPECT_EQ(error_of(ops_.delete_user("not-an-aor")), OpErrc::bad_aor);
}

TEST_F(SiteOperationsTest, ImportStoresAnUntrustedPeerAndRefusesOwnAndKnownCertificates) {
  const auto beta = make_cert("beta.example");
  auto r =
      ops_.import_peer({pki::Certificate::from_pem(beta.to_pem()).value(), std::nullopt, "beta.example:5062", false});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->state, PeerState::untrusted);
  EXPECT_EQ(r->address, "beta.example:5062");
  EXPECT_EQ(last_audit().action, "peer.import");
  EXPECT_EQ(last_audit().detail, "beta.example " + beta.fingerprint().to_string());

  const auto again = [](const pki::Certificate& c, std::string address = "") {
    return PeerImport{pki::Certificate::from_pem(c.to_pem()).value(), std::nullopt, std::move(address), false};
  };
  EXPECT_EQ(error_of(ops_.import_peer(again(beta))), OpErrc::conflict);
  EXPECT_EQ(error_of(ops_.import_peer(again(own_))), OpErrc::own_certificate);
  EXPECT_EQ(error_of(ops_.import_peer(again(make_cert("alpha.example")))), OpErrc::own_domain);
  EXPECT_EQ(error_of(ops_.import_peer(again(make_cert("gamma.example"), "nope"))), OpErrc::bad_address);
  EXPECT_EQ(store::PeerRepository(db_).list().value().size(), 1u);
}

TEST_F(SiteOperationsTest, ImportWithAnInviteChecksItAndAddTrustsAtOnce) {
  const auto beta = make_cert("beta.example");
  auto invite = pki::Invite::parse("sipsite:invite?v=1&domain=beta.example&address=198.51.100.2:5062&fp=" +
                                   beta.fingerprint().to_string())
                    .value();
  EXPECT_EQ(error_of(ops_.import_peer({make_cert("beta.example"), invite, "", true})), OpErrc::fingerprint_mismatch);
  auto added = ops_.import_peer({pki::Certificate::from_pem(beta.to_pem()).value(), invite, "", true});
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_EQ(added->state, PeerState::trusted);
  EXPECT_EQ(added->address, "198.51.100.2:5062");
  EXPECT_EQ(last_audit().action, "peer.add");
}

TEST_F(SiteOperationsTest, TrustAndRevokeByFingerprintOrDomain) {
  const auto beta = make_cert("beta.example");
  const std::string fp = beta.fingerprint().to_string();
  import(beta);
  auto trusted = ops_.trust_peer({fp, ""}, "");
  ASSERT_TRUE(trusted) << trusted.error().message;
  EXPECT_TRUE(trusted->changed);
  EXPECT_EQ(peer(fp)->state, PeerState::trusted);
  EXPECT_EQ(last_audit().action, "peer.trust");
  EXPECT_FALSE(ops_.trust_peer({fp, ""}, "").value().changed);

  auto revoked = ops_.revoke_peer({"", "BETA.example"});
  ASSERT_TRUE(revoked) << revoked.error().message;
  EXPECT_TRUE(revoked->changed);
  EXPECT_EQ(peer(fp)->state, PeerState::revoked);
  EXPECT_EQ(last_audit().action, "peer.revoke");

  EXPECT_EQ(error_of(ops_.revoke_peer({"", "gamma.example"})), OpErrc::not_found);
  EXPECT_EQ(error_of(ops_.trust_peer({make_cert("gamma.example").fingerprint().to_string(), ""}, "")),
            OpErrc::not_found);
  EXPECT_EQ(error_of(ops_.trust_peer({"AB:CD", ""}, "")), OpErrc::bad_fingerprint);
  EXPECT_EQ(error_of(ops_.trust_peer({fp, ""}, "host:0")), OpErrc::bad_address);
}

// A bundle is imported without addresses; the admin gives each peer its
// address when trusting it (ADMIN.md), or a new one later.
TEST_F(SiteOperationsTest, TrustingWithAnAddressStoresItAlsoForAPeerTrustedAlready) {
  const auto beta = make_cert("beta.example");
  const std::string fp = beta.fingerprint().to_string();
  import(beta);
  auto trusted = ops_.trust_peer({fp, ""}, "198.51.100.2:5062");
  ASSERT_TRUE(trusted) << trusted.error().message;
  EXPECT_TRUE(trusted->changed);
  EXPECT_EQ(peer(fp)->state, PeerState::trusted);
  EXPECT_EQ(peer(fp)->address, "198.51.100.2:5062");
  EXPECT_EQ(trusted->peer.address, "198.51.100.2:5062");
  EXPECT_EQ(last_audit().detail, "beta.example " + fp + " address 198.51.100.2:5062");

  auto moved = ops_.trust_peer({"", "beta.example"}, "198.51.100.3:5062");
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_TRUE(moved->changed);
  EXPECT_EQ(peer(fp)->address, "198.51.100.3:5062");

  // The same address, or none: nothing to change, nothing audited.
  const auto audits = audit_count();
  EXPECT_FALSE(ops_.trust_peer({fp, ""}, "198.51.100.3:5062").value().changed);
  EXPECT_FALSE(ops_.trust_peer({fp, ""}, "").value().changed);
  EXPECT_EQ(peer(fp)->address, "198.51.100.3:5062");
  EXPECT_EQ(audit_count(), audits);
}

TEST_F(SiteOperationsTest, TrustingAPendingRequestMakesItAPeer) {
  const auto gamma = make_cert("gamma.example");
  const std::string fp = gamma.fingerprint().to_string();
  ASSERT_TRUE(store::PendingRepository(db_).record(fp, gamma.to_pem(), "gamma.example", "198.51.100.9"));
  auto r = ops_.trust_peer({fp, ""}, "198.51.100.9:5062");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->from_pending);
  EXPECT_EQ(peer(fp)->state, PeerState::trusted);
  EXPECT_EQ(peer(fp)->address, "198.51.100.9:5062");
  EXPECT_FALSE(store::PendingRepository(db_).find(fp).value());
  EXPECT_EQ(last_audit().detail, "gamma.example " + fp + " (pending request)");
}

TEST_F(SiteOperationsTest, RevokingAnOldPinAfterARotationRevokesThePeer) {
  const auto old_key = make_cert("beta.example");
  const auto new_key = make_cert("beta.example");
  const std::string old_fp = old_key.fingerprint().to_string();
  const std::string new_fp = new_key.fingerprint().to_string();
  import(old_key);
  ASSERT_TRUE(ops_.trust_peer({old_fp, ""}, ""));
  ASSERT_TRUE(store::PeerRepository(db_).apply_rotation(old_fp, new_fp, new_key.to_pem(), 4'000'000'000));
  auto r = ops_.revoke_peer({old_fp, ""});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->old_pin);
  EXPECT_EQ(r->old_pin->superseded_by, new_fp);
  EXPECT_EQ(peer(new_fp)->state, PeerState::revoked);
  EXPECT_EQ(last_audit().detail, "beta.example " + new_fp);
}

TEST_F(SiteOperationsTest, IgnoreRefusesAPendingRequestForGood) {
  const auto gamma = make_cert("gamma.example");
  const std::string fp = gamma.fingerprint().to_string();
  ASSERT_TRUE(store::PendingRepository(db_).record(fp, gamma.to_pem(), "gamma.example", "198.51.100.9"));
  ASSERT_TRUE(ops_.ignore_pending(fp));
  EXPECT_TRUE(store::PendingRepository(db_).list(false).value().empty());
  EXPECT_EQ(last_audit().action, "peer.ignore");
  EXPECT_EQ(error_of(ops_.ignore_pending("nonsense")), OpErrc::bad_fingerprint);
}

TEST_F(SiteOperationsTest, OnlyARevokedOrUntrustedPeerCanBeRemoved) {
  const auto beta = make_cert("beta.example");
  const std::string fp = beta.fingerprint().to_string();
  import(beta);
  ASSERT_TRUE(ops_.trust_peer({fp, ""}, ""));
  const auto audits = audit_count();
  EXPECT_EQ(error_of(ops_.remove_peer(fp)), OpErrc::peer_trusted);
  EXPECT_TRUE(peer(fp));
  EXPECT_EQ(audit_count(), audits);

  ASSERT_TRUE(ops_.revoke_peer({fp, ""}));
  auto removed = ops_.remove_peer(fp);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(removed->domain, "beta.example");
  EXPECT_FALSE(peer(fp));
  EXPECT_EQ(last_audit().action, "peer.remove");
  EXPECT_EQ(last_audit().detail, "beta.example " + fp + " (was revoked)");
  EXPECT_EQ(error_of(ops_.remove_peer(fp)), OpErrc::not_found);
  EXPECT_EQ(error_of(ops_.remove_peer("nonsense")), OpErrc::bad_fingerprint);

  // An untrusted (imported, never trusted) peer can go too, and come back.
  import(beta);
  EXPECT_TRUE(ops_.remove_peer(fp));
  import(beta);
}

TEST_F(SiteOperationsTest, IssueTokenStoresOnlyItsHashAndAudits) {
  auto issued = ops_.issue_token("prometheus");
  ASSERT_TRUE(issued) << issued.error().message;
  EXPECT_TRUE(issued->token.starts_with("sst_"));
  EXPECT_EQ(issued->token.size(), 4u + 43u);
  EXPECT_EQ(issued->record.name, "prometheus");
  EXPECT_EQ(issued->record.created_by, "admin");
  EXPECT_GT(issued->record.id, 0);
  // The stored hash is the SHA-256 of the token, in hex; never the token.
  const auto hashes =
      store::collect_rows(db_.query("SELECT token_hash FROM api_tokens"), [](const store::Statement& st) {
        return st.text(0);
      }).value();
  ASSERT_EQ(hashes.size(), 1u);
  EXPECT_EQ(hashes[0].size(), 64u);
  EXPECT_EQ(hashes[0].find(issued->token.substr(4, 20)), std::string::npos);
  EXPECT_EQ(store::ApiTokenRepository(db_).authenticate(issued->token).value(), "prometheus");
  EXPECT_FALSE(store::ApiTokenRepository(db_).authenticate(issued->token + "x").value());
  EXPECT_EQ(last_audit().action, "token.create");
  EXPECT_EQ(last_audit().detail, "prometheus");
  EXPECT_EQ(last_audit().detail.find("sst_"), std::string::npos);
}

TEST_F(SiteOperationsTest, IssueTokenRefusesBadAndDuplicateNamesWithoutWriting) {
  ASSERT_TRUE(ops_.issue_token("ci"));
  const auto audits = audit_count();
  EXPECT_EQ(error_of(ops_.issue_token("ci")), OpErrc::conflict);
  EXPECT_EQ(error_of(ops_.issue_token("")), OpErrc::bad_name);
  EXPECT_EQ(error_of(ops_.issue_token("bad name!")), OpErrc::bad_name);
  EXPECT_EQ(error_of(ops_.issue_token(std::string(65, 'a'))), OpErrc::bad_name);
  EXPECT_EQ(audit_count(), audits);
  EXPECT_EQ(store::ApiTokenRepository(db_).list().value().size(), 1u);
}

TEST_F(SiteOperationsTest, RevokeTokenEndsItAndAudits) {
  auto issued = ops_.issue_token("ci");
  ASSERT_TRUE(issued);
  auto revoked = ops_.revoke_token(issued->record.id);
  ASSERT_TRUE(revoked) << revoked.error().message;
  EXPECT_EQ(revoked->name, "ci");
  EXPECT_FALSE(store::ApiTokenRepository(db_).authenticate(issued->token).value());
  EXPECT_EQ(last_audit().action, "token.revoke");
  EXPECT_EQ(last_audit().detail, std::to_string(issued->record.id));
  const auto audits = audit_count();
  EXPECT_EQ(error_of(ops_.revoke_token(issued->record.id)), OpErrc::not_found);
  EXPECT_EQ(audit_count(), audits);
}

TEST_F(SiteOperationsTest, ChangeSettingsStoresValidatesAndAuditsOnlyChanges) {
  store::RetentionSettings next;
  next.cdr_days = 90;
  next.store_ip = true;
  auto change = ops_.change_settings(next);
  ASSERT_TRUE(change) << change.error().message;
  EXPECT_EQ(change->changes, "cdr_days=90 store_ip=true");
  EXPECT_EQ(store::RetentionSettingsRepository(db_).load().value(), next);
  EXPECT_EQ(last_audit().action, "settings.change");
  EXPECT_EQ(last_audit().detail, "cdr_days=90 store_ip=true");

  // The same values again: nothing changes, nothing is audited.
  const auto audits = audit_count();
  change = ops_.change_settings(next);
  ASSERT_TRUE(change);
  EXPECT_TRUE(change->changes.empty());
  EXPECT_EQ(audit_count(), audits);

  store::RetentionSettings bad = next;
  bad.message_days = 0;
  EXPECT_EQ(error_of(ops_.change_settings(bad)), OpErrc::bad_setting);
  EXPECT_EQ(store::RetentionSettingsRepository(db_).load().value(), next);
  EXPECT_EQ(audit_count(), audits);
}

TEST(OperationErrors, NamesAndGroups) {
  EXPECT_EQ(to_string(OpErrc::peer_trusted), "peer_trusted");
  EXPECT_TRUE(is_bad_input(OpErrc::bad_aor));
  EXPECT_TRUE(is_bad_input(OpErrc::own_domain));
  EXPECT_TRUE(is_bad_input(OpErrc::bad_name));
  EXPECT_TRUE(is_bad_input(OpErrc::bad_setting));
  // The console's error code for a bad setting, older than this enum.
  EXPECT_EQ(to_string(OpErrc::bad_setting), "invalid_field");
  EXPECT_FALSE(is_bad_input(OpErrc::not_found));
  EXPECT_FALSE(is_bad_input(OpErrc::peer_trusted));
  EXPECT_EQ(from_store({store::Errc::duplicate, "x"}).code, OpErrc::conflict);
  EXPECT_EQ(from_store({store::Errc::busy, "x"}).code, OpErrc::busy);
}

// --- bulk import and bulk revoke (issue 18)

// Certificates are move-only: no initializer lists.
template <class... Certs>
std::vector<pki::Certificate> certs_of(Certs&&... certs) {
  std::vector<pki::Certificate> out;
  (out.push_back(std::forward<Certs>(certs)), ...);
  return out;
}

TEST_F(SiteOperationsTest, ImportPeersStoresEveryCertificateTrustedWithAnAuditRecordEach) {
  std::vector<pki::Certificate> certs;
  for (int i = 0; i < 5; ++i) certs.push_back(make_cert("site" + std::to_string(i) + ".example"));
  const auto audits = audit_count();
  auto r = ops_.import_peers(certs, true);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 5u);
  for (const auto& cert : certs) {
    auto stored = peer(cert.fingerprint().to_string());
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->state, PeerState::trusted);
    EXPECT_EQ(stored->domain, cert.domain());
    EXPECT_EQ(stored->address, "");
  }
  EXPECT_EQ(audit_count(), audits + 5);
  EXPECT_EQ(last_audit().action, "peer.trust");
  EXPECT_NE(last_audit().detail.find("bulk import"), std::string::npos);
}

TEST_F(SiteOperationsTest, ImportPeersIsAllOrNothing) {
  const auto known = make_cert("known.example");
  import(known);
  const auto audits = audit_count();
  // The third is known already: nothing of the list is stored.
  auto certs =
      certs_of(make_cert("a.example"), make_cert("b.example"), pki::Certificate::from_pem(known.to_pem()).value());
  auto r = ops_.import_peers(certs, true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, OpErrc::conflict);
  EXPECT_NE(r.error().message.find("certificate 3 (known.example)"), std::string::npos) << r.error().message;
  EXPECT_FALSE(peer(certs[0].fingerprint().to_string()));
  EXPECT_EQ(audit_count(), audits);
  // A domain twice in the list, this site's own certificate or domain.
  EXPECT_EQ(error_of(ops_.import_peers(certs_of(make_cert("twice.example"), make_cert("twice.example")), false)),
            OpErrc::conflict);
  EXPECT_EQ(error_of(ops_.import_peers(
                certs_of(make_cert("c.example"), pki::Certificate::from_pem(own_.to_pem()).value()), false)),
            OpErrc::own_certificate);
  EXPECT_EQ(error_of(ops_.import_peers(certs_of(make_cert("alpha.example")), false)), OpErrc::own_domain);
  {
    auto key = pki::PrivateKey::generate_p256().value();
    pki::CertificateOptions expired{"old.example", pki::Clock::now() - std::chrono::hours(48),
                                    pki::Clock::now() - std::chrono::hours(24)};
    auto old = pki::Certificate::self_signed(key, expired).value();
    EXPECT_EQ(error_of(ops_.import_peers(certs_of(make_cert("d.example"), std::move(old)), false)),
              OpErrc::bad_certificate);
  }
  EXPECT_FALSE(peer(certs[1].fingerprint().to_string()));
}

TEST_F(SiteOperationsTest, RevokePeersRevokesAllNamedInOneGoOrNone) {
  std::vector<pki::Certificate> certs;
  for (int i = 0; i < 4; ++i) certs.push_back(make_cert("r" + std::to_string(i) + ".example"));
  ASSERT_TRUE(ops_.import_peers(certs, true));
  // One unknown fingerprint: none revoked.
  const auto stranger = make_cert("stranger.example").fingerprint().to_string();
  auto refused = ops_.revoke_peers({{certs[0].fingerprint().to_string(), ""}, {stranger, ""}});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, OpErrc::not_found);
  EXPECT_EQ(peer(certs[0].fingerprint().to_string())->state, PeerState::trusted);

  ASSERT_TRUE(ops_.revoke_peer({certs[2].fingerprint().to_string(), ""}));
  const auto audits = audit_count();
  auto r = ops_.revoke_peers(
      {{certs[0].fingerprint().to_string(), ""}, {"", "r1.example"}, {certs[2].fingerprint().to_string(), ""}});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_TRUE((*r)[0].changed);
  EXPECT_TRUE((*r)[1].changed);
  EXPECT_FALSE((*r)[2].changed);  // revoked already
  EXPECT_EQ(audit_count(), audits + 2);
  EXPECT_EQ(last_audit().action, "peer.revoke");
  EXPECT_EQ(peer(certs[0].fingerprint().to_string())->state, PeerState::revoked);
  EXPECT_EQ(peer(certs[1].fingerprint().to_string())->state, PeerState::revoked);
  EXPECT_EQ(peer(certs[3].fingerprint().to_string())->state, PeerState::trusted);
}

}  // namespace
}  // namespace sipsite::admin
