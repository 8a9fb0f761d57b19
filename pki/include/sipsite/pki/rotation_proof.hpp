#pragma once
// Key rotation: the proof that a site's new certificate was made by the
// holder of its previous key, carried inside the new certificate.
//
// The proof is a non-critical X.509 extension under a private OID
// (kRotationProofOid, under 2.25 = a UUID, which needs no registration).
// Its extnValue is a DER OCTET STRING holding:
//
//   version (1 byte, = 1)
//   previous certificate's SHA-256 fingerprint (32 bytes)
//   signing time, Unix seconds (8 bytes, big-endian, signed)
//   signature length (2 bytes, big-endian), then the signature: ECDSA-SHA256
//   (DER) by the PREVIOUS private key over rotation_message().
//
// The signed message binds the domain, the previous fingerprint and the
// SHA-256 of the new certificate's SubjectPublicKeyInfo, so a proof cannot
// be moved to another key, another domain or another predecessor. A peer
// that has the previous certificate pinned verifies the proof with that
// certificate's public key and may pin the new one beside it (pinning.hpp,
// PinVerdict::rotated). One hop only: the proof names exactly one
// predecessor, which the verifier must have pinned.
//
// Everything here treats certificates as hostile input: errors are values
// (Errc::bad_rotation_proof with one clear sentence), never exceptions.

#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/error.hpp>
#include <sipsite/pki/fingerprint.hpp>
#include <sipsite/pki/private_key.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::pki {

// 2.25.<the UUID 0f3e84bd-1f1d-4146-9531-b5e1f48af5fd as a decimal integer>.
inline constexpr const char* kRotationProofOid = "2.25.20263034603822697032056329724320478717";
inline constexpr std::uint8_t kRotationProofVersion = 1;

struct RotationProof {
  Fingerprint previous;        // the certificate whose key signed
  std::int64_t signed_at = 0;  // Unix seconds
  std::vector<std::uint8_t> signature;

  // The extension's inner payload (the format above).
  std::vector<std::uint8_t> encode() const;
  static Result<RotationProof> decode(std::span<const std::uint8_t> payload);
};

// "sipsite-key-rotation-v1\n" + domain + "\n" + previous fingerprint (AB:CD:…)
// + "\n" + lowercase hex SHA-256 of the new SubjectPublicKeyInfo DER + "\n" +
// signing time (decimal Unix seconds).
std::string rotation_message(std::string_view domain, const Fingerprint& previous, std::string_view new_spki_sha256_hex,
                             std::int64_t signed_at);

// The new site certificate for `new_key`, valid as `options` says, carrying
// a proof signed by `old_key`, the key of `old_cert` (which must match and
// name the same domain as options.domain).
Result<Certificate> make_rotated_certificate(const PrivateKey& new_key, CertificateOptions options,
                                             const Certificate& old_cert, const PrivateKey& old_key,
                                             Clock::time_point now = Clock::now());

// The proof in `cert`: nullopt when it carries none; an error when the
// extension is there but damaged (or present twice).
Result<std::optional<RotationProof>> rotation_proof_of(const Certificate& cert);

// Whether `new_cert` is a valid rotation of `pinned_old`: it carries a
// proof naming pinned_old's fingerprint, both name the same domain, the
// signature verifies with pinned_old's public key, and the signing time is
// not before pinned_old's notBefore nor more than a day after `now`.
// Returns the proof. Does not check new_cert's own validity dates.
Result<RotationProof> verify_rotation(const Certificate& new_cert, const Certificate& pinned_old,
                                      Clock::time_point now = Clock::now());

}  // namespace sipsite::pki
