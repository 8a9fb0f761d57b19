#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/private_key.hpp>

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <set>

namespace sipsite::pki {
namespace {

using test::run_command;
using test::TempDir;
using test::write_file;
using namespace std::chrono_literals;

struct Site {
  PrivateKey key;
  Certificate cert;
};

Site make_site(const std::string& domain, CertificateOptions options) {
  options.domain = domain;
  auto key = PrivateKey::generate_p256();
  auto cert = Certificate::self_signed(*key, options);
  return Site{std::move(*key), std::move(cert.value())};
}

Site make_site(const std::string& domain) {
  return make_site(domain, CertificateOptions::valid_for_days(domain, kDefaultValidityDays));
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

TEST(Certificate, VerifiesWithOpensslAsItsOwnTrustAnchor) {
  TempDir dir;
  const Site site = make_site("alpha.example");
  write_file(dir / "cert.pem", site.cert.to_pem());
  const auto cert = (dir / "cert.pem").string();
  const auto r = run_command("openssl verify -CAfile " + cert + " " + cert);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(trim(r.output), cert + ": OK");
}

TEST(Certificate, FingerprintEqualsOpenssls) {
  TempDir dir;
  const Site site = make_site("alpha.example");
  write_file(dir / "cert.pem", site.cert.to_pem());
  const auto r = run_command("openssl x509 -noout -fingerprint -sha256 -in " + (dir / "cert.pem").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto eq = r.output.find('=');
  ASSERT_NE(eq, std::string::npos);
  EXPECT_EQ(trim(r.output.substr(eq + 1)), site.cert.fingerprint().to_string());
}

TEST(Certificate, KeyMatchesPerOpenssl) {
  TempDir dir;
  const Site site = make_site("alpha.example");
  write_file(dir / "cert.pem", site.cert.to_pem());
  write_file(dir / "key.pem", site.key.to_pem());
  const auto from_cert = run_command("openssl x509 -noout -pubkey -in " + (dir / "cert.pem").string());
  const auto from_key = run_command("openssl pkey -pubout -in " + (dir / "key.pem").string());
  ASSERT_EQ(from_cert.exit_code, 0);
  ASSERT_EQ(from_key.exit_code, 0);
  EXPECT_EQ(from_cert.output, from_key.output);
  EXPECT_TRUE(site.cert.matches(site.key));
  const Site other = make_site("beta.example");
  EXPECT_FALSE(site.cert.matches(other.key));
}

TEST(Certificate, HasTheProfileTheDesignRequires) {
  TempDir dir;
  const Site site = make_site("alpha.example");
  write_file(dir / "cert.pem", site.cert.to_pem());
  const auto r = run_command("openssl x509 -noout -text -in " + (dir / "cert.pem").string());
  ASSERT_EQ(r.exit_code, 0);
  const std::string& t = r.output;
  EXPECT_NE(t.find("Version: 3"), std::string::npos) << t;
  EXPECT_NE(t.find("Subject: CN = alpha.example"), std::string::npos) << t;
  EXPECT_NE(t.find("Issuer: CN = alpha.example"), std::string::npos) << t;
  EXPECT_NE(t.find("ASN1 OID: prime256v1"), std::string::npos) << t;
  EXPECT_NE(t.find("ecdsa-with-SHA256"), std::string::npos) << t;
  EXPECT_NE(t.find("X509v3 Basic Constraints: critical\n                CA:FALSE"), std::string::npos) << t;
  EXPECT_NE(t.find("X509v3 Key Usage: critical\n                Digital Signature\n"), std::string::npos) << t;
  EXPECT_NE(t.find("TLS Web Server Authentication, TLS Web Client Authentication"), std::string::npos) << t;
  EXPECT_NE(t.find("DNS:alpha.example"), std::string::npos) << t;
  EXPECT_TRUE(site.cert.is_self_signed());
}

TEST(Certificate, SerialIsRandom128Bit) {
  TempDir dir;
  std::set<std::string> serials;
  for (int i = 0; i < 3; ++i) {
    write_file(dir / "c.pem", make_site("alpha.example").cert.to_pem());
    const auto r = run_command("openssl x509 -noout -serial -in " + (dir / "c.pem").string());
    ASSERT_EQ(r.exit_code, 0);
    const std::string hex = trim(r.output.substr(r.output.find('=') + 1));
    EXPECT_GE(hex.size(), 24u) << hex;  // leading zero bytes are dropped; 128 bits is 32 hex
    EXPECT_LE(hex.size(), 32u) << hex;
    serials.insert(hex);
  }
  EXPECT_EQ(serials.size(), 3u);
}

TEST(Certificate, DefaultValidityIsTenYears) {
  const auto now = Clock::now();
  const Site site =
      make_site("alpha.example", CertificateOptions::valid_for_days("alpha.example", kDefaultValidityDays, now));
  // X.509 times have whole seconds.
  EXPECT_EQ(site.cert.not_after() - std::chrono::floor<std::chrono::seconds>(now), std::chrono::days(3650));
  EXPECT_LE(site.cert.not_before(), now);
}

TEST(Certificate, PemRoundTripKeepsTheFingerprint) {
  const Site site = make_site("alpha.example");
  auto parsed = Certificate::from_pem(site.cert.to_pem());
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->fingerprint(), site.cert.fingerprint());
  EXPECT_EQ(parsed->domain(), "alpha.example");
  auto key = PrivateKey::from_pem(site.key.to_pem());
  ASSERT_TRUE(key);
  EXPECT_TRUE(parsed->matches(*key));
}

TEST(Certificate, RejectsInvalidDomain) {
  auto key = PrivateKey::generate_p256();
  for (const char* d : {"", "bad domain", "-x.example", "a..b", "x.example,DNS:evil.example", "10.0.0.1"}) {
    auto cert = Certificate::self_signed(*key, CertificateOptions::valid_for_days(d, 10));
    ASSERT_FALSE(cert) << d;
    EXPECT_EQ(cert.error().code, Errc::bad_domain);
  }
}

TEST(PeerCertificate, AcceptsAValidPeer) {
  const Site peer = make_site("beta.example");
  auto parsed = parse_peer_certificate(peer.cert.to_pem());
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->fingerprint(), peer.cert.fingerprint());
  EXPECT_EQ(parsed->domain(), "beta.example");
}

TEST(PeerCertificate, RejectsGarbage) {
  for (const char* text :
       {"", "hello", "-----BEGIN CERTIFICATE-----\nnot base64!!\n-----END CERTIFICATE-----\n", "\x00\x01\x02\xff"}) {
    auto r = parse_peer_certificate(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().code, Errc::not_pem) << r.error().message;
    EXPECT_FALSE(r.error().message.empty());
  }
}

TEST(PeerCertificate, RejectsTruncatedPem) {
  const std::string pem = make_site("beta.example").cert.to_pem();
  auto r = parse_peer_certificate(pem.substr(0, pem.size() / 2));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::not_pem);
}

TEST(PeerCertificate, RejectsAPrivateKeyWithAClearMessage) {
  const Site peer = make_site("beta.example");
  for (const std::string& text : {peer.key.to_pem(), peer.cert.to_pem() + peer.key.to_pem()}) {
    auto r = parse_peer_certificate(text);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::private_key_not_certificate);
    EXPECT_NE(r.error().message.find("private key"), std::string::npos);
  }
}

