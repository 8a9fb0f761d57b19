#include <sipsite/transport/federation_listener.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>

#include <openssl/ssl.h>

#include <map>
#include <utility>

#include "asio_util.hpp"
#include "federation_link.hpp"

namespace sipsite::transport {

using namespace detail;

namespace {

sip::Endpoint endpoint_of(const tcp::endpoint& ep) {
  return detail::endpoint_of(sip::Protocol::tls, ep.address(), ep.port());
}

// A connection during its handshake, then the link it became.
struct Accepted {
  explicit Accepted(TlsStream s) : stream(std::move(s)), watchdog(stream.get_executor()) {}
  void close() {
    closed = true;
    boost::system::error_code ec;
    if (link) {
      link->close();
    } else {
      stream.next_layer().close(ec);
    }
    watchdog.cancel();
  }
  TlsStream stream;  // moved into `link` after the handshake
  asio::steady_timer watchdog;
  std::shared_ptr<LinkConnection> link;
  std::optional<pki::Fingerprint> peer;
  std::uint64_t id = 0;  // in the listener's `live` table while nonzero
  bool closed = false;
};

}  // namespace

struct FederationListener::Impl {
  Impl(asio::io_context& io_, SSL_CTX* ctx_, FederationHandler& handler_, FederationLinks& links_, Limits limits_)
      : io(io_), ssl(wrap(ctx_)), handler(handler_), links(links_), limits(limits_) {}

  static std::unique_ptr<asio::ssl::context> wrap(SSL_CTX* ctx) {
    SSL_CTX_up_ref(ctx);  // asio::ssl::context frees the handle it wraps
    return std::make_unique<asio::ssl::context>(ctx);
  }

  asio::awaitable<void> handshake_watchdog(std::shared_ptr<Accepted> c) {
    c->watchdog.expires_after(limits.handshake_timeout);
    auto [ec] = co_await c->watchdog.async_wait(kTuple);
    if (!ec && !c->link) c->close();
  }

  asio::awaitable<void> serve(std::shared_ptr<Accepted> c, sip::Endpoint source, sip::Endpoint local) {
    ++handshaking;
    tasks.spawn(handshake_watchdog(c));
    auto [hec] = co_await c->stream.async_handshake(asio::ssl::stream_base::server, kTuple);
    --handshaking;
    c->watchdog.cancel();
    pki::PeerIdentity identity = pki::peer_identity(c->stream.native_handle());
    // A resumed session skips certificate verification, so it never becomes
    // a link (the federation contexts issue no tickets: this is a second lock).
    if (!hec && SSL_session_reused(c->stream.native_handle()) == 1) identity = {};
    if (hec || c->closed || !pki::is_accepted(identity.verdict) || !identity.certificate) {
      c->close();
      handler.on_refused(identity, source);
      co_return;
    }
    c->id = ++next_id;
    c->peer = identity.certificate->fingerprint();
    c->link = std::make_shared<LinkConnection>(std::move(c->stream), std::move(*identity.certificate),
                                               LinkDirection::inbound, LinksAccess::session_settings(links));
    c->link->remote = source;
    c->link->local = local;
    live.emplace(c->id, c);
    SessionOptions options;
    options.parse = limits.parse;
    options.idle_timeout = limits.idle_timeout;
    options.on_up = [this, c, source] { handler.on_peer_connected(c->link->certificate, source); };
    const SessionEnd end = co_await run_link_session(c->link, links, handler, tasks, std::move(options));
    live.erase(std::exchange(c->id, 0));
    if (end.registered()) {
      handler.on_peer_disconnected(*c->peer);
    } else if (end.registration == AddResult::not_pinned) {
      // Revoked (or expired) while the handshake completed.
      handler.on_refused(pki::PeerIdentity{end.verdict, pki::Certificate::from_native(c->link->certificate.native())},
                         source);
    }
    // superseded: the peer's canonical link is up; closing this one is the
    // agreed outcome, not a refusal.
  }

  asio::awaitable<void> accept_loop() {
    while (acceptor && acceptor->is_open()) {
      auto [ec, socket] = co_await acceptor->async_accept(kTuple);
      if (ec) {
        if (!acceptor->is_open()) break;
        continue;
      }
      boost::system::error_code pec;
      const auto peer = socket.remote_endpoint(pec);
      const auto local = socket.local_endpoint(pec);
      if (pec) continue;
      if (live.size() + handshaking >= limits.max_connections) {
        socket.close(pec);
        continue;
      }
      socket.set_option(tcp::no_delay(true), pec);
      auto c = std::make_shared<Accepted>(TlsStream(std::move(socket), *ssl));
      // An exception escaping the connection's task closes that connection.
      tasks.spawn(serve(c, endpoint_of(peer), endpoint_of(local)), [this, c] {
        c->close();
        if (c->id != 0) live.erase(std::exchange(c->id, 0));  // ended by an exception
      });
    }
  }

  asio::io_context& io;
  std::unique_ptr<asio::ssl::context> ssl;  // streams take their own SSL_CTX reference
  FederationHandler& handler;
  FederationLinks& links;
  Limits limits;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::map<std::uint64_t, std::shared_ptr<Accepted>> live;
  std::size_t handshaking = 0;
  std::uint64_t next_id = 0;
  async::TaskGroup tasks{io.get_executor(), "federation"};
};

FederationListener::FederationListener(asio::io_context& io, SSL_CTX* server_ctx, FederationHandler& handler,
                                       FederationLinks& links, Limits limits)
    : impl_(std::make_unique<Impl>(io, server_ctx, handler, links, limits)) {}

FederationListener::~FederationListener() { stop(); }

boost::system::result<void, TransportError> FederationListener::listen(const pki::HostPort& address) {
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address(address.host, ec);
  auto acceptor = std::make_unique<tcp::acceptor>(impl_->io);
  const tcp::endpoint ep(addr, address.port);
  if (!ec) acceptor->open(ep.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec && addr.is_v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
  if (!ec) acceptor->bind(ep, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return TransportError{"cannot listen on federation/mtls " + address.to_string() + ": " + ec.message()};
  impl_->acceptor = std::move(acceptor);
  impl_->tasks.spawn(impl_->accept_loop());
  return {};
}

sip::Endpoint FederationListener::local_endpoint() const {
  boost::system::error_code ec;
  if (!impl_->acceptor) return {};
  const auto ep = impl_->acceptor->local_endpoint(ec);
  return ec ? sip::Endpoint{} : endpoint_of(ep);
}

void FederationListener::set_context(SSL_CTX* server_ctx) { impl_->ssl = Impl::wrap(server_ctx); }

std::size_t FederationListener::disconnect(const pki::Fingerprint& peer) {
  std::size_t n = 0;
  for (auto& [id, c] : impl_->live) {
    if (c->peer && *c->peer == peer && !c->link->closed()) {
      c->close();
      ++n;
    }
  }
  return n;
}

std::size_t FederationListener::connection_count() const { return impl_->live.size(); }

void FederationListener::stop() {
  boost::system::error_code ec;
  if (impl_->acceptor) impl_->acceptor->close(ec);
  for (auto& [id, c] : impl_->live) c->close();
  impl_->tasks.cancel();
}

boost::asio::awaitable<bool> FederationListener::join(std::chrono::steady_clock::duration deadline) {
  co_return co_await impl_->tasks.join(deadline);
}

}  // namespace sipsite::transport
