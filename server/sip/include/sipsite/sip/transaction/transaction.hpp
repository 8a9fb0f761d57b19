#pragma once
// The transaction layer (RFC 3261 §17, with the RFC 6026 "Accepted" states):
// INVITE and non-INVITE client and server transactions, their timers A–K
// (and L, M of RFC 6026), retransmission on unreliable transports only,
// absorption of retransmitted requests and of ACKs for non-2xx responses,
// hop-by-hop ACK generation for non-2xx final responses.
//
// Sans-I/O: it sends through Sender, waits through Timers, and reports to
// its TransactionUser (the routing core). Transactions are named by ids;
// an id of a terminated transaction is simply unknown afterwards, so a TU
// holding a stale id does no harm (every call taking an id ignores unknown
// ones). Terminated transactions are freed at once: alive() and the
// Counters' transactions gauge count what is in memory.
//
// Memory: a transaction that has its final response keeps only what
// absorbing retransmissions needs (its key, where to answer, and the last
// response's bytes while it may have to send them again); the request a
// client transaction sent is dropped once it is answered. The number of
// live transactions is capped (TransactionLimits): beyond the cap a new
// request is not given a transaction (ServerRequest::Kind::overloaded) and
// the TU answers it statelessly (503 with Retry-After), so a flood cannot
// grow memory without bound.
//
// Thread safety: none; everything runs on the SIP strand (io.hpp). The TU
// callbacks may call back into the layer (start a CANCEL, send a response).

#include "sipsite/sip/counters.hpp"
#include "sipsite/sip/io.hpp"
#include "sipsite/sip/message/message.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sipsite::sip {

// RFC 3261 §17.1.1.1 / Table 4. Every other timer derives from these.
struct TimerSettings {
  Duration t1{500};
  Duration t2{4000};
  Duration t4{5000};

  [[nodiscard]] Duration timeout() const { return t1 * 64; }  // B, F, H, J, L, M
  [[nodiscard]] Duration timer_d() const { return std::max(Duration{32000}, timeout() / 2); }
};

// How many transactions (client + server) may be alive at once; requests
// that would start a server transaction beyond it are refused. REGISTER,
// CANCEL and requests inside a dialog (a To tag) may use an eighth more, so
// that during a flood of new INVITEs phones still register and hang up.
// The default is sized for the documented memory cap (docs/ARCHITECTURE.md).
struct TransactionLimits {
  std::size_t max_transactions = 500000;

  [[nodiscard]] std::size_t limit_for(const Message& request) const;
};

using ClientTransactionId = std::uint64_t;  // 0 is never a valid id
using ServerTransactionId = std::uint64_t;

enum class TransactionError : std::uint8_t {
  timeout,    // Timer B, F (client) or H (server: no ACK for a non-2xx final)
  transport,  // the transport reported a failed send, or the flow closed
};

// What the layer tells the one above it (the routing core).
class TransactionUser {
 public:
  virtual ~TransactionUser() = default;
  // A response matched a client transaction and is for the TU: every 1xx,
  // every 2xx (for INVITE also retransmissions and other 2xx that arrive
  // while the transaction is Accepted, RFC 6026), and the first non-2xx
  // final (its retransmissions are absorbed and ACKed here).
  virtual void on_response(ClientTransactionId id, const Inbound& response) = 0;
  // The client transaction failed without a final response and is gone.
  virtual void on_client_error(ClientTransactionId id, TransactionError error) = 0;
  // A server transaction failed (Timer H, or its response could not be
  // sent) and is gone.
  virtual void on_server_error(ServerTransactionId id, TransactionError error) = 0;
};

// What receive_request() made of a request.
struct ServerRequest {
  enum class Kind : std::uint8_t {
    new_transaction,  // a new server transaction `id`: the TU must answer it (or abandon it)
    absorbed,         // a retransmission or a non-2xx ACK, fully handled here
    ack,              // an ACK that matched no transaction in Completed state: for the TU (2xx ACK)
    overloaded,       // a new request, but the transaction cap is reached: answer it with send_stateless()
  };
  Kind kind = Kind::absorbed;
  ServerTransactionId id = 0;
};

class TransactionLayer {
 public:
  // `clock`, when given, times each transaction to its final response for
  // the Counters' duration histogram (the timers need no clock of their own).
  TransactionLayer(TimerSettings settings, TransactionUser& user, Sender& sender, Timers& timers, Counters& counters,
                   const Clock* clock = nullptr, TransactionLimits limits = {});
  ~TransactionLayer();
  TransactionLayer(const TransactionLayer&) = delete;
  TransactionLayer& operator=(const TransactionLayer&) = delete;

  // --- server side (requests in, responses out)

