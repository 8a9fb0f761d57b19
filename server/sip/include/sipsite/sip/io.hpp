#pragma once
// How the sans-I/O SIP core meets the world. The core never opens a socket,
// reads a clock, starts a thread or touches the database: server/transport
// and server/app implement these interfaces, and tests substitute fakes
// (see manual_timers.hpp).
//
// Thread safety: the core and every callback it is given run on one thread
// (the SIP strand). Implementations must call back on that thread.

#include "sipsite/sip/message/message.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::sip {

enum class Protocol { udp, tcp, tls };

std::string_view to_string(Protocol p);        // "UDP", "TCP", "TLS" as in Via
std::string_view transport_param(Protocol p);  // "udp", "tcp", "tls" as in a URI's transport=
// A Via transport or URI transport= token, either case; nullopt for others (SCTP, WS…).
std::optional<Protocol> protocol_from_token(std::string_view token);
inline bool is_reliable(Protocol p) { return p != Protocol::udp; }
// The port a URI or Via without one means (RFC 3261 §19.1.2, §18.2.2).
constexpr std::uint16_t default_port(Protocol p) { return p == Protocol::tls ? 5061 : 5060; }

// A transport address. `host` is an IP literal without brackets.
struct Endpoint {
  Protocol protocol = Protocol::udp;
  std::string host;
  std::uint16_t port = 0;

  bool operator==(const Endpoint&) const = default;
};

// A TCP or TLS connection, as the transport numbers them; 0 means "none"
// (UDP, or let the transport pick or open a connection).
using FlowId = std::uint64_t;
// Federation links' flows have the top bit set (transport::FederationLinks
// numbers them so), so a link and a LAN connection never share a number and
// the edge can tell a peer site's flow from a phone's.
constexpr FlowId kFederationFlowBit = FlowId{1} << 63;
constexpr bool is_federation_flow(FlowId flow) { return (flow & kFederationFlowBit) != 0; }

// Where to send: the endpoint, and the connection to reuse if it is still
// open (responses go back on the flow the request came in on; requests to a
// phone registered over TCP/TLS go on the flow it registered on).
struct Destination {
  Endpoint endpoint;
  FlowId flow = 0;
};

// A message as it arrived.
struct Inbound {
  Message message;
  Endpoint source;  // the packet's real source (NAT-mapped address)
  FlowId flow = 0;
  Endpoint local;  // the listener it arrived on
  // The domain of the trusted peer site it came from over a federation
  // link (identity proven by the pinned certificate); empty for the LAN.
  std::string peer;
};

// A message on its way out, serialized once. Whoever sends holds the
// message for the duration of Sender::send(); the stages a send passes
// through (the signaling tap, media anchoring, edge privacy) read message()
// and, to change it, edit() a copy, so the sender's own stays as it made it
// (a client transaction builds its ACK and CANCEL from it). wire() makes the
// bytes once, from the message as it then is: no stage parses what the core
// made, and the transaction layer keeps those bytes for retransmissions.
class Outgoing {
 public:
  explicit Outgoing(const Message& message) : original_(&message) {}

  [[nodiscard]] const Message& message() const { return edited_ ? *edited_ : *original_; }
  // The message as the sender made it, before any stage edited it.
  [[nodiscard]] const Message& original() const { return *original_; }
  // The message to change (a copy, made on first use); the bytes are made
  // again if they were made already.
  Message& edit();
  // The bytes for the wire.
  const std::string& wire();
  // A stage kept the message from leaving.
  void stop() { stopped_ = true; }
  [[nodiscard]] bool stopped() const { return stopped_; }
  // What to send again on a retransmission: the bytes that went out, or
  // nothing when a stage stopped the message.
  [[nodiscard]] std::string take_wire();

 private:
  const Message* original_;
  std::optional<Message> edited_;
  std::optional<std::string> wire_;
  bool stopped_ = false;
};

class Sender {
 public:
  virtual ~Sender() = default;
  // A message's first send: it passes the site's outbound stages, which may
  // edit or stop it (Outgoing::stop()), and leaves as out.wire().
  // Best effort: a failure to send (connection gone, ICMP) is reported to
  // the transaction layer by `on_send_failed` where it matters (RFC 3261
  // §17.1.4), never by an exception.
  virtual void send(const Destination& to, Outgoing& out) = 0;
  // A retransmission: bytes that send() put on the wire before
  // (Outgoing::take_wire()), sent as they are. No stage sees them again.
  virtual void send_wire(const Destination& to, std::string bytes) = 0;
};

using TimePoint = std::chrono::steady_clock::time_point;
using Duration = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

using TimerId = std::uint64_t;

class Timers {
 public:
  virtual ~Timers() = default;
  // Runs `fn` once after `delay` unless cancelled first. Never calls `fn`
  // from inside start().
  virtual TimerId start(Duration delay, std::function<void()> fn) = 0;
  // Cancelling an expired or unknown id is a no-op.
  virtual void cancel(TimerId id) = 0;
};

// Unpredictable values for branch parameters, tags, Call-IDs and nonces.
class Random {
 public:
  virtual ~Random() = default;
  virtual std::uint64_t next() = 0;
  // 16 lowercase hex digits from next(), handy for tags and branches.
  std::string token();
};

// --- What the core asks of the site's data (implemented by server/app over
// an in-memory snapshot of the store, so the SIP path never waits on disk).

struct UserCredentials {
  std::string username;
  std::string realm;
  std::string ha1_md5;     // lowercase hex
  std::string ha1_sha256;  // lowercase hex
};

class Directory {
 public:
  virtual ~Directory() = default;
  // The site's own domain: requests for it are local.
  virtual const std::string& local_domain() const = 0;
  virtual std::optional<UserCredentials> find_user(std::string_view username) const = 0;
};

}  // namespace sipsite::sip
