#include <sipsite/transport/federation_listener.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <map>

#include "asio_util.hpp"

namespace sipsite::transport {

using namespace detail;

namespace {

sip::Endpoint endpoint_of(const tcp::endpoint& ep) {
  return detail::endpoint_of(sip::Protocol::tls, ep.address(), ep.port());
}

struct PeerConnection {
  explicit PeerConnection(TlsStream s) : stream(std::move(s)), watchdog(stream.get_executor()) {}
  void close() {
    boost::system::error_code ec;
    stream.next_layer().close(ec);
    watchdog.cancel();
  }
  TlsStream stream;
  asio::steady_timer watchdog;
  std::optional<pki::Fingerprint> peer;
};

}  // namespace

struct FederationListener::Impl {
  Impl(asio::io_context& io_, SSL_CTX* ctx_, FederationHandler& handler_, Limits limits_)
      : io(io_), ssl(ctx_), handler(handler_), limits(limits_) {
    SSL_CTX_up_ref(ctx_);  // asio::ssl::context frees the handle it wraps
  }

  asio::awaitable<void> watchdog(std::shared_ptr<PeerConnection> c, std::chrono::seconds timeout) {
    c->watchdog.expires_after(timeout);
    auto [ec] = co_await c->watchdog.async_wait(kTuple);
    if (!ec) c->close();
  }

  asio::awaitable<void> serve(std::shared_ptr<PeerConnection> c, sip::Endpoint source) {
    asio::co_spawn(io, watchdog(c, limits.handshake_timeout), rethrow);
    auto [hec] = co_await c->stream.async_handshake(asio::ssl::stream_base::server, kTuple);
    c->watchdog.cancel();
    const pki::PeerIdentity identity = pki::peer_identity(c->stream.native_handle());
    if (hec || identity.verdict != pki::PinVerdict::accepted || !identity.certificate) {
      c->close();
      handler.on_refused(identity, source);
      co_return;
    }
    const std::uint64_t id = ++next_id;
    c->peer = identity.certificate->fingerprint();
    live.emplace(id, c);
    handler.on_peer_connected(*identity.certificate, source);
    std::array<char, 4096> buffer;
    std::string pending;
    for (;;) {
      c->watchdog.expires_after(limits.idle_timeout);
      asio::co_spawn(io, [c]() -> asio::awaitable<void> {
        auto [ec] = co_await c->watchdog.async_wait(kTuple);
        if (!ec) c->close();
      }, rethrow);
      auto [ec, n] = co_await c->stream.async_read_some(asio::buffer(buffer), kTuple);
      c->watchdog.cancel();
      if (ec) break;
      pending.append(buffer.data(), n);
      // Keep-alive pings: answer each "\r\n\r\n" with "\r\n".
      std::size_t pos;
      while ((pos = pending.find("\r\n\r\n")) != std::string::npos) {
        pending.erase(0, pos + 4);
        auto [wec, wn] = co_await asio::async_write(c->stream, asio::buffer(std::string_view("\r\n")), kTuple);
        if (wec) break;
      }
      if (pending.size() > 65536) break;  // nothing else is spoken yet
    }
    c->close();
    live.erase(id);
    handler.on_peer_disconnected(*c->peer);
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
      if (pec) continue;
      if (live.size() >= limits.max_connections) {
        socket.close(pec);
        continue;
      }
      auto c = std::make_shared<PeerConnection>(TlsStream(std::move(socket), ssl));
      asio::co_spawn(io, serve(c, endpoint_of(peer)), rethrow);
    }
  }

  asio::io_context& io;
  asio::ssl::context ssl;
  FederationHandler& handler;
  Limits limits;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::map<std::uint64_t, std::shared_ptr<PeerConnection>> live;
  std::uint64_t next_id = 0;
};

FederationListener::FederationListener(asio::io_context& io, SSL_CTX* server_ctx, FederationHandler& handler,
                                       Limits limits)
    : impl_(std::make_unique<Impl>(io, server_ctx, handler, limits)) {}

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
  asio::co_spawn(impl_->io, impl_->accept_loop(), rethrow);
  return {};
}

sip::Endpoint FederationListener::local_endpoint() const {
  boost::system::error_code ec;
  if (!impl_->acceptor) return {};
  const auto ep = impl_->acceptor->local_endpoint(ec);
  return ec ? sip::Endpoint{} : endpoint_of(ep);
}

std::size_t FederationListener::disconnect(const pki::Fingerprint& peer) {
  std::size_t n = 0;
  for (auto& [id, c] : impl_->live) {
    if (c->peer && *c->peer == peer) {
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
}

}  // namespace sipsite::transport
