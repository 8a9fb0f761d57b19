#include <sipsite/pki/rotation_proof.hpp>

#include "openssl_util.hpp"
#include "sipsite/common/sha256.hpp"

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

namespace sipsite::pki {

using namespace detail;

namespace {

using Asn1ObjectPtr = std::unique_ptr<ASN1_OBJECT, Deleter<ASN1_OBJECT_free>>;
using OctetStringPtr = std::unique_ptr<ASN1_OCTET_STRING, Deleter<ASN1_OCTET_STRING_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;

constexpr std::string_view kDomainSeparator = "sipsite-key-rotation-v1\n";
constexpr std::size_t kHeaderSize = 1 + Fingerprint::kSize + 8 + 2;
// An ECDSA P-256 signature in DER is at most 72 bytes; leave room for
// larger curves without accepting arbitrary blobs.
constexpr std::size_t kMaxSignature = 160;
constexpr std::int64_t kFutureSkew = std::int64_t{24} * 3600;

Error bad(std::string message) { return Error{Errc::bad_rotation_proof, std::move(message)}; }

Asn1ObjectPtr proof_oid() {
  // no_name = 1: the dotted text itself, no lookup or registration.
  return Asn1ObjectPtr(OBJ_txt2obj(kRotationProofOid, 1));
}

// SubjectPublicKeyInfo DER of a key, as the certificate will carry it.
std::vector<std::uint8_t> spki_der_of_key(EVP_PKEY* key) {
  const int len = i2d_PUBKEY(key, nullptr);
  if (len <= 0) return {};
  std::vector<std::uint8_t> der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  if (i2d_PUBKEY(key, &p) != len) return {};
  return der;
}

std::vector<std::uint8_t> spki_der_of_cert(const Certificate& cert) {
  X509_PUBKEY* pub = X509_get_X509_PUBKEY(cert.native());
  if (pub == nullptr) return {};
  const int len = i2d_X509_PUBKEY(pub, nullptr);
  if (len <= 0) return {};
  std::vector<std::uint8_t> der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  if (i2d_X509_PUBKEY(pub, &p) != len) return {};
  return der;
}

}  // namespace

namespace detail {

bool add_rotation_proof_extension(X509* cert, std::span<const std::uint8_t> payload) {
  const Asn1ObjectPtr oid = proof_oid();
  OctetStringPtr inner(ASN1_OCTET_STRING_new());
  if (!oid || !inner || ASN1_OCTET_STRING_set(inner.get(), payload.data(), static_cast<int>(payload.size())) != 1) {
    return false;
  }
  unsigned char* der = nullptr;
  const int len = i2d_ASN1_OCTET_STRING(inner.get(), &der);
  if (len <= 0) return false;
  OctetStringPtr value(ASN1_OCTET_STRING_new());
  const bool set = value && ASN1_OCTET_STRING_set(value.get(), der, len) == 1;
  OPENSSL_free(der);
  if (!set) return false;
  X509ExtPtr ext(X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), /*crit=*/0, value.get()));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

}  // namespace detail

std::vector<std::uint8_t> RotationProof::encode() const {
  std::vector<std::uint8_t> out;
  out.reserve(kHeaderSize + signature.size());
  out.push_back(kRotationProofVersion);
  out.insert(out.end(), previous.bytes().begin(), previous.bytes().end());
  const auto t = static_cast<std::uint64_t>(signed_at);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(t >> shift));
  out.push_back(static_cast<std::uint8_t>(signature.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(signature.size() & 0xFF));
  out.insert(out.end(), signature.begin(), signature.end());
  return out;
}

Result<RotationProof> RotationProof::decode(std::span<const std::uint8_t> payload) {
  if (payload.size() < kHeaderSize) return bad("the key-rotation proof is truncated");
  if (payload[0] != kRotationProofVersion) {
    return bad("the key-rotation proof has unknown version " + std::to_string(payload[0]));
  }
  std::size_t pos = 1;
  const Fingerprint previous = Fingerprint::from_bytes(payload.subspan(pos).first<Fingerprint::kSize>());
  pos += Fingerprint::kSize;
  std::uint64_t t = 0;
  for (int i = 0; i < 8; ++i) t = (t << 8) | payload[pos++];
  const std::size_t sig_len = (static_cast<std::size_t>(payload[pos]) << 8) | payload[pos + 1];
  pos += 2;
  if (sig_len == 0 || sig_len > kMaxSignature) return bad("the key-rotation proof has a bad signature length");
  if (payload.size() - pos != sig_len) return bad("the key-rotation proof's length does not match its signature");
  RotationProof proof;
  proof.previous = previous;
  proof.signed_at = static_cast<std::int64_t>(t);
  proof.signature.assign(payload.begin() + static_cast<std::ptrdiff_t>(pos), payload.end());
  return proof;
}

std::string rotation_message(std::string_view domain, const Fingerprint& previous, std::string_view new_spki_sha256_hex,
                             std::int64_t signed_at) {
  std::string m(kDomainSeparator);
  m += domain;
  m += '\n';
  m += previous.to_string();
  m += '\n';
  m += new_spki_sha256_hex;
  m += '\n';
  m += std::to_string(signed_at);
  return m;
}