TEST(PeerCertificate, RejectsAChain) {
  const std::string chain = make_site("beta.example").cert.to_pem() + make_site("gamma.example").cert.to_pem();
  auto r = parse_peer_certificate(chain);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::multiple_certificates);
  EXPECT_NE(r.error().message.find("2 certificates"), std::string::npos) << r.error().message;
}

TEST(PeerCertificate, RejectsAPublicKey) {
  auto r = parse_peer_certificate(make_site("beta.example").key.public_pem());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::not_pem);
  EXPECT_NE(r.error().message.find("PUBLIC KEY"), std::string::npos) << r.error().message;
}

TEST(PeerCertificate, RejectsExpiredStatingTheDate) {
  const auto now = Clock::now();
  CertificateOptions options{"", now - 48h, now - 24h};
  const Site peer = make_site("beta.example", options);
  auto r = parse_peer_certificate(peer.cert.to_pem(), now);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::expired);
  EXPECT_NE(r.error().message.find(format_time(peer.cert.not_after())), std::string::npos) << r.error().message;
}

TEST(PeerCertificate, RejectsNotYetValidStatingTheDate) {
  const auto now = Clock::now();
  CertificateOptions options{"", now + 24h, now + 48h};
  const Site peer = make_site("beta.example", options);
  auto r = parse_peer_certificate(peer.cert.to_pem(), now);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::not_yet_valid);
  EXPECT_NE(r.error().message.find(format_time(peer.cert.not_before())), std::string::npos) << r.error().message;
}

TEST(PeerCertificate, RejectsCertificateWithoutDomain) {
  TempDir dir;
  const auto r = run_command("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
                             (dir / "k.pem").string() + " -out " + (dir / "c.pem").string() +
                             " -days 10 -subj '/O=No Domain Here'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto parsed = parse_peer_certificate(test::read_file(dir / "c.pem"));
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code, Errc::no_domain);
}

TEST(PrivateKey, RejectsNonP256Keys) {
  TempDir dir;
  const auto r = run_command("openssl genpkey -algorithm ed25519 -out " + (dir / "k.pem").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto key = PrivateKey::from_pem(test::read_file(dir / "k.pem"));
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code, Errc::bad_key);
  EXPECT_FALSE(PrivateKey::from_pem("garbage"));
}

TEST(Certificate, ABundleOfPeerCertificatesIsReadWholeOrRefusedNamingTheCulprit) {
  const Site a = make_site("a.example"), b = make_site("b.example"), c = make_site("c.example");
  auto all = parse_peer_certificates(a.cert.to_pem() + b.cert.to_pem() + c.cert.to_pem());
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[1].fingerprint(), b.cert.fingerprint());
  // An expired one in the middle: refused, by position.
  const Site old = make_site("old.example", CertificateOptions{"old.example", Clock::now() - 48h, Clock::now() - 24h});
  auto expired = parse_peer_certificates(a.cert.to_pem() + old.cert.to_pem());
  ASSERT_FALSE(expired);
  EXPECT_NE(expired.error().message.find("certificate 2"), std::string::npos) << expired.error().message;
  // A private key anywhere in it.
  auto with_key = parse_peer_certificates(a.cert.to_pem() + a.key.to_pem());
  ASSERT_FALSE(with_key);
  EXPECT_EQ(with_key.error().code, Errc::private_key_not_certificate);
  EXPECT_FALSE(parse_peer_certificates("no pem here"));
}

}  // namespace
}  // namespace sipsite::pki
