#pragma once
// Certificate pinning for federation (mutual TLS between sites).
//
// No CA, no chain building, no hostname checks: a peer is accepted exactly
// when it presents one certificate, currently valid, whose SHA-256
// fingerprint is pinned here for the domain the certificate names (the
// Syncthing model), or that carries a valid key-rotation proof signed by the
// key of such a pinned certificate (PinVerdict::rotated). Everything else is refused during the handshake, before
// any SIP is read, and the refused certificate is kept on the SSL object so
// the caller can record a pending request.
//
// The pinned set is an immutable snapshot swapped atomically: a handshake
// never waits on the database or on a writer.

#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/fingerprint.hpp>
#include <sipsite/pki/pinned_set.hpp>
#include <sipsite/pki/private_key.hpp>
#include <sipsite/pki/tls_context.hpp>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

using SSL = struct ssl_st;

namespace sipsite::pki {

enum class PinVerdict {
  accepted,
  no_certificate,
  chain,            // more than one certificate presented
  unknown,          // fingerprint not pinned (a pending request, if the caller wants)
  wrong_domain,     // pinned, but the certificate names another domain
  not_valid_now,    // expired or not yet valid
  own_certificate,  // our own certificate (current or previous) presented back
  // Not pinned, but a valid key rotation of a pinned certificate of the
  // same domain (rotation_proof.hpp): accepted, and the caller should pin it.
  rotated,
};

std::string_view to_string(PinVerdict v);
// accepted or rotated: the handshake goes through.
constexpr bool is_accepted(PinVerdict v) { return v == PinVerdict::accepted || v == PinVerdict::rotated; }

class PinVerifier {
 public:
  explicit PinVerifier(Fingerprint own)
      : own_(std::make_shared<const std::vector<Fingerprint>>(std::vector<Fingerprint>{own})),
        pins_(std::make_shared<const PinnedSet>()) {}

  // Replaces the pinned set (thread-safe; handshakes in flight keep the
  // snapshot they started with).
  void replace(PinnedSet pins);
  // The same with a set built elsewhere (another thread): an O(1) swap.
  void swap_in(std::shared_ptr<const PinnedSet> pins);
  std::shared_ptr<const PinnedSet> snapshot() const;
  // This site's own fingerprints, refused when presented back: the current
  // certificate and, after a key rotation, the previous one.
  void set_own(std::vector<Fingerprint> own);

  // The decision, for a peer that presented `chain_length` certificates,
  // the first being `leaf`. An unpinned leaf carrying a valid rotation proof
  // from a pinned certificate of its own domain is PinVerdict::rotated.
  PinVerdict verify(const Certificate* leaf, int chain_length, Clock::time_point now = Clock::now()) const;

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const std::vector<Fingerprint>> own_;
  std::shared_ptr<const PinnedSet> pins_;
};

// TLS 1.3 only, both sides present the site certificate, the peer is
// verified by `verifier` (which must outlive the context). No session
// tickets or cache: resumption would skip the pin check (see pinning.cpp).
Result<SslCtxPtr> make_federation_server_context(const Certificate& cert, const PrivateKey& key,
                                                 const PinVerifier& verifier);
Result<SslCtxPtr> make_federation_client_context(const Certificate& cert, const PrivateKey& key,
                                                 const PinVerifier& verifier);

// For `peer add --invite`: a client context that accepts whatever the server
// presents and records it (the caller compares it with the invite's
// fingerprint before trusting anything).
Result<SslCtxPtr> make_probe_client_context(const Certificate& cert, const PrivateKey& key);

// After a handshake on a federation or probe context: the verdict and the
// certificate the peer presented (also when it was refused).
struct PeerIdentity {
  PinVerdict verdict = PinVerdict::no_certificate;
  std::optional<Certificate> certificate;
};
PeerIdentity peer_identity(SSL* ssl);

}  // namespace sipsite::pki
