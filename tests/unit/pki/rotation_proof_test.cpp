// Key-rotation proofs: made with the old key, carried in the new
// certificate, verified against the pinned old certificate; every kind of
// forgery or damage refused as a value.

#include <sipsite/pki/pinning.hpp>
#include <sipsite/pki/rotation_proof.hpp>

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <openssl/x509v3.h>

namespace sipsite::pki {
namespace {

using namespace std::chrono_literals;

struct Site {
  PrivateKey key;
  Certificate cert;
};

Site make_site(const std::string& domain) {
  auto key = PrivateKey::generate_p256().value();
  auto cert = Certificate::self_signed(key, CertificateOptions::valid_for_days(domain, 30)).value();
  return Site{std::move(key), std::move(cert)};
}

// `old` rotated to a fresh key, the proof signed by `signer`.
Site rotate(const Site& old, const PrivateKey& signer_key, const Certificate& signer_cert, const std::string& domain,
            Clock::time_point now = Clock::now()) {
  auto key = PrivateKey::generate_p256().value();
  auto cert =
      make_rotated_certificate(key, CertificateOptions::valid_for_days(domain, 30), signer_cert, signer_key, now);
  (void)old;
  return Site{std::move(key), std::move(cert.value())};
}

Site rotate(const Site& old) { return rotate(old, old.key, old.cert, old.cert.domain()); }

// A certificate for `key` carrying `payload` as its rotation extension.
Certificate with_payload(const PrivateKey& key, const std::string& domain, std::vector<std::uint8_t> payload) {
  auto options = CertificateOptions::valid_for_days(domain, 30);
  options.rotation_proof = std::move(payload);
  return Certificate::self_signed(key, options).value();
}

TEST(RotationProof, RoundTrip) {
  const Site alpha = make_site("alpha.example");
  const Site next = rotate(alpha);
  EXPECT_NE(next.cert.fingerprint(), alpha.cert.fingerprint());
  EXPECT_EQ(next.cert.domain(), "alpha.example");
  EXPECT_TRUE(next.cert.matches(next.key));
  auto proof = verify_rotation(next.cert, alpha.cert);
  ASSERT_TRUE(proof) << proof.error().message;
  EXPECT_EQ(proof->previous, alpha.cert.fingerprint());
  EXPECT_LE(std::abs(proof->signed_at - Clock::to_time_t(Clock::now())), 5);
  // It survives PEM and DER, as peers see it.
  const auto reread = Certificate::from_pem(next.cert.to_pem()).value();
  EXPECT_TRUE(verify_rotation(reread, alpha.cert));
}

TEST(RotationProof, ExtensionIsNonCriticalUnderItsPrivateOid) {
  const Site alpha = make_site("alpha.example");
  const Site next = rotate(alpha);
  ASN1_OBJECT* oid = OBJ_txt2obj(kRotationProofOid, 1);
  ASSERT_NE(oid, nullptr);
  const int index = X509_get_ext_by_OBJ(next.cert.native(), oid, -1);
  ASN1_OBJECT_free(oid);
  ASSERT_GE(index, 0);
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(next.cert.native(), index)), 0);
  // A plain certificate has none.
  auto none = rotation_proof_of(alpha.cert);
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST(RotationProof, OpensslStillVerifiesTheNewCertificateAsSelfSigned) {
  const Site next = rotate(make_site("alpha.example"));
  EXPECT_TRUE(next.cert.is_self_signed());
}

TEST(RotationProof, ChainsAreOneHopOnly) {
  const Site alpha = make_site("alpha.example");
  const Site second = rotate(alpha);
  const Site third = rotate(second);
  EXPECT_TRUE(verify_rotation(third.cert, second.cert));
  EXPECT_FALSE(verify_rotation(third.cert, alpha.cert));
}

TEST(RotationProof, ARotationNeedsThePreviousKey) {
  const Site alpha = make_site("alpha.example");
  const Site other = make_site("alpha.example");
  auto key = PrivateKey::generate_p256().value();
  auto made =
      make_rotated_certificate(key, CertificateOptions::valid_for_days("alpha.example", 30), alpha.cert, other.key);
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().code, Errc::bad_rotation_proof);
  auto other_domain =
      make_rotated_certificate(key, CertificateOptions::valid_for_days("beta.example", 30), alpha.cert, alpha.key);
  EXPECT_FALSE(other_domain);
}

TEST(RotationProof, TamperedSignatureIsRefused) {
  const Site alpha = make_site("alpha.example");
  const Site next = rotate(alpha);
  auto proof = rotation_proof_of(next.cert).value().value();
  proof.signature[proof.signature.size() / 2] ^= 0x01;
  const Certificate forged = with_payload(next.key, "alpha.example", proof.encode());
  auto r = verify_rotation(forged, alpha.cert);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::bad_rotation_proof);
}

