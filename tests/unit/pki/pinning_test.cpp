// The pinning matrix at the TLS layer, on in-memory BIO pairs: real
// OpenSSL handshakes between our federation contexts, no sockets.

#include <sipsite/pki/pinning.hpp>
#include <sipsite/pki/rotation_proof.hpp>

#include <gtest/gtest.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace sipsite::pki {
namespace {

using namespace std::chrono_literals;

struct Site {
  PrivateKey key;
  Certificate cert;
};

Site make_site(const std::string& domain, Clock::time_point not_before = Clock::now() - 1h,
               Clock::time_point not_after = Clock::now() + 24h) {
  auto key = PrivateKey::generate_p256().value();
  auto cert = Certificate::self_signed(key, CertificateOptions{domain, not_before, not_after}).value();
  return Site{std::move(key), std::move(cert)};
}

struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};
using SslPtr = std::unique_ptr<SSL, SslFree>;

struct Outcome {
  bool client_ok = false;
  bool server_ok = false;
  PeerIdentity server_saw;
  PeerIdentity client_saw;
};

// Runs a handshake to completion or failure (bounded number of rounds).
Outcome handshake(SSL_CTX* client_ctx, SSL_CTX* server_ctx) {
  SslPtr client(SSL_new(client_ctx));
  SslPtr server(SSL_new(server_ctx));
  BIO* client_bio = nullptr;
  BIO* server_bio = nullptr;
  BIO_new_bio_pair(&client_bio, 0, &server_bio, 0);
  SSL_set_bio(client.get(), client_bio, client_bio);
  SSL_set_bio(server.get(), server_bio, server_bio);
  SSL_set_connect_state(client.get());
  SSL_set_accept_state(server.get());
  Outcome out;
  bool client_failed = false;
  bool server_failed = false;
  for (int round = 0; round < 20 && !(out.client_ok && out.server_ok) && !(client_failed || server_failed); ++round) {
    for (auto [ssl, ok, failed] : {std::tuple{client.get(), &out.client_ok, &client_failed},
                                   std::tuple{server.get(), &out.server_ok, &server_failed}}) {
      if (*ok || *failed) continue;
      const int rc = SSL_do_handshake(ssl);
      if (rc == 1) {
        *ok = true;
      } else {
        const int err = SSL_get_error(ssl, rc);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) *failed = true;
      }
    }
  }
  // TLS 1.3: the client finishes before the server has checked its
  // certificate; read once so the server's verdict (alert) reaches it.
  if (out.client_ok && !out.server_ok) {
    char byte;
    SSL_read(server.get(), &byte, 1);
    if (SSL_read(client.get(), &byte, 1) <= 0 && SSL_get_error(client.get(), -1) != SSL_ERROR_WANT_READ) {
      out.client_ok = false;
    }
  }
  out.server_saw = peer_identity(server.get());
  out.client_saw = peer_identity(client.get());
  if (out.server_ok) out.server_ok = SSL_version(server.get()) == TLS1_3_VERSION;
  ERR_clear_error();
  return out;
}

class Pinning : public ::testing::Test {
 protected:
  Site alpha_ = make_site("alpha.example");
  Site beta_ = make_site("beta.example");
  PinVerifier alpha_pins_{alpha_.cert.fingerprint()};
  PinVerifier beta_pins_{beta_.cert.fingerprint()};

  void SetUp() override {
    alpha_pins_.replace({{beta_.cert.fingerprint(), "beta.example"}});
    beta_pins_.replace({{alpha_.cert.fingerprint(), "alpha.example"}});
    server_ = make_federation_server_context(alpha_.cert, alpha_.key, alpha_pins_).value();
  }

  // beta connecting to alpha with `who`'s credentials.
  Outcome connect_as(const Site& who) {
    auto ctx = make_federation_client_context(who.cert, who.key, beta_pins_).value();
    return handshake(ctx.get(), server_.get());
  }

  SslCtxPtr server_;
};

TEST_F(Pinning, MutuallyPinnedSitesConnect) {
  const Outcome o = connect_as(beta_);
  EXPECT_TRUE(o.client_ok);
  EXPECT_TRUE(o.server_ok);
  EXPECT_EQ(o.server_saw.verdict, PinVerdict::accepted);
  EXPECT_EQ(o.client_saw.verdict, PinVerdict::accepted);
  ASSERT_TRUE(o.server_saw.certificate);
  EXPECT_EQ(o.server_saw.certificate->fingerprint(), beta_.cert.fingerprint());
}