Result<Certificate> make_rotated_certificate(const PrivateKey& new_key, CertificateOptions options,
                                             const Certificate& old_cert, const PrivateKey& old_key,
                                             Clock::time_point now) {
  if (!old_cert.matches(old_key)) return bad("the previous certificate does not match the previous key");
  if (old_cert.domain() != options.domain) {
    return bad("the new certificate must name the previous one's domain " + old_cert.domain());
  }
  const auto spki = spki_der_of_key(new_key.native());
  const auto spki_hash = common::sha256_hex(spki);
  if (spki.empty() || !spki_hash) return openssl_error(Errc::openssl_failure, "cannot encode the new public key");
  RotationProof proof;
  proof.previous = old_cert.fingerprint();
  proof.signed_at = Clock::to_time_t(now);
  const std::string message = rotation_message(options.domain, proof.previous, *spki_hash, proof.signed_at);

  MdCtxPtr md(EVP_MD_CTX_new());
  std::size_t sig_len = 0;
  if (!md || EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, old_key.native()) != 1 ||
      EVP_DigestSign(md.get(), nullptr, &sig_len, reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1) {
    return openssl_error(Errc::openssl_failure, "cannot sign the key-rotation proof");
  }
  proof.signature.resize(sig_len);
  if (EVP_DigestSign(md.get(), proof.signature.data(), &sig_len, reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1) {
    return openssl_error(Errc::openssl_failure, "cannot sign the key-rotation proof");
  }
  proof.signature.resize(sig_len);
  options.rotation_proof = proof.encode();
  return Certificate::self_signed(new_key, options);
}

Result<std::optional<RotationProof>> rotation_proof_of(const Certificate& cert) {
  const Asn1ObjectPtr oid = proof_oid();
  if (!oid) return openssl_error(Errc::openssl_failure, "cannot make the rotation proof's OID");
  X509* x = cert.native();
  const int index = X509_get_ext_by_OBJ(x, oid.get(), -1);
  if (index < 0) {
    clear_openssl_errors();
    return std::optional<RotationProof>{};
  }
  if (X509_get_ext_by_OBJ(x, oid.get(), index) >= 0) return bad("the certificate carries two key-rotation proofs");
  X509_EXTENSION* ext = X509_get_ext(x, index);
  const ASN1_OCTET_STRING* value = ext != nullptr ? X509_EXTENSION_get_data(ext) : nullptr;
  if (value == nullptr) return bad("the key-rotation proof extension is empty");
  const unsigned char* p = ASN1_STRING_get0_data(value);
  const long len = ASN1_STRING_length(value);
  const unsigned char* const end = p + len;
  OctetStringPtr inner(d2i_ASN1_OCTET_STRING(nullptr, &p, len));
  if (!inner || p != end) {
    clear_openssl_errors();
    return bad("the key-rotation proof extension is not a DER OCTET STRING");
  }
  auto proof = RotationProof::decode(std::span<const std::uint8_t>(
      ASN1_STRING_get0_data(inner.get()), static_cast<std::size_t>(ASN1_STRING_length(inner.get()))));
  if (!proof) return proof.error();
  return std::optional<RotationProof>(std::move(*proof));
}

Result<RotationProof> verify_rotation(const Certificate& new_cert, const Certificate& pinned_old,
                                      Clock::time_point now) {
  auto found = rotation_proof_of(new_cert);
  if (!found) return found.error();
  if (!*found) return bad("the certificate carries no key-rotation proof");
  RotationProof& proof = **found;
  if (proof.previous != pinned_old.fingerprint()) {
    return bad("the key-rotation proof names previous certificate " + proof.previous.to_string() + ", not " +
               pinned_old.fingerprint().to_string());
  }
  const std::string domain = new_cert.domain();
  if (domain.empty() || domain != pinned_old.domain()) {
    return bad("the rotated certificate names " + (domain.empty() ? std::string("no domain") : domain) +
               ", the previous one " + pinned_old.domain());
  }
  if (new_cert.fingerprint() == pinned_old.fingerprint()) return bad("a certificate cannot rotate to itself");
  const std::int64_t not_before = Clock::to_time_t(pinned_old.not_before());
  if (proof.signed_at < not_before || proof.signed_at > Clock::to_time_t(now) + kFutureSkew) {
    return bad("the key-rotation proof's signing time " + iso8601(proof.signed_at) +
               " is outside the previous certificate's life (check both sites' clocks)");
  }
  const auto spki = spki_der_of_cert(new_cert);
  EVP_PKEY* old_public = X509_get0_pubkey(pinned_old.native());
  const auto spki_hash = common::sha256_hex(spki);
  if (spki.empty() || old_public == nullptr || !spki_hash) {
    clear_openssl_errors();
    return bad("cannot read the public keys of the rotation");
  }
  const std::string message = rotation_message(domain, proof.previous, *spki_hash, proof.signed_at);
  MdCtxPtr md(EVP_MD_CTX_new());
  const bool ok = md && EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha256(), nullptr, old_public) == 1 &&
                  EVP_DigestVerify(md.get(), proof.signature.data(), proof.signature.size(),
                                   reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  clear_openssl_errors();
  if (!ok) return bad("the key-rotation proof's signature does not verify with the previous certificate's key");
  return std::move(proof);
}

}  // namespace sipsite::pki
