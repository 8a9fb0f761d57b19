#include <sipsite/pki/pinning.hpp>

#include <sipsite/pki/rotation_proof.hpp>

#include "openssl_util.hpp"

#include <algorithm>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace sipsite::pki {

using namespace detail;

namespace {

// What the handshake decided about the peer, kept on the SSL object.
struct HandshakeRecord {
  PinVerdict verdict = PinVerdict::no_certificate;
  std::optional<Certificate> certificate;
};

int record_index() {
  static const int index = SSL_get_ex_new_index(
      0, nullptr, nullptr, nullptr,
      [](void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<HandshakeRecord*>(ptr); });
  return index;
}

HandshakeRecord& record_of(SSL* ssl) {
  auto* r = static_cast<HandshakeRecord*>(SSL_get_ex_data(ssl, record_index()));
  if (r == nullptr) {
    r = new HandshakeRecord;
    SSL_set_ex_data(ssl, record_index(), r);
  }
  return *r;
}

struct VerifyArg {
  const PinVerifier* verifier;  // null: probe, accept anything
};

// Replaces OpenSSL's chain verification entirely (no CA, no chain).
int verify_peer(X509_STORE_CTX* store, void* arg) {
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (ssl == nullptr) return 0;
  const auto* v = static_cast<const VerifyArg*>(arg);
  X509* leaf = X509_STORE_CTX_get0_cert(store);
  STACK_OF(X509)* sent = X509_STORE_CTX_get0_untrusted(store);
  const int chain_length = sent != nullptr ? sk_X509_num(sent) : (leaf != nullptr ? 1 : 0);
  HandshakeRecord& record = record_of(ssl);
  std::optional<Certificate> cert;
  if (leaf != nullptr) cert = Certificate::from_native(leaf);
  if (v->verifier == nullptr) {
    record.verdict = cert ? PinVerdict::accepted : PinVerdict::no_certificate;
  } else {
    record.verdict = v->verifier->verify(cert ? &*cert : nullptr, chain_length);
  }
  record.certificate = std::move(cert);
  if (is_accepted(record.verdict)) return 1;
  X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
  return 0;
}

Result<SslCtxPtr> make_context(const SSL_METHOD* method, const Certificate& cert, const PrivateKey& key,
                               const PinVerifier* verifier) {
  SslCtxPtr ctx(SSL_CTX_new(method));
  if (!ctx) return openssl_error(Errc::openssl_failure, "cannot create a TLS context");
  SSL_CTX* c = ctx.get();
  if (SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION) != 1 || SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION) != 1 ||
      SSL_CTX_use_certificate(c, cert.native()) != 1 || SSL_CTX_use_PrivateKey(c, key.native()) != 1 ||
      SSL_CTX_check_private_key(c) != 1) {
    return openssl_error(Errc::openssl_failure, "cannot configure the federation TLS context");
  }
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
  // An idle federation link (a thousand of them at a large site) gives its
  // ~33 KiB of TLS record buffers back between messages (issue 18).
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  // No session resumption, ever: a resumed handshake skips the certificate
  // and so the pin check, and a peer revoked since its last session could
  // come back on a ticket. No tickets issued (TLS 1.3 sends none with
  // num_tickets 0), no session cache on either side; the transport also
  // refuses any handshake that reports SSL_session_reused.
  SSL_CTX_set_num_tickets(c, 0);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  // The callback's argument lives as long as the context (freed with it).
  auto* arg = new VerifyArg{verifier};
  static const int arg_index = SSL_CTX_get_ex_new_index(
      0, nullptr, nullptr, nullptr,
      [](void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<VerifyArg*>(ptr); });
  SSL_CTX_set_ex_data(c, arg_index, arg);
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_cert_verify_callback(c, verify_peer, arg);
  if (verifier != nullptr) {
    // A server that gets no client certificate never runs the callback:
    // SSL_VERIFY_FAIL_IF_NO_PEER_CERT refuses the handshake instead.
    SSL_CTX_set_session_id_context(c, reinterpret_cast<const unsigned char*>("sipsite-federation"), 18);
  }
  return ctx;
}

}  // namespace

