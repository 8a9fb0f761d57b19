#pragma once
// SIP over UDP, TCP and TLS on the LAN listeners (RFC 3261 §18).
//
// Frames and parses what arrives (answering malformed requests with the
// SIP core's error responses), answers CRLF keep-alive pings (RFC 5626
// §3.5.1), and hands every well-formed message to the InboundHandler. Sends
// what the core asks for, reusing the connection a message came in on
// (FlowId), opening TCP connections when none is open. Enforces connection
// limits (total, per source IP) and idle/handshake timeouts.
//
// Threading: everything runs on the io_context given to the constructor,
// which must be run by one thread; the handler is called on it.

#include <sipsite/pki/host_port.hpp>
#include <sipsite/sip/counters.hpp>
#include <sipsite/sip/io.hpp>
#include <sipsite/sip/message/limits.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

using SSL_CTX = struct ssl_ctx_st;

namespace sipsite::transport {

struct Limits {
  std::size_t max_connections = 4096;
  std::size_t max_connections_per_ip = 64;
  // Phones keep TCP/TLS flows alive with CRLF pings (RFC 5626 suggests every
  // 95-120 s); a flow silent for longer than this is closed.
  std::chrono::seconds idle_timeout{300};
  std::chrono::seconds handshake_timeout{10};
  // From the first byte of a message to its last (slowloris defence).
  std::chrono::seconds message_timeout{30};
  // Per TCP/TLS connection: bytes queued for writing beyond this close it
  // (a phone that stopped reading must not grow our memory), and so does
  // one write that takes longer than write_timeout. Not configurable.
  std::size_t max_queued_bytes = 4u << 20;
  std::chrono::seconds write_timeout{30};
  sip::ParseLimits parse{};
};

struct Listeners {
  std::vector<pki::HostPort> udp;
  std::vector<pki::HostPort> tcp;
  std::vector<pki::HostPort> tls;
};

class InboundHandler {
 public:
  virtual ~InboundHandler() = default;
  // A well-formed message (not yet validated beyond framing and parsing).
  virtual void on_message(sip::Inbound inbound) = 0;
  // A TCP/TLS connection closed; its FlowId will not be used again.
  virtual void on_flow_closed(sip::FlowId flow) = 0;
  // A send could not be done (no connection, connect failed).
  virtual void on_send_failed(const sip::Destination& to) = 0;
};

struct TransportError {
  std::string message;
};
[[noreturn]] void throw_exception_from_error(const TransportError& e, const boost::source_location& loc);

class SipTransport final {
 public:
  // `tls` (may be null when no TLS listener is configured) is borrowed and
  // must outlive the transport.
  SipTransport(boost::asio::io_context& io, Limits limits, InboundHandler& handler, sip::Counters& counters,
               SSL_CTX* tls);
  ~SipTransport();

  // Binds every listener; the first failure (address in use, bad address)
  // is an error naming the listener, and nothing stays bound.
  boost::system::result<void, TransportError> listen(const Listeners& listeners);
  // The bound listeners, with ports resolved when 0 was asked for.
  std::vector<sip::Endpoint> local_endpoints() const;

  void send(const sip::Destination& to, std::string bytes);
  void close_flow(sip::FlowId flow);
  // Closes listeners and connections. Idempotent.
  void stop();
  // After stop(): waits until every task has unwound (each cancelled one
  // ends at its next await) or `deadline` has passed; true when all ended.
  boost::asio::awaitable<bool> join(std::chrono::steady_clock::duration deadline);

  std::size_t connection_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sipsite::transport