TEST_F(Pinning, NoClientCertificateIsRefused) {
  SslCtxPtr bare(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_verify(bare.get(), SSL_VERIFY_NONE, nullptr);
  const Outcome o = handshake(bare.get(), server_.get());
  EXPECT_FALSE(o.server_ok);
  EXPECT_FALSE(o.server_saw.certificate);
}

TEST_F(Pinning, UnpinnedCertificateIsRefusedAndKeptForThePendingList) {
  const Site gamma = make_site("gamma.example");
  const Outcome o = connect_as(gamma);
  EXPECT_FALSE(o.server_ok);
  EXPECT_FALSE(o.client_ok);
  EXPECT_EQ(o.server_saw.verdict, PinVerdict::unknown);
  ASSERT_TRUE(o.server_saw.certificate);
  EXPECT_EQ(o.server_saw.certificate->fingerprint(), gamma.cert.fingerprint());
  EXPECT_EQ(o.server_saw.certificate->domain(), "gamma.example");
}

TEST_F(Pinning, PinnedNameWithAnotherKeyIsRefused) {
  const Site impostor = make_site("beta.example");
  const Outcome o = connect_as(impostor);
  EXPECT_FALSE(o.server_ok);
  EXPECT_EQ(o.server_saw.verdict, PinVerdict::unknown);
}

TEST_F(Pinning, PinnedKeyForAnotherDomainIsRefused) {
  alpha_pins_.replace({{beta_.cert.fingerprint(), "delta.example"}});
  const Outcome o = connect_as(beta_);
  EXPECT_FALSE(o.server_ok);
  EXPECT_EQ(o.server_saw.verdict, PinVerdict::wrong_domain);
}

TEST_F(Pinning, ExpiredPinnedCertificateIsRefused) {
  const Site old = make_site("old.example", Clock::now() - 48h, Clock::now() - 24h);
  alpha_pins_.replace({{old.cert.fingerprint(), "old.example"}});
  const Outcome o = connect_as(old);
  EXPECT_FALSE(o.server_ok);
  EXPECT_EQ(o.server_saw.verdict, PinVerdict::not_valid_now);
}

TEST_F(Pinning, AChainIsRefused) {
  auto ctx = make_federation_client_context(beta_.cert, beta_.key, beta_pins_).value();
  const Site extra = make_site("ca.example");
  ASSERT_EQ(SSL_CTX_add1_chain_cert(ctx.get(), extra.cert.native()), 1);
  const Outcome o = handshake(ctx.get(), server_.get());
  EXPECT_FALSE(o.server_ok);
  EXPECT_EQ(o.server_saw.verdict, PinVerdict::chain);
}

TEST_F(Pinning, OwnCertificatePresentedBackIsRefused) {
  alpha_pins_.replace({{beta_.cert.fingerprint(), "beta.example"}, {alpha_.cert.fingerprint(), "alpha.example"}});
  const Outcome o = connect_as(alpha_);
  EXPECT_FALSE(o.server_ok);
  EXPECT_EQ(o.server_saw.verdict, PinVerdict::own_certificate);
}

TEST_F(Pinning, Tls12IsRefused) {
  auto ctx = make_federation_client_context(beta_.cert, beta_.key, beta_pins_).value();
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx.get(), TLS1_2_VERSION);
  const Outcome o = handshake(ctx.get(), server_.get());
  EXPECT_FALSE(o.server_ok);
  EXPECT_FALSE(o.client_ok);
}

TEST_F(Pinning, TheClientPinsTheServerToo) {
  beta_pins_.replace({});  // beta no longer trusts alpha
  const Outcome o = connect_as(beta_);
  EXPECT_FALSE(o.client_ok);
  EXPECT_EQ(o.client_saw.verdict, PinVerdict::unknown);
}

TEST_F(Pinning, TrustChangesApplyToTheNextHandshake) {
  EXPECT_TRUE(connect_as(beta_).server_ok);
  alpha_pins_.replace({});
  EXPECT_FALSE(connect_as(beta_).server_ok);
  alpha_pins_.replace({{beta_.cert.fingerprint(), "beta.example"}});
  EXPECT_TRUE(connect_as(beta_).server_ok);
}

TEST_F(Pinning, ProbeRecordsWhateverTheServerPresents) {
  const Site newcomer = make_site("newcomer.example");
  auto probe = make_probe_client_context(newcomer.cert, newcomer.key).value();
  const Outcome o = handshake(probe.get(), server_.get());
  ASSERT_TRUE(o.client_saw.certificate);
  EXPECT_EQ(o.client_saw.certificate->fingerprint(), alpha_.cert.fingerprint());
  // alpha does not trust the newcomer: refused there, recorded for pending.
  EXPECT_FALSE(o.server_ok);
  EXPECT_EQ(o.server_saw.verdict, PinVerdict::unknown);
}

// Key rotation at the TLS layer: a site that rotated its key presents the
// new certificate, carrying a proof signed by the pinned one.
PinnedPeer pinned_with_certificate(const Site& site) {
  return PinnedPeer(site.cert.domain(),
                    std::make_shared<const Certificate>(Certificate::from_native(site.cert.native())));
}

Site rotated(const Site& old) {
  auto key = PrivateKey::generate_p256().value();
  auto cert =
      make_rotated_certificate(key, CertificateOptions::valid_for_days(old.cert.domain(), 30), old.cert, old.key)
          .value();
  return Site{std::move(key), std::move(cert)};
}

