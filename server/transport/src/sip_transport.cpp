#include <sipsite/transport/sip_transport.hpp>

#include <sipsite/sip/parser.hpp>
#include <sipsite/sip/response.hpp>
#include <sipsite/sip/stream_framer.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/throw_exception.hpp>

#include <array>
#include <deque>
#include <map>
#include <stdexcept>
#include <unordered_map>

#include "asio_util.hpp"
#include "stream_frames.hpp"
#include "udp_batch_socket.hpp"

namespace sipsite::transport {

using namespace detail;
using udp = asio::ip::udp;
using Clock = std::chrono::steady_clock;

void throw_exception_from_error(const TransportError& e, const boost::source_location& loc) {
  boost::throw_with_location(std::runtime_error(e.message), loc);
}

namespace {

constexpr int kUdpReceiveBuffer = 4 << 20;

tcp::socket& lowest(tcp::socket& s) { return s; }
tcp::socket& lowest(TlsStream& s) { return s.next_layer(); }

struct Connection {
  virtual ~Connection() = default;
  virtual void enqueue(std::string bytes) = 0;
  virtual void close() = 0;

  sip::FlowId id = 0;
  sip::Endpoint remote;
  sip::Endpoint local;
};

}  // namespace

struct SipTransport::Impl {
  Impl(asio::io_context& io_, Limits limits_, InboundHandler& handler_, sip::Counters& counters_, SSL_CTX* tls_)
      : io(io_), limits(limits_), handler(handler_), counters(counters_), tls(tls_ ? std::make_unique<asio::ssl::context>(tls_) : nullptr) {
    if (tls) SSL_CTX_up_ref(tls_);  // asio::ssl::context frees the handle it wraps
  }

  template <class Stream>
  struct StreamConnection final : Connection {
    StreamConnection(Impl& owner_, Stream s)
        : owner(owner_), stream(std::move(s)), wake(owner_.io), watchdog(owner_.io) {}

    void enqueue(std::string bytes) override {
      if (closed) return;
      outbox.push_back(std::move(bytes));
      wake.cancel_one();
    }
    void close() override {
      if (closed) return;
      closed = true;
      boost::system::error_code ec;
      lowest(stream).shutdown(tcp::socket::shutdown_both, ec);
      lowest(stream).close(ec);
      wake.cancel();
      watchdog.cancel();
    }

    Impl& owner;
    Stream stream;
    asio::steady_timer wake;       // signals the writer that the outbox has data
    asio::steady_timer watchdog;   // handshake and idle deadline
    Clock::time_point deadline = Clock::time_point::max();
    std::deque<std::string> outbox;
    bool closed = false;
    bool close_after_flush = false;
  };

  template <class Stream>
  asio::awaitable<void> run_writer(std::shared_ptr<StreamConnection<Stream>> c) {
    while (!c->closed) {
      if (c->outbox.empty()) {
        if (c->close_after_flush) break;
        c->wake.expires_at(Clock::time_point::max());
        co_await c->wake.async_wait(kTuple);
        continue;
      }
      auto [ec, n] = co_await asio::async_write(c->stream, asio::buffer(c->outbox.front()), kTuple);
      if (ec) break;
      c->outbox.pop_front();
    }
    c->close();
  }

  template <class Stream>
  asio::awaitable<void> run_watchdog(std::shared_ptr<StreamConnection<Stream>> c) {
    while (!c->closed) {
      c->watchdog.expires_at(c->deadline);
      co_await c->watchdog.async_wait(kTuple);
      if (!c->closed && Clock::now() >= c->deadline) c->close();
    }
  }