  // Matches a validated request (RFC 3261 §17.2.3: top Via branch, sent-by
  // and method, ACK matching its INVITE; the RFC 2543 fallback uses
  // Call-ID, From tag, CSeq and the top Via). Retransmissions re-send the
  // last response. The request's top Via should already carry received/
  // rport (§18.2.1): responses go to the source address (its port when the
  // Via had rport, the sent-by port otherwise) on UDP, and on the same flow
  // on TCP/TLS.
  ServerRequest receive_request(const Inbound& request);

  // Sends a response on server transaction `id` and moves it along its
  // state machine. A 2xx to an INVITE may be sent again (and other 2xx
  // sent) while the transaction is Accepted. Returns false for an unknown
  // id or a response the state does not allow (then nothing is sent).
  bool send_response(ServerTransactionId id, const Message& response);

  // Sends `response` to `request` without a transaction, where a server
  // transaction would have answered it (§18.2.2); for requests that got
  // ServerRequest::Kind::overloaded.
  void send_stateless(const Inbound& request, const Message& response);

  // The INVITE server transaction a CANCEL refers to (§9.2: same branch,
  // sent-by and Request-URI matching rules), or 0.
  [[nodiscard]] ServerTransactionId find_invite_for_cancel(const Message& cancel) const;

  // Terminates a server transaction without answering (e.g. the TU chose to
  // drop a request). Unknown ids are ignored.
  void abandon_server(ServerTransactionId id);

  // Whether server transaction `id` still exists / has sent a final response.
  [[nodiscard]] bool server_alive(ServerTransactionId id) const;
  [[nodiscard]] bool server_final_sent(ServerTransactionId id) const;

  // --- client side (requests out, responses in)

  // Starts a client transaction for `request` (its top Via must carry a
  // fresh RFC 3261 branch) towards `to`, and sends it. INVITE starts an
  // INVITE transaction; ACK is not allowed (send 2xx ACKs directly).
  // Returns 0 if the request has no usable top Via/CSeq.
  ClientTransactionId start_client(Message request, Destination to);

  // Offers a validated response to the client transactions (§17.1.3: top
  // Via branch and CSeq method). Returns false when none matched (a stray
  // response: the TU decides, e.g. forwards a 2xx to INVITE statelessly).
  bool receive_response(const Inbound& response);

  // Terminates a client transaction silently (e.g. the proxy's Timer C gave
  // up on it). Unknown ids are ignored.
  void abandon_client(ClientTransactionId id);

  [[nodiscard]] bool client_alive(ClientTransactionId id) const;

  // --- transport feedback (§17.1.4, §17.2.4)

  // A send to `to` failed (connection refused or gone, ICMP unreachable).
  // Client transactions sending there fail with TransactionError::transport
  // (the TU treats it as a 503); server transactions answering there are
  // terminated and reported. A Destination with a flow matches by flow,
  // otherwise by endpoint.
  void on_send_failed(const Destination& to);
  // A TCP/TLS connection closed: client transactions waiting for responses
  // on it can never complete and fail with TransactionError::transport.
  void on_flow_closed(FlowId flow);

  // Transactions in memory, client + server.
  [[nodiscard]] std::size_t alive() const { return clients_.size() + servers_.size(); }
  [[nodiscard]] std::size_t clients_alive() const { return clients_.size(); }
  [[nodiscard]] std::size_t servers_alive() const { return servers_.size(); }
  // After a burst: the maps' bucket arrays, left at their high-water mark,
  // shrink to what is live (common/hash_map.hpp).
  void compact();

  [[nodiscard]] const TimerSettings& settings() const { return settings_; }
  [[nodiscard]] const TransactionLimits& limits() const { return limits_; }

  // The ACK for a non-2xx final response to `invite` (§17.1.1.3) and the
  // CANCEL for `invite` (§9.1); exposed for the core and for tests.
  [[nodiscard]] static Message make_ack(const Message& invite, const Message& response);
  [[nodiscard]] static Message make_cancel(const Message& invite);

  struct ClientTx;
  struct ServerTx;

 private:
  void terminate_client(ClientTransactionId id);
  void terminate_server(ServerTransactionId id);
  void update_gauge();
  void client_timer(ClientTransactionId id, int which);
  void server_timer(ServerTransactionId id, int which);
  void fail_client(ClientTransactionId id, TransactionError error);

  TimerSettings settings_;
  TransactionLimits limits_;
  TransactionUser& user_;
  Sender& sender_;
  Timers& timers_;
  Counters& counters_;
  const Clock* clock_;
  std::uint64_t next_id_ = 0;
  std::unordered_map<ClientTransactionId, std::unique_ptr<ClientTx>> clients_;
  std::unordered_map<std::string, ClientTransactionId> client_keys_;
  std::unordered_map<ServerTransactionId, std::unique_ptr<ServerTx>> servers_;
  std::unordered_map<std::string, ServerTransactionId> server_keys_;
};

}  // namespace sipsite::sip
