#include <sipsite/transport/sip_transport.hpp>

#include <sipsite/sip/message/parser.hpp>
#include <sipsite/sip/message/response.hpp>
#include <sipsite/sip/message/stream_framer.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/throw_exception.hpp>

#include <array>
#include <map>
#include <stdexcept>
#include <unordered_map>

#include "asio_util.hpp"
#include "stream_frames.hpp"
#include "stream_session.hpp"
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

// A LAN connection in the flow table: its session and who it is with.
struct Connection {
  virtual ~Connection() = default;
  // False when the message is not queued (closed, or its queue is full).
  virtual bool enqueue(std::string bytes) = 0;
  virtual void close() = 0;

  sip::FlowId id = 0;
  sip::Endpoint remote;
  sip::Endpoint local;
};

template <class Stream>
struct StreamConnection final : Connection {
  explicit StreamConnection(std::shared_ptr<StreamSession<Stream>> s) : session(std::move(s)) {}
  bool enqueue(std::string bytes) override { return session->enqueue(std::move(bytes)); }
  void close() override { session->close(); }

  std::shared_ptr<StreamSession<Stream>> session;
};

}  // namespace

struct SipTransport::Impl {
  Impl(asio::io_context& io_, Limits limits_, InboundHandler& handler_, sip::Counters& counters_, SSL_CTX* tls_)
      : io(io_),
        limits(limits_),
        handler(handler_),
        counters(counters_),
        tls(tls_ ? std::make_unique<asio::ssl::context>(tls_) : nullptr) {
    if (tls) SSL_CTX_up_ref(tls_);  // asio::ssl::context frees the handle it wraps
  }

  // The LAN's own part of a stream connection: the TLS handshake, then
  // framing what arrives, with the idle, handshake and message deadlines.
  template <class Stream>
  asio::awaitable<void> run_reader(std::shared_ptr<StreamConnection<Stream>> c) {
    StreamSession<Stream>& session = *c->session;
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      session.set_deadline(Clock::now() + limits.handshake_timeout);
      auto [ec] = co_await session.stream().async_handshake(asio::ssl::stream_base::server, kTuple);
      if (ec) {
        session.close();
        co_return;
      }
    }
    sip::StreamFramer framer(limits.parse);
    std::array<char, 8192> buffer;
    // A message must arrive whole within message_timeout of its first byte:
    // otherwise a sender trickling one byte per idle period (slowloris)
    // would hold the connection forever.
    std::optional<Clock::time_point> partial_since;
    while (!session.closing()) {
      auto deadline = Clock::now() + limits.idle_timeout;
      if (partial_since) deadline = std::min(deadline, *partial_since + limits.message_timeout);
      session.set_deadline(deadline);
      auto [ec, n] = co_await session.stream().async_read_some(asio::buffer(buffer), kTuple);
      if (ec) break;
      framer.feed(std::string_view(buffer.data(), n));
      const FramesOutcome outcome = drain_frames(
          framer,
          [&](sip::Message&& m) {
            handler.on_message(sip::Inbound{std::move(m), c->remote, c->id, c->local, {}});
          },
          [&](std::string reply) { session.enqueue(std::move(reply)); }, [&] { counters.parse_error(); },
          [&] { return session.closed(); });
      if (outcome == FramesOutcome::lost) session.close_after_flush();  // framing is lost: answer, then close
      if (framer.buffered() == 0) {
        partial_since.reset();
      } else if (!partial_since) {
        partial_since = Clock::now();
      }
    }
    if (!session.closing()) session.close();  // else the writer closes once the answer is out
  }

  template <class Stream>
  std::shared_ptr<Connection> adopt(Stream stream, const sip::Endpoint& remote, const sip::Endpoint& local) {
    auto session = std::make_shared<StreamSession<Stream>>(
        std::move(stream), StreamSessionSettings{limits.max_queued_bytes, limits.write_timeout});
    auto c = std::make_shared<StreamConnection<Stream>>(session);
    c->id = ++next_flow;
    c->remote = remote;
    c->local = local;
    connections.emplace(c->id, c);
    per_ip[c->remote.host] += 1;
    counters.connection_opened();
    counters.set_connections(static_cast<std::int64_t>(connections.size()));
    const sip::FlowId id = c->id;
    const std::string ip = c->remote.host;
    session->start(tasks);
    // The reader owns the connection's place in the table; however it ends
    // (an escaped exception included), the connection leaves it and closes,
    // unless the writer is sending its last answer.
    tasks.spawn(run_reader(c), [this, c, id, ip] {
      if (!c->session->closing()) c->close();
      forget(id, ip);
    });
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
        adopt(TlsStream(std::move(socket), *tls), remote, local);
      } else {
        adopt(std::move(socket), remote, local);
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
    // An IPv6 socket reaches IPv4 peers through mapped addresses only if
    // it is dual-stack; prefer a socket of the same family. (The family as
    // bound, not asked of the kernel for every datagram sent.)
    for (std::size_t i = 0; i < udp_sockets.size(); ++i) {
      if (udp_socket_v4[i] == dest.is_v4()) return udp_sockets[i];
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
    if (!adopt(std::move(socket), to.endpoint, local)->enqueue(std::move(bytes))) handler.on_send_failed(to);
  }

  asio::io_context& io;
  Limits limits;
  InboundHandler& handler;
  sip::Counters& counters;
  std::unique_ptr<asio::ssl::context> tls;
  std::vector<std::shared_ptr<UdpBatchSocket>> udp_sockets;
  std::vector<bool> udp_socket_v4;  // each socket's family, as bound
  std::vector<std::pair<std::shared_ptr<tcp::acceptor>, sip::Protocol>> acceptors;
  std::map<sip::FlowId, std::shared_ptr<Connection>> connections;
  std::unordered_map<std::string, std::size_t> per_ip;
  sip::FlowId next_flow = 0;
  bool stopped = false;
  async::TaskGroup tasks{io.get_executor(), "sip"};
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
    im.udp_socket_v4.push_back(addr.is_v4());
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
  for (auto& socket : im.udp_sockets) im.tasks.spawn(im.udp_loop(socket));
  for (auto& [acceptor, protocol] : im.acceptors) im.tasks.spawn(im.accept_loop(acceptor, protocol));
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
    // Closing, or the phone stopped reading: a transport error to the core
    // (RFC 3261 §8.1.3.1), like a connection that cannot be opened.
    if (!c->enqueue(std::move(bytes))) im.handler.on_send_failed(to);
    return;
  }
  if (to.endpoint.protocol == sip::Protocol::tcp) {
    // The flow is gone or there never was one: open a connection.
    im.tasks.spawn(im.connect_and_send(sip::Destination{to.endpoint, 0}, std::move(bytes)));
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
  // Sockets closed; what still awaits something else ends now too.
  im.tasks.cancel();
}

boost::asio::awaitable<bool> SipTransport::join(std::chrono::steady_clock::duration deadline) {
  co_return co_await impl_->tasks.join(deadline);
}

std::size_t SipTransport::connection_count() const { return impl_->connections.size(); }

}  // namespace sipsite::transport
