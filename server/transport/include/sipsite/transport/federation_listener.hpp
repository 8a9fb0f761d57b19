#pragma once
// The federation port: mutual TLS with pinned peers (pki/pinning.hpp).
//
// A handshake refused because the certificate is unknown is reported to the
// handler (which records a pending request); other refusals are only
// counted. An accepted peer's connection is kept open (CRLF keep-alives
// answered, RFC 5626 §3.5.1) and reported connected; inter-site SIP routing
// over it is the next step of the federation work.
//
// Threading: one io_context run by one thread; the handler is called on it.

#include <sipsite/pki/host_port.hpp>
#include <sipsite/pki/pinning.hpp>
#include <sipsite/sip/io.hpp>
#include <sipsite/transport/sip_transport.hpp>

#include <boost/asio/io_context.hpp>

#include <memory>

namespace sipsite::transport {

class FederationHandler {
 public:
  virtual ~FederationHandler() = default;
  // The handshake was refused; `identity.certificate` is what the peer
  // presented, if anything.
  virtual void on_refused(const pki::PeerIdentity& identity, const sip::Endpoint& source) = 0;
  virtual void on_peer_connected(const pki::Certificate& peer, const sip::Endpoint& source) = 0;
  virtual void on_peer_disconnected(const pki::Fingerprint& peer) = 0;
};

class FederationListener {
 public:
  // `server_ctx` is borrowed and must outlive the listener.
  FederationListener(boost::asio::io_context& io, SSL_CTX* server_ctx, FederationHandler& handler, Limits limits);
  ~FederationListener();

  boost::system::result<void, TransportError> listen(const pki::HostPort& address);
  sip::Endpoint local_endpoint() const;
  // Closes every live connection of that peer (revocation).
  std::size_t disconnect(const pki::Fingerprint& peer);
  std::size_t connection_count() const;
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sipsite::transport