std::string_view to_string(PinVerdict v) {
  switch (v) {
    case PinVerdict::accepted: return "accepted";
    case PinVerdict::no_certificate: return "no certificate presented";
    case PinVerdict::chain: return "more than one certificate presented";
    case PinVerdict::unknown: return "fingerprint not trusted here";
    case PinVerdict::wrong_domain: return "certificate names another domain than the pinned peer";
    case PinVerdict::not_valid_now: return "certificate expired or not yet valid";
    case PinVerdict::own_certificate: return "our own certificate presented back";
    case PinVerdict::rotated: return "accepted as a key rotation of a pinned certificate";
  }
  return "refused";
}

std::shared_ptr<const Certificate> PinnedPeer::parsed_certificate() const {
  if (certificate || !certificate_pem || certificate_pem->empty()) return certificate;
  auto cert = Certificate::from_pem(*certificate_pem);
  if (!cert) return nullptr;
  return std::make_shared<const Certificate>(std::move(*cert));
}

void PinVerifier::replace(PinnedSet pins) {
  auto next = std::make_shared<const PinnedSet>(std::move(pins));
  std::lock_guard lock(mutex_);
  pins_ = std::move(next);
}

void PinVerifier::swap_in(std::shared_ptr<const PinnedSet> pins) {
  if (!pins) pins = std::make_shared<const PinnedSet>();
  std::lock_guard lock(mutex_);
  pins_ = std::move(pins);
}

std::shared_ptr<const PinnedSet> PinVerifier::snapshot() const {
  std::lock_guard lock(mutex_);
  return pins_;
}

void PinVerifier::set_own(std::vector<Fingerprint> own) {
  auto next = std::make_shared<const std::vector<Fingerprint>>(std::move(own));
  std::lock_guard lock(mutex_);
  own_ = std::move(next);
}

PinVerdict PinVerifier::verify(const Certificate* leaf, int chain_length, Clock::time_point now) const {
  if (leaf == nullptr || chain_length < 1) return PinVerdict::no_certificate;
  if (chain_length > 1) return PinVerdict::chain;
  const Fingerprint fp = leaf->fingerprint();
  std::shared_ptr<const std::vector<Fingerprint>> own;
  std::shared_ptr<const PinnedSet> pins;
  {
    std::lock_guard lock(mutex_);
    own = own_;
    pins = pins_;
  }
  if (std::find(own->begin(), own->end(), fp) != own->end()) return PinVerdict::own_certificate;
  if (const PinnedPeer* pinned = pins->find(fp)) {
    if (leaf->domain() != pinned->domain) return PinVerdict::wrong_domain;
    if (!leaf->check_validity(now)) return PinVerdict::not_valid_now;
    return PinVerdict::accepted;
  }
  // Not pinned: perhaps a key rotation of a pinned certificate. The proof
  // must name a certificate pinned for the leaf's own domain, and verify
  // with that certificate's key (one hop: no chains of proofs).
  auto proof = rotation_proof_of(*leaf);
  if (!proof || !*proof) return PinVerdict::unknown;
  const PinnedPeer* previous = pins->find((*proof)->previous);
  if (previous == nullptr || previous->superseded) return PinVerdict::unknown;
  const auto previous_cert = previous->parsed_certificate();
  if (!previous_cert) return PinVerdict::unknown;
  const std::string domain = leaf->domain();
  if (domain.empty() || domain != previous->domain) return PinVerdict::unknown;
  if (!verify_rotation(*leaf, *previous_cert, now)) return PinVerdict::unknown;
  if (!leaf->check_validity(now)) return PinVerdict::not_valid_now;
  return PinVerdict::rotated;
}

Result<SslCtxPtr> make_federation_server_context(const Certificate& cert, const PrivateKey& key,
                                                 const PinVerifier& verifier) {
  return make_context(TLS_server_method(), cert, key, &verifier);
}

Result<SslCtxPtr> make_federation_client_context(const Certificate& cert, const PrivateKey& key,
                                                 const PinVerifier& verifier) {
  return make_context(TLS_client_method(), cert, key, &verifier);
}

Result<SslCtxPtr> make_probe_client_context(const Certificate& cert, const PrivateKey& key) {
  return make_context(TLS_client_method(), cert, key, nullptr);
}

PeerIdentity peer_identity(SSL* ssl) {
  auto* r = static_cast<HandshakeRecord*>(SSL_get_ex_data(ssl, record_index()));
  if (r == nullptr) return {};
  PeerIdentity identity{r->verdict, std::nullopt};
  if (r->certificate) identity.certificate = Certificate::from_native(r->certificate->native());
  return identity;
}

}  // namespace sipsite::pki