  template <class Stream>
  asio::awaitable<void> run_reader(std::shared_ptr<StreamConnection<Stream>> c) {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      c->deadline = Clock::now() + limits.handshake_timeout;
      c->watchdog.cancel();
      auto [ec] = co_await c->stream.async_handshake(asio::ssl::stream_base::server, kTuple);
      if (ec) {
        c->close();
        co_return;
      }
    }
    sip::StreamFramer framer(limits.parse);
    std::array<char, 8192> buffer;
    // A message must arrive whole within message_timeout of its first byte:
    // otherwise a sender trickling one byte per idle period (slowloris)
    // would hold the connection forever.
    std::optional<Clock::time_point> partial_since;
    while (!c->closed && !c->close_after_flush) {
      const auto armed = c->deadline;
      c->deadline = Clock::now() + limits.idle_timeout;
      if (partial_since) c->deadline = std::min(c->deadline, *partial_since + limits.message_timeout);
      if (c->deadline < armed) c->watchdog.cancel();  // the watchdog re-arms at the earlier deadline
      auto [ec, n] = co_await c->stream.async_read_some(asio::buffer(buffer), kTuple);
      if (ec) break;
      framer.feed(std::string_view(buffer.data(), n));
      const FramesOutcome outcome = drain_frames(
          framer,
          [&](sip::Message&& m) { handler.on_message(sip::Inbound{std::move(m), c->remote, c->id, c->local, {}}); },
          [&](std::string reply) { c->enqueue(std::move(reply)); }, [&] { counters.parse_error(); },
          [&] { return c->closed; });
      if (outcome == FramesOutcome::lost) {
        c->close_after_flush = true;  // framing is lost: answer, then close
        c->wake.cancel_one();
      }
      if (framer.buffered() == 0) {
        partial_since.reset();
      } else if (!partial_since) {
        partial_since = Clock::now();
      }
    }
    if (!c->close_after_flush) c->close();
  }

  template <class Stream>
  std::shared_ptr<Connection> adopt(Stream stream, sip::Endpoint remote, sip::Endpoint local) {
    auto c = std::make_shared<StreamConnection<Stream>>(*this, std::move(stream));
    c->id = ++next_flow;
    c->remote = std::move(remote);
    c->local = std::move(local);
    connections.emplace(c->id, c);
    per_ip[c->remote.host] += 1;
    counters.connection_opened();
    counters.set_connections(static_cast<std::int64_t>(connections.size()));
    const sip::FlowId id = c->id;
    const std::string ip = c->remote.host;
    // The reader owns the connection's lifetime in the table.
    asio::co_spawn(io, run_reader(c), [this, id, ip](std::exception_ptr e) {
      forget(id, ip);
      rethrow(e);
    });
    asio::co_spawn(io, run_writer(c), rethrow);
    asio::co_spawn(io, run_watchdog(c), rethrow);
    return c;
  }

  void forget(sip::FlowId id, const std::string& ip) {
    if (connections.erase(id) == 0) return;
    if (auto it = per_ip.find(ip); it != per_ip.end() && --it->second == 0) per_ip.erase(it);
    counters.connection_closed();
    counters.set_connections(static_cast<std::int64_t>(connections.size()));
    handler.on_flow_closed(id);
  }

  bool admit(const std::string& ip) {
    if (connections.size() >= limits.max_connections) return false;
    auto it = per_ip.find(ip);
    return it == per_ip.end() || it->second < limits.max_connections_per_ip;
  }

