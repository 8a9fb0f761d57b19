#pragma once
// The federation port: mutual TLS with pinned peers (pki/pinning.hpp).
//
// A handshake refused because the certificate is unknown is reported to the
// handler (which records a pending request); other refusals are only
// counted. An accepted peer's connection is registered in FederationLinks
// (after a re-check of the current pinned set) and carries SIP both ways:
// framed and parsed with the LAN's limits, malformed requests answered,
// CRLF keep-alives answered (RFC 5626 §3.5.1), messages handed to the
// handler with the peer's fingerprint. TLS sessions are never resumed
// (pki/src/pinning.cpp), and a resumed handshake would be refused here.
//
// Threading: one io_context run by one thread; the handler is called on it.

#include <sipsite/pki/host_port.hpp>
#include <sipsite/pki/pinning.hpp>
#include <sipsite/sip/io.hpp>
#include <sipsite/transport/federation_links.hpp>
#include <sipsite/transport/sip_transport.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>

namespace sipsite::transport {

class FederationHandler : public FederationLinkHandler {
 public:
  // The handshake was refused; `identity.certificate` is what the peer
  // presented, if anything.
  virtual void on_refused(const pki::PeerIdentity& identity, const sip::Endpoint& source) = 0;
  // An accepted connection became a link (right after on_link_up), and
  // that link closed (after on_link_down). Not called for dialled links, nor
  // for an accepted connection closed at once because the peer's canonical
  // link is already up.
  virtual void on_peer_connected(const pki::Certificate& peer, const sip::Endpoint& source) = 0;
  virtual void on_peer_disconnected(const pki::Fingerprint& peer) = 0;
};

class FederationListener {
 public:
  // `server_ctx` (make_federation_server_context), `handler` and `links`
  // are borrowed and must outlive the listener. `limits`: max_connections,
  // handshake and idle timeouts, parse limits.
  FederationListener(boost::asio::io_context& io, SSL_CTX* server_ctx, FederationHandler& handler,
                     FederationLinks& links, Limits limits);
  ~FederationListener();

  boost::system::result<void, TransportError> listen(const pki::HostPort& address);
  sip::Endpoint local_endpoint() const;
  // Handshakes accepted from now on use `server_ctx` (this site's key
  // rotation); connections already accepted keep theirs. Borrowed like the
  // constructor's.
  void set_context(SSL_CTX* server_ctx);
  // Closes every live connection of that peer (revocation); see also
  // FederationLinks::close, which closes dialled links as well.
  std::size_t disconnect(const pki::Fingerprint& peer);
  std::size_t connection_count() const;
  void stop();
  // After stop(): waits until every task has unwound (each cancelled one
  // ends at its next await) or `deadline` has passed; true when all ended.
  boost::asio::awaitable<bool> join(std::chrono::steady_clock::duration deadline);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sipsite::transport
