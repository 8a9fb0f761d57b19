#pragma once
// Certificate pinning for federation (mutual TLS between sites).
//
// No CA, no chain building, no hostname checks: a peer is accepted exactly
// when it presents one certificate, currently valid, whose SHA-256
// fingerprint is pinned here for the domain the certificate names (the
// Syncthing model). Everything else is refused during the handshake, before
// any SIP is read, and the refused certificate is kept on the SSL object so
// the caller can record a pending request.
//
// The pinned set is an immutable snapshot swapped atomically: a handshake
// never waits on the database or on a writer.

#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/fingerprint.hpp>
#include <sipsite/pki/private_key.hpp>
#include <sipsite/pki/tls_context.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

typedef struct ssl_st SSL;

namespace sipsite::pki {

// fingerprint -> the domain it is pinned for
using PinnedSet = std::map<Fingerprint, std::string>;

enum class PinVerdict {
  accepted,
  no_certificate,
  chain,           // more than one certificate presented
  unknown,         // fingerprint not pinned (a pending request, if the caller wants)
  wrong_domain,    // pinned, but the certificate names another domain
  not_valid_now,   // expired or not yet valid
  own_certificate, // our own certificate presented back
};

std::string_view to_string(PinVerdict v);

class PinVerifier {
 public:
  explicit PinVerifier(Fingerprint own) : own_(own), pins_(std::make_shared<const PinnedSet>()) {}

  // Replaces the pinned set (thread-safe; handshakes in flight keep the
  // snapshot they started with).
  void replace(PinnedSet pins);
  std::shared_ptr<const PinnedSet> snapshot() const;

  // The decision, for a peer that presented `chain_length` certificates,
  // the first being `leaf`.
  PinVerdict verify(const Certificate* leaf, int chain_length, Clock::time_point now = Clock::now()) const;

 private:
  Fingerprint own_;
  mutable std::mutex mutex_;
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