TEST(RotationProof, ProofMovedToAnotherKeyIsRefused) {
  // The proof binds the new public key: copying it into a certificate for
  // another key does not carry the rotation over.
  const Site alpha = make_site("alpha.example");
  const Site next = rotate(alpha);
  const auto proof = rotation_proof_of(next.cert).value().value();
  const auto thief = PrivateKey::generate_p256().value();
  const Certificate stolen = with_payload(thief, "alpha.example", proof.encode());
  EXPECT_FALSE(verify_rotation(stolen, alpha.cert));
}

TEST(RotationProof, WrongPreviousFingerprintIsRefused) {
  const Site alpha = make_site("alpha.example");
  const Site next = rotate(alpha);
  auto proof = rotation_proof_of(next.cert).value().value();
  const Site unrelated = make_site("alpha.example");
  proof.previous = unrelated.cert.fingerprint();
  const Certificate relabelled = with_payload(next.key, "alpha.example", proof.encode());
  EXPECT_FALSE(verify_rotation(relabelled, alpha.cert));
  EXPECT_FALSE(verify_rotation(relabelled, unrelated.cert));
  // And the genuine proof checked against another pinned certificate.
  EXPECT_FALSE(verify_rotation(next.cert, unrelated.cert));
}

TEST(RotationProof, ProofForAnotherDomainIsRefused) {
  // beta signs a proof for a certificate naming alpha: refused, whoever's pin.
  const Site beta = make_site("beta.example");
  auto key = PrivateKey::generate_p256().value();
  RotationProof proof;
  proof.previous = beta.cert.fingerprint();
  proof.signed_at = Clock::to_time_t(Clock::now());
  proof.signature = std::vector<std::uint8_t>(70, 0x30);
  const Certificate claim = with_payload(key, "alpha.example", proof.encode());
  auto r = verify_rotation(claim, beta.cert);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("alpha.example"), std::string::npos);
}

TEST(RotationProof, ProofSignedByAnUnpinnedKeyIsRefused) {
  const Site alpha = make_site("alpha.example");
  const Site mallory = make_site("alpha.example");  // mallory's own key and cert
  // Mallory makes a proof naming alpha's fingerprint, signed with her key.
  auto key = PrivateKey::generate_p256().value();
  const Certificate mallory_next =
      make_rotated_certificate(key, CertificateOptions::valid_for_days("alpha.example", 30), mallory.cert, mallory.key)
          .value();
  auto proof = rotation_proof_of(mallory_next).value().value();
  proof.previous = alpha.cert.fingerprint();
  const Certificate forged = with_payload(key, "alpha.example", proof.encode());
  auto r = verify_rotation(forged, alpha.cert);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("signature"), std::string::npos);
}

TEST(RotationProof, SigningTimeOutsideThePreviousCertificatesLifeIsRefused) {
  const Site alpha = make_site("alpha.example");
  const Site early = rotate(alpha, alpha.key, alpha.cert, "alpha.example", Clock::now() - 24h * 10);
  EXPECT_FALSE(verify_rotation(early.cert, alpha.cert));
  const Site late = rotate(alpha, alpha.key, alpha.cert, "alpha.example", Clock::now() + 24h * 3);
  EXPECT_FALSE(verify_rotation(late.cert, alpha.cert));
}

TEST(RotationProof, GarbageExtensionsAreRefusedAsValues) {
  const Site alpha = make_site("alpha.example");
  const auto key = PrivateKey::generate_p256().value();
  const Site next = rotate(alpha);
  const auto good = rotation_proof_of(next.cert).value().value().encode();
  std::vector<std::vector<std::uint8_t>> bad_payloads = {
      {0x01},                                 // truncated
      std::vector<std::uint8_t>(43, 0x00),    // header only, version 0
      std::vector<std::uint8_t>(4000, 0xFF),  // version 255, huge
  };
  auto wrong_version = good;
  wrong_version[0] = 2;
  bad_payloads.push_back(wrong_version);
  auto short_sig = good;
  short_sig.pop_back();
  bad_payloads.push_back(short_sig);
  auto long_sig = good;
  long_sig.push_back(0);
  bad_payloads.push_back(long_sig);
  auto zero_len = std::vector<std::uint8_t>(good.begin(), good.begin() + 41);
  zero_len.push_back(0);
  zero_len.push_back(0);
  bad_payloads.push_back(zero_len);
  for (const auto& payload : bad_payloads) {
    const Certificate cert = with_payload(key, "alpha.example", payload);
    auto parsed = rotation_proof_of(cert);
    EXPECT_FALSE(parsed) << payload.size();
    auto verified = verify_rotation(cert, alpha.cert);
    ASSERT_FALSE(verified);
    EXPECT_EQ(verified.error().code, Errc::bad_rotation_proof);
  }
  // Every byte flipped in a good proof: never accepted, never a crash.
  for (std::size_t i = 0; i < good.size(); ++i) {
    auto flipped = good;
    flipped[i] ^= 0x80;
    const Certificate cert = with_payload(next.key, "alpha.example", flipped);
    EXPECT_FALSE(verify_rotation(cert, alpha.cert)) << "byte " << i;
  }
}