TEST_F(Pinning, RotatedClientCertificateIsAcceptedByTheServer) {
  alpha_pins_.replace({{beta_.cert.fingerprint(), pinned_with_certificate(beta_)}});
  const Site beta2 = rotated(beta_);
  const Outcome o = connect_as(beta2);
  EXPECT_TRUE(o.server_ok);
  EXPECT_TRUE(o.client_ok);
  EXPECT_EQ(o.server_saw.verdict, PinVerdict::rotated);
  ASSERT_TRUE(o.server_saw.certificate);
  EXPECT_EQ(o.server_saw.certificate->fingerprint(), beta2.cert.fingerprint());
}

// A pin that keeps only the PEM (how the daemon holds 10,000 of them) is
// parsed when a rotation proof needs it.
TEST_F(Pinning, RotationFromAPinKeptAsPemIsAccepted) {
  PinnedPeer pem_only("beta.example");
  pem_only.certificate_pem = std::make_shared<const std::string>(beta_.cert.to_pem());
  alpha_pins_.replace({{beta_.cert.fingerprint(), pem_only}});
  const Site beta2 = rotated(beta_);
  const Outcome o = connect_as(beta2);
  EXPECT_TRUE(o.server_ok);
  EXPECT_EQ(o.server_saw.verdict, PinVerdict::rotated);
}

TEST_F(Pinning, RotatedServerCertificateIsAcceptedByTheClient) {
  beta_pins_.replace({{alpha_.cert.fingerprint(), pinned_with_certificate(alpha_)}});
  const Site alpha2 = rotated(alpha_);
  PinVerifier alpha2_pins(alpha2.cert.fingerprint());
  alpha2_pins.set_own({alpha2.cert.fingerprint(), alpha_.cert.fingerprint()});
  alpha2_pins.replace({{beta_.cert.fingerprint(), "beta.example"}});
  auto server = make_federation_server_context(alpha2.cert, alpha2.key, alpha2_pins).value();
  auto client = make_federation_client_context(beta_.cert, beta_.key, beta_pins_).value();
  const Outcome o = handshake(client.get(), server.get());
  EXPECT_TRUE(o.client_ok);
  EXPECT_TRUE(o.server_ok);
  EXPECT_EQ(o.client_saw.verdict, PinVerdict::rotated);
  EXPECT_EQ(o.server_saw.verdict, PinVerdict::accepted);
}

TEST_F(Pinning, RotationFromAPinWithoutItsCertificateIsRefused) {
  // SetUp pins beta by fingerprint only: no certificate to check a proof with.
  const Outcome o = connect_as(rotated(beta_));
  EXPECT_FALSE(o.server_ok);
  EXPECT_EQ(o.server_saw.verdict, PinVerdict::unknown);
}

TEST_F(Pinning, ForgedRotationIsRefusedAndKeptForThePendingList) {
  alpha_pins_.replace({{beta_.cert.fingerprint(), pinned_with_certificate(beta_)}});
  // Mallory names beta's certificate as the previous one but signs with her key.
  const Site mallory = make_site("beta.example");
  auto key = PrivateKey::generate_p256().value();
  auto proof = rotation_proof_of(rotated(mallory).cert).value().value();
  proof.previous = beta_.cert.fingerprint();
  auto options = CertificateOptions::valid_for_days("beta.example", 30);
  options.rotation_proof = proof.encode();
  auto forged_cert = Certificate::self_signed(key, options).value();
  const Site forged{std::move(key), std::move(forged_cert)};
  const Outcome o = connect_as(forged);
  EXPECT_FALSE(o.server_ok);
  EXPECT_EQ(o.server_saw.verdict, PinVerdict::unknown);
  ASSERT_TRUE(o.server_saw.certificate);
}

TEST_F(Pinning, OwnPreviousCertificatePresentedBackIsRefused) {
  const Site alpha2 = rotated(alpha_);
  PinVerifier alpha2_pins(alpha2.cert.fingerprint());
  alpha2_pins.set_own({alpha2.cert.fingerprint(), alpha_.cert.fingerprint()});
  alpha2_pins.replace({{alpha_.cert.fingerprint(), pinned_with_certificate(alpha_)}});
  auto server = make_federation_server_context(alpha2.cert, alpha2.key, alpha2_pins).value();
  // A client holding the old key (a stolen copy, a restored backup) that
  // accepts alpha2 as alpha's rotation, so it goes on to present its certificate.
  PinVerifier old_pins(alpha_.cert.fingerprint());
  old_pins.replace({{alpha_.cert.fingerprint(), pinned_with_certificate(alpha_)}});
  old_pins.set_own({});
  auto client = make_federation_client_context(alpha_.cert, alpha_.key, old_pins).value();
  const Outcome o = handshake(client.get(), server.get());
  EXPECT_EQ(o.client_saw.verdict, PinVerdict::rotated);
  EXPECT_FALSE(o.server_ok);
  EXPECT_EQ(o.server_saw.verdict, PinVerdict::own_certificate);
}

}  // namespace
}  // namespace sipsite::pki
