// The store side of key rotation: the site keeps its previous certificate;
// a peer's row takes its rotated certificate while the old pin is kept
// until its overlap ends; revocation removes old pins too.

#include <sipsite/store/peer_repository.hpp>
#include <sipsite/store/site_repository.hpp>

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

namespace sipsite::store {
namespace {

class KeyRotationStore : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(peers_.add({"beta.example", "OLD", "OLD-PEM", "127.0.0.1:5062", PeerState::trusted, 0, 0}));
  }
  test::TempDir dir_;
  Database db_ = Database::open(dir_ / "s.db", DbKey::generate().value(), OpenMode::create).value();
  PeerRepository peers_{db_};
};

TEST_F(KeyRotationStore, SiteKeepsItsPreviousCertificateButNotItsKey) {
  SiteRepository site(db_);
  ASSERT_TRUE(site.create({"alpha.example", "CERT1", "KEY1", 0}));
  EXPECT_EQ(site.load()->previous_certificate_pem, "");
  EXPECT_EQ(site.load()->rotated_at, 0);
  ASSERT_TRUE(site.rotate_identity("CERT1", "CERT2", "KEY2"));
  auto loaded = site.load().value();
  EXPECT_EQ(loaded.certificate_pem, "CERT2");
  EXPECT_EQ(loaded.private_key_pem, "KEY2");
  EXPECT_EQ(loaded.previous_certificate_pem, "CERT1");
  EXPECT_GT(loaded.rotated_at, 0);
  // A rotation based on a stale identity changes nothing.
  auto stale = site.rotate_identity("CERT1", "CERT3", "KEY3");
  ASSERT_FALSE(stale);
  EXPECT_EQ(site.load()->certificate_pem, "CERT2");
}

TEST_F(KeyRotationStore, RotationReplacesThePinAndKeepsTheOldOneUntilItExpires) {
  auto applied = peers_.apply_rotation("OLD", "NEW", "NEW-PEM", 1000);
  ASSERT_TRUE(applied);
  EXPECT_TRUE(*applied);
  auto row = peers_.find_by_domain("beta.example").value().value();
  EXPECT_EQ(row.fingerprint, "NEW");
  EXPECT_EQ(row.certificate_pem, "NEW-PEM");
  EXPECT_EQ(row.address, "127.0.0.1:5062");
  EXPECT_EQ(row.state, PeerState::trusted);
  auto pins = peers_.list_previous_pins().value();
  ASSERT_EQ(pins.size(), 1u);
  EXPECT_EQ(pins[0].fingerprint, "OLD");
  EXPECT_EQ(pins[0].certificate_pem, "OLD-PEM");
  EXPECT_EQ(pins[0].superseded_by, "NEW");
  EXPECT_EQ(pins[0].expires_at, 1000);
  // Seen again (another link with the new certificate): nothing changes.
  EXPECT_FALSE(peers_.apply_rotation("OLD", "NEW", "NEW-PEM", 2000).value());
  EXPECT_EQ(peers_.list_previous_pins()->at(0).expires_at, 1000);
  EXPECT_TRUE(peers_.take_expired_pins(999)->empty());
  auto expired = peers_.take_expired_pins(1000).value();
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].fingerprint, "OLD");
  EXPECT_TRUE(peers_.list_previous_pins()->empty());
}

TEST_F(KeyRotationStore, OnlyATrustedPeerRotates) {
  auto unknown = peers_.apply_rotation("NOBODY", "NEW", "NEW-PEM", 1000);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::not_found);
  ASSERT_TRUE(peers_.set_state("OLD", PeerState::revoked));
  EXPECT_FALSE(peers_.apply_rotation("OLD", "NEW", "NEW-PEM", 1000));
  EXPECT_EQ(peers_.find_by_domain("beta.example")->value().fingerprint, "OLD");
}

TEST_F(KeyRotationStore, RevocationRemovesTheOldPinsToo) {
  ASSERT_TRUE(peers_.apply_rotation("OLD", "NEW", "NEW-PEM", 1000));
  ASSERT_TRUE(peers_.set_state("NEW", PeerState::revoked));
  EXPECT_TRUE(peers_.list_previous_pins()->empty());
}

}  // namespace
}  // namespace sipsite::store