  asio::awaitable<void> accept_loop(std::shared_ptr<tcp::acceptor> acceptor, sip::Protocol protocol) {
    const auto local_ep = acceptor->local_endpoint();
    while (acceptor->is_open()) {
      auto [ec, socket] = co_await acceptor->async_accept(kTuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor->is_open()) break;
        continue;  // EMFILE, ECONNABORTED…: keep serving
      }
      boost::system::error_code ep_ec;
      const auto peer = socket.remote_endpoint(ep_ec);
      if (ep_ec) continue;
      sip::Endpoint remote = endpoint_of(protocol, peer.address(), peer.port());
      if (!admit(remote.host)) {
        counters.connection_refused();
        socket.close(ep_ec);
        continue;
      }
      socket.set_option(tcp::no_delay(true), ep_ec);
      sip::Endpoint local = endpoint_of(protocol, local_ep.address(), local_ep.port());
      if (protocol == sip::Protocol::tls) {
        adopt(TlsStream(std::move(socket), *tls), std::move(remote), std::move(local));
      } else {
        adopt(std::move(socket), std::move(remote), std::move(local));
      }
    }
  }

  // One wake-up per batch: wait until the socket is readable, then read
  // (recvmmsg) until its queue runs empty, letting other work (timers, TCP)
  // run after every few full batches; what the core sends meanwhile leaves
  // in one sendmmsg per batch. The queue is always read until it runs
  // empty before waiting again: readiness is reported on new data only
  // (Asio's epoll is edge-triggered).
  asio::awaitable<void> udp_loop(std::shared_ptr<UdpBatchSocket> s) {
    constexpr int kBatchesPerWakeUp = 4;
    udp::socket& socket = s->socket();
    const auto local_ep = socket.local_endpoint();
    const sip::Endpoint local = endpoint_of(sip::Protocol::udp, local_ep.address(), local_ep.port());
    const auto on_datagram = [&](std::string_view bytes, const udp::endpoint& from) {
      if (bytes.find_first_not_of("\r\n") == std::string_view::npos) return;  // keep-alive
      const sip::Endpoint source = endpoint_of(sip::Protocol::udp, from.address(), from.port());
      auto parsed = sip::parse_datagram(bytes, limits.parse);
      if (!parsed) {
        counters.parse_error();
        if (auto reply = sip::make_error_response(bytes, parsed.error())) s->send(from, std::move(*reply));
        return;
      }
      handler.on_message(sip::Inbound{std::move(*parsed), source, 0, local, {}});
    };
    while (socket.is_open()) {
      auto [ec] = co_await socket.async_wait(udp::socket::wait_read, kTuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !socket.is_open()) break;
        continue;
      }
      int batches = 0;
      while (socket.is_open()) {
        const std::size_t n = s->receive_batch(on_datagram);
        s->flush();
        if (n < kUdpBatch) break;  // the queue ran empty
        if (++batches == kBatchesPerWakeUp) {
          batches = 0;
          co_await asio::post(io, asio::use_awaitable);
        }
      }
    }
  }

  std::shared_ptr<UdpBatchSocket> udp_socket_for(const asio::ip::address& dest) {
    for (auto& s : udp_sockets) {
      boost::system::error_code ec;
      const auto local = s->socket().local_endpoint(ec);
      if (ec) continue;
      // An IPv6 socket reaches IPv4 peers through mapped addresses only if
      // it is dual-stack; prefer a socket of the same family.
      if (local.address().is_v4() == dest.is_v4()) return s;
    }
    return nullptr;
  }

  void send_udp(const sip::Destination& to, std::string bytes) {
    boost::system::error_code ec;
    const auto addr = asio::ip::make_address(to.endpoint.host, ec);
    auto socket = ec ? nullptr : udp_socket_for(addr);
    if (!socket) {
      handler.on_send_failed(to);
      return;
    }
    socket->send(udp::endpoint(addr, to.endpoint.port), std::move(bytes));
  }

  Connection* find_connection(const sip::Destination& to) {
    if (to.flow != 0) {
      auto it = connections.find(to.flow);
      return it == connections.end() ? nullptr : it->second.get();
    }
    for (auto& [id, c] : connections) {
      if (c->remote == to.endpoint) return c.get();
    }
    return nullptr;
  }

  asio::awaitable<void> connect_and_send(sip::Destination to, std::string bytes) {
    boost::system::error_code ec;
    const auto addr = asio::ip::make_address(to.endpoint.host, ec);
    if (ec || !admit(to.endpoint.host)) {
      handler.on_send_failed(to);
      co_return;
    }
    tcp::socket socket(io);
    asio::steady_timer deadline(io, limits.handshake_timeout);
    deadline.async_wait([&socket](const boost::system::error_code& e) {
      if (!e) {
        boost::system::error_code ignored;
        socket.close(ignored);
      }
    });
    auto [cec] = co_await socket.async_connect(tcp::endpoint(addr, to.endpoint.port), kTuple);
    deadline.cancel();
    if (cec || !socket.is_open()) {
      handler.on_send_failed(to);
      co_return;
    }
    const auto local_ep = socket.local_endpoint(ec);
    sip::Endpoint local = endpoint_of(sip::Protocol::tcp, local_ep.address(), local_ep.port());
    adopt(std::move(socket), to.endpoint, std::move(local))->enqueue(std::move(bytes));
  }

  asio::io_context& io;
  Limits limits;
  InboundHandler& handler;
  sip::Counters& counters;
  std::unique_ptr<asio::ssl::context> tls;
  std::vector<std::shared_ptr<UdpBatchSocket>> udp_sockets;
  std::vector<std::pair<std::shared_ptr<tcp::acceptor>, sip::Protocol>> acceptors;
  std::map<sip::FlowId, std::shared_ptr<Connection>> connections;
  std::unordered_map<std::string, std::size_t> per_ip;
  sip::FlowId next_flow = 0;
  bool stopped = false;
};

SipTransport::SipTransport(asio::io_context& io, Limits limits, InboundHandler& handler, sip::Counters& counters,
                           SSL_CTX* tls)
    : impl_(std::make_unique<Impl>(io, limits, handler, counters, tls)) {}

SipTransport::~SipTransport() { stop(); }