TEST(RotationProof, ExtensionValueThatIsNotAnOctetStringIsRefused) {
  // The extension's value must itself be a DER OCTET STRING: a raw payload
  // (or anything else) there is damage, not a proof.
  const Site alpha = make_site("alpha.example");
  auto key = PrivateKey::generate_p256().value();
  Certificate cert = Certificate::self_signed(key, CertificateOptions::valid_for_days("alpha.example", 30)).value();
  ASN1_OBJECT* oid = OBJ_txt2obj(kRotationProofOid, 1);
  ASN1_OCTET_STRING* value = ASN1_OCTET_STRING_new();
  const unsigned char junk[] = {0x02, 0x01, 0x05};  // an INTEGER
  ASN1_OCTET_STRING_set(value, junk, sizeof junk);
  X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, oid, 0, value);
  X509_add_ext(cert.native(), ext, -1);
  X509_EXTENSION_free(ext);
  ASN1_OCTET_STRING_free(value);
  ASN1_OBJECT_free(oid);
  X509_sign(cert.native(), key.native(), EVP_sha256());
  const auto reread = Certificate::from_der(cert.to_der()).value();
  EXPECT_FALSE(rotation_proof_of(reread));
  EXPECT_FALSE(verify_rotation(reread, alpha.cert));
}

TEST(RotationProof, VerifierAcceptsOnlyRotationsOfPinnedCertificatesOfTheSameDomain) {
  const Site alpha = make_site("alpha.example");
  const Site beta = make_site("beta.example");
  const Site alpha2 = rotate(alpha);
  PinVerifier pins(beta.cert.fingerprint());
  // Pinned without its certificate: rotations cannot be checked, so unknown.
  pins.replace({{alpha.cert.fingerprint(), "alpha.example"}});
  EXPECT_EQ(pins.verify(&alpha2.cert, 1), PinVerdict::unknown);
  pins.replace({{alpha.cert.fingerprint(),
                 PinnedPeer("alpha.example",
                            std::make_shared<const Certificate>(Certificate::from_native(alpha.cert.native())))}});
  EXPECT_EQ(pins.verify(&alpha.cert, 1), PinVerdict::accepted);
  EXPECT_EQ(pins.verify(&alpha2.cert, 1), PinVerdict::rotated);
  // A pin kept only for the overlap of an earlier rotation signs no more.
  PinnedPeer overlap =
      PinnedPeer("alpha.example", std::make_shared<const Certificate>(Certificate::from_native(alpha.cert.native())));
  overlap.superseded = true;
  pins.replace({{alpha.cert.fingerprint(), overlap}});
  EXPECT_EQ(pins.verify(&alpha.cert, 1), PinVerdict::accepted);
  EXPECT_EQ(pins.verify(&alpha2.cert, 1), PinVerdict::unknown);
  // Pinned for another domain than the rotation names.
  pins.replace({{alpha.cert.fingerprint(),
                 PinnedPeer("gamma.example",
                            std::make_shared<const Certificate>(Certificate::from_native(alpha.cert.native())))}});
  EXPECT_EQ(pins.verify(&alpha2.cert, 1), PinVerdict::unknown);
  // Not pinned at all.
  pins.replace({});
  EXPECT_EQ(pins.verify(&alpha2.cert, 1), PinVerdict::unknown);
}

TEST(RotationProof, OwnPreviousCertificateIsRefusedToo) {
  const Site alpha = make_site("alpha.example");
  const Site alpha2 = rotate(alpha);
  PinVerifier pins(alpha2.cert.fingerprint());
  pins.set_own({alpha2.cert.fingerprint(), alpha.cert.fingerprint()});
  pins.replace({{alpha.cert.fingerprint(), "alpha.example"}});
  EXPECT_EQ(pins.verify(&alpha.cert, 1), PinVerdict::own_certificate);
  EXPECT_EQ(pins.verify(&alpha2.cert, 1), PinVerdict::own_certificate);
}

}  // namespace
}  // namespace sipsite::pki