boost::system::result<void, TransportError> SipTransport::listen(const Listeners& listeners) {
  Impl& im = *impl_;
  const auto fail = [&](std::string_view what, const pki::HostPort& hp, const boost::system::error_code& ec) {
    stop();
    return TransportError{"cannot listen on sip/" + std::string(what) + " " + hp.to_string() + ": " + ec.message()};
  };
  for (const auto& hp : listeners.udp) {
    boost::system::error_code ec;
    const auto addr = asio::ip::make_address(hp.host, ec);
    if (ec) return fail("udp", hp, ec);
    auto batch = std::make_shared<UdpBatchSocket>(im.io);
    im.udp_sockets.push_back(batch);
    udp::socket* socket = &batch->socket();
    const udp::endpoint ep(addr, hp.port);
    socket->open(ep.protocol(), ec);
    if (!ec && addr.is_v6()) socket->set_option(asio::ip::v6_only(true), ec);
    if (!ec) socket->bind(ep, ec);
    if (ec) return fail("udp", hp, ec);
    // Bursts (call setup storms, a rebooting office of phones) must not
    // overflow the kernel's default ~200 KiB queue: ask for 4 MiB (the kernel
    // caps it at net.core.rmem_max; failing is harmless).
    boost::system::error_code ignored;
    socket->set_option(asio::socket_base::receive_buffer_size(kUdpReceiveBuffer), ignored);
  }
  for (const auto& [list, protocol, name] :
       {std::tuple{&listeners.tcp, sip::Protocol::tcp, "tcp"}, std::tuple{&listeners.tls, sip::Protocol::tls, "tls"}}) {
    for (const auto& hp : *list) {
      boost::system::error_code ec;
      if (protocol == sip::Protocol::tls && !im.tls) {
        return fail(name, hp, asio::error::make_error_code(asio::error::operation_not_supported));
      }
      const auto addr = asio::ip::make_address(hp.host, ec);
      if (ec) return fail(name, hp, ec);
      auto acceptor = std::make_shared<tcp::acceptor>(im.io);
      const tcp::endpoint ep(addr, hp.port);
      acceptor->open(ep.protocol(), ec);
      if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec && addr.is_v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
      if (!ec) acceptor->bind(ep, ec);
      if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
      if (ec) return fail(name, hp, ec);
      im.acceptors.emplace_back(acceptor, protocol);
    }
  }
  for (auto& socket : im.udp_sockets) asio::co_spawn(im.io, im.udp_loop(socket), rethrow);
  for (auto& [acceptor, protocol] : im.acceptors) asio::co_spawn(im.io, im.accept_loop(acceptor, protocol), rethrow);
  return {};
}

std::vector<sip::Endpoint> SipTransport::local_endpoints() const {
  std::vector<sip::Endpoint> out;
  boost::system::error_code ec;
  for (const auto& s : impl_->udp_sockets) {
    const auto ep = s->socket().local_endpoint(ec);
    if (!ec) out.push_back(endpoint_of(sip::Protocol::udp, ep.address(), ep.port()));
  }
  for (const auto& [a, protocol] : impl_->acceptors) {
    const auto ep = a->local_endpoint(ec);
    if (!ec) out.push_back(endpoint_of(protocol, ep.address(), ep.port()));
  }
  return out;
}

void SipTransport::send(const sip::Destination& to, std::string bytes) {
  Impl& im = *impl_;
  if (im.stopped) return;
  if (to.endpoint.protocol == sip::Protocol::udp) {
    im.send_udp(to, std::move(bytes));
    return;
  }
  if (Connection* c = im.find_connection(to)) {
    c->enqueue(std::move(bytes));
    return;
  }
  if (to.endpoint.protocol == sip::Protocol::tcp) {
    // The flow is gone or there never was one: open a connection.
    asio::co_spawn(im.io, im.connect_and_send(sip::Destination{to.endpoint, 0}, std::move(bytes)), rethrow);
    return;
  }
  // Phones do not accept TLS connections: a TLS flow that closed is gone
  // until the phone registers again.
  im.handler.on_send_failed(to);
}

void SipTransport::close_flow(sip::FlowId flow) {
  if (auto it = impl_->connections.find(flow); it != impl_->connections.end()) it->second->close();
}

void SipTransport::stop() {
  Impl& im = *impl_;
  if (im.stopped) return;
  im.stopped = true;
  boost::system::error_code ec;
  for (auto& s : im.udp_sockets) s->socket().close(ec);
  for (auto& [a, protocol] : im.acceptors) a->close(ec);
  for (auto& [id, c] : im.connections) c->close();
}

std::size_t SipTransport::connection_count() const { return impl_->connections.size(); }

}  // namespace sipsite::transport
