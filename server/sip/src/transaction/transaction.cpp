#include "sipsite/sip/transaction/transaction.hpp"
#include "sipsite/common/ascii.hpp"
#include "sipsite/common/hash_map.hpp"
#include "sipsite/sip/message/accessors.hpp"

#include <array>
#include <cctype>
#include <utility>
#include <vector>

namespace sipsite::sip {
namespace {

enum class State : std::uint8_t {
  calling,  // INVITE client, before any response
  trying,   // non-INVITE client and server, before any response
  proceeding,
  completed,
  confirmed,  // INVITE server, ACK received
  accepted,   // RFC 6026: INVITE, 2xx sent or received
};

// Timer slots, one of each kind per transaction.
constexpr int kRetransmit = 0;  // A, E (client), G (server)
constexpr int kTimeout = 1;     // B, F (client), H (server)
constexpr int kCleanup = 2;     // D, K, M (client), I, J, L (server)

using common::ascii_lower;

// ACK matches the INVITE transaction it acknowledges.
std::string_view match_method(std::string_view method) { return method == "ACK" ? "INVITE" : method; }

std::string sent_by(const Via& via) {
  std::string out = ascii_lower(via.host);
  out += ':';
  if (via.port) out += std::to_string(*via.port);
  return out;
}

// §17.2.3. nullopt when the request lacks what matching needs.
std::optional<std::string> server_key(const Message& m, std::string_view method) {
  const auto vias = via_headers(m);
  if (!vias) return std::nullopt;
  const Via& top = vias->front();
  if (top.has_rfc3261_branch()) {
    std::string key = "3|";
    key += *top.branch();
    key += '|';
    key += sent_by(top);
    key += '|';
    key += match_method(method);
    return key;
  }
  // RFC 2543 fallback: enough of the request to tell transactions apart
  // (the To tag is left out so that an ACK, which carries the response's
  // tag, still matches its INVITE).
  const auto call_id = call_id_header(m);
  const auto from = from_header(m);
  const auto cseq = cseq_header(m);
  if (!call_id || !from || !cseq) return std::nullopt;
  std::string key = "2|";
  key += *call_id;
  key += '|';
  key += from->tag().value_or("");
  key += '|';
  key += std::to_string(cseq->number);
  key += '|';
  key += match_method(method);
  key += '|';
  key += sent_by(top);
  key += '|';
  key += top.branch().value_or("");
  return key;
}

// §17.1.3: top Via branch and CSeq method.
std::optional<std::string> client_key(const Message& m) {
  const auto vias = via_headers(m);
  const auto cseq = cseq_header(m);
  if (!vias || !cseq || !vias->front().branch()) return std::nullopt;
  std::string key(*vias->front().branch());
  key += '|';
  key += cseq->method;
  return key;
}

bool matches(const Destination& tx, const Destination& failed) {
  if (failed.flow != 0 && tx.flow == failed.flow) return true;
  return tx.endpoint == failed.endpoint && (tx.flow == 0 || failed.flow == 0 || tx.flow == failed.flow);
}

// Frees a string's buffer (clear() keeps the capacity).
void release(std::string& s) { std::string().swap(s); }

// §18.2.2 with RFC 3581: reliable transports answer on the same flow; UDP
// answers the packet's source address (received=), at its source port when
// the client asked for rport, else at the sent-by port.
Destination reply_destination(const Inbound& request) {
  if (is_reliable(request.source.protocol)) return Destination{request.source, request.flow};
  std::uint16_t port = request.source.port;
  if (const auto vias = via_headers(request.message); vias && !vias->front().has_rport()) {
    port = vias->front().port.value_or(5060);
  }
  return Destination{Endpoint{Protocol::udp, request.source.host, port}, request.flow};
}

}  // namespace

// What a transaction holds. Once a final response is in, the request and
// its bytes are released: only the key, the destination, the state and (for
// a client INVITE with a non-2xx) the ACK remain until the cleanup timer.
struct TransactionLayer::ClientTx {
  bool invite = false;
  State state = State::trying;
  std::string key;
  Destination to;
  Message request;        // until the final response (the ACK of a non-2xx is built from it)
  std::string bytes;      // the request as it went on the wire, for UDP retransmissions until the final response
  std::string ack_bytes;  // the ACK for a non-2xx final as it went on the wire, for its retransmissions
  Duration interval{};    // current retransmission interval
  TimePoint started{};    // for the duration histogram (when the layer has a clock)
  std::array<TimerId, 3> timers{};
};

struct TransactionLayer::ServerTx {
  bool invite = false;
  State state = State::trying;
  std::string key;
  Destination reply_to;
  bool answered = false;      // a final response was sent
  std::string last_response;  // bytes of the latest response, while a retransmitted request must get it again
  Duration interval{};
  TimePoint started{};  // as ClientTx's
  std::array<TimerId, 3> timers{};
};

std::size_t TransactionLimits::limit_for(const Message& request) const {
  const std::string_view method = request.method();
  bool reserved = method == "REGISTER" || method == "CANCEL";
  if (!reserved) {
    const auto to = to_header(request);
    reserved = to && to->tag().has_value();
  }
  return reserved ? max_transactions + max_transactions / 8 : max_transactions;
}

TransactionLayer::TransactionLayer(TimerSettings settings, TransactionUser& user, Sender& sender, Timers& timers,
                                   Counters& counters, const Clock* clock, TransactionLimits limits)
    : settings_(settings),
      limits_(limits),
      user_(user),
      sender_(sender),
      timers_(timers),
      counters_(counters),
      clock_(clock) {}

TransactionLayer::~TransactionLayer() {
  for (auto& [id, tx] : clients_) {
    for (const TimerId t : tx->timers) timers_.cancel(t);
  }
  for (auto& [id, tx] : servers_) {
    for (const TimerId t : tx->timers) timers_.cancel(t);
  }
}

void TransactionLayer::update_gauge() { counters_.set_transactions(static_cast<std::int64_t>(alive())); }

// --- server side

ServerRequest TransactionLayer::receive_request(const Inbound& request) {
  const Message& m = request.message;
  const auto key = server_key(m, m.method());
  if (!key) return {ServerRequest::Kind::absorbed, 0};
  const bool is_ack = m.method() == "ACK";

  if (const auto it = server_keys_.find(*key); it != server_keys_.end()) {
    const ServerTransactionId id = it->second;
    ServerTx& tx = *servers_.at(id);
    if (is_ack) {
      if (!tx.invite) return {ServerRequest::Kind::absorbed, 0};
      if (tx.state == State::accepted) return {ServerRequest::Kind::ack, 0};
      if (tx.state == State::completed) {
        timers_.cancel(tx.timers[kRetransmit]);
        timers_.cancel(tx.timers[kTimeout]);
        tx.timers[kRetransmit] = tx.timers[kTimeout] = 0;
        tx.state = State::confirmed;  // Timer I only absorbs ACKs: the response is not sent again
        release(tx.last_response);
        if (is_reliable(tx.reply_to.endpoint.protocol)) {
          terminate_server(id);  // Timer I is zero on reliable transports
        } else {
          tx.timers[kCleanup] = timers_.start(settings_.t4, [this, id] { server_timer(id, kCleanup); });
        }
      }
      return {ServerRequest::Kind::absorbed, 0};
    }
    // A retransmission (§17.2.1, §17.2.2): re-send the latest response,
    // except a 2xx of an Accepted INVITE (the TU retransmits those).
    if (!tx.last_response.empty() && tx.state != State::accepted && tx.state != State::confirmed) {
      sender_.send_wire(tx.reply_to, tx.last_response);
    }
    return {ServerRequest::Kind::absorbed, 0};
  }

  if (is_ack) return {ServerRequest::Kind::ack, 0};
  if (alive() >= limits_.limit_for(m)) {
    counters_.transaction_refused();
    return {ServerRequest::Kind::overloaded, 0};
  }

  auto tx = std::make_unique<ServerTx>();
  if (clock_ != nullptr) tx->started = clock_->now();
  tx->invite = m.method() == "INVITE";
  tx->state = tx->invite ? State::proceeding : State::trying;
  tx->key = *key;
  tx->reply_to = reply_destination(request);
  const ServerTransactionId id = ++next_id_;
  server_keys_.emplace(*key, id);
  servers_.emplace(id, std::move(tx));
  counters_.transaction_started(false);
  update_gauge();
  return {ServerRequest::Kind::new_transaction, id};
}

bool TransactionLayer::send_response(ServerTransactionId id, const Message& response) {
  const auto it = servers_.find(id);
  if (it == servers_.end() || !response.is_response()) return false;
  ServerTx& tx = *it->second;
  const int code = response.status_code();
  const bool provisional = code < 200;
  const bool reliable = is_reliable(tx.reply_to.endpoint.protocol);

  switch (tx.state) {
    case State::trying:
    case State::proceeding: break;
    case State::accepted:
      if (code / 100 != 2) return false;
      break;
    default: return false;
  }

  Outgoing out(response);
  sender_.send(tx.reply_to, out);
  tx.last_response = out.take_wire();
  counters_.response_sent(code);
  if (!provisional && tx.state != State::accepted && clock_ != nullptr) {
    counters_.transaction_completed(false, tx.invite, clock_->now() - tx.started);
  }

  if (provisional) {
    tx.state = State::proceeding;
    return true;
  }
  tx.answered = true;
  if (tx.invite) {
    if (code / 100 == 2) {
      // Accepted: the TU retransmits 2xx itself, retransmitted INVITEs are
      // absorbed without an answer, so the bytes are not needed any more.
      release(tx.last_response);
      if (tx.state != State::accepted) {
        tx.state = State::accepted;  // RFC 6026 Timer L
        tx.timers[kCleanup] = timers_.start(settings_.timeout(), [this, id] { server_timer(id, kCleanup); });
      }
      return true;
    }
    tx.state = State::completed;
    if (!reliable) {
      tx.interval = settings_.t1;
      tx.timers[kRetransmit] = timers_.start(tx.interval, [this, id] { server_timer(id, kRetransmit); });
    }
    tx.timers[kTimeout] = timers_.start(settings_.timeout(), [this, id] { server_timer(id, kTimeout); });
    return true;
  }
  tx.state = State::completed;
  if (reliable) {
    terminate_server(id);  // Timer J is zero on reliable transports
  } else {
    tx.timers[kCleanup] = timers_.start(settings_.timeout(), [this, id] { server_timer(id, kCleanup); });
  }
  return true;
}

void TransactionLayer::server_timer(ServerTransactionId id, int which) {
  const auto it = servers_.find(id);
  if (it == servers_.end()) return;
  ServerTx& tx = *it->second;
  tx.timers[static_cast<std::size_t>(which)] = 0;
  switch (which) {
    case kRetransmit:  // Timer G
      if (tx.state != State::completed) return;
      if (!tx.last_response.empty()) sender_.send_wire(tx.reply_to, tx.last_response);
      tx.interval = std::min(tx.interval * 2, settings_.t2);
      tx.timers[kRetransmit] = timers_.start(tx.interval, [this, id] { server_timer(id, kRetransmit); });
      return;
    case kTimeout:  // Timer H: the ACK never came
      if (tx.state != State::completed) return;
      counters_.transaction_timed_out();
      terminate_server(id);
      user_.on_server_error(id, TransactionError::timeout);
      return;
    default:  // Timers I, J, L
      terminate_server(id);
      return;
  }
}

void TransactionLayer::send_stateless(const Inbound& request, const Message& response) {
  Outgoing out(response);
  sender_.send(reply_destination(request), out);
  counters_.response_sent(response.status_code());
}

ServerTransactionId TransactionLayer::find_invite_for_cancel(const Message& cancel) const {
  const auto key = server_key(cancel, "INVITE");
  if (!key) return 0;
  const auto it = server_keys_.find(*key);
  return it == server_keys_.end() ? 0 : it->second;
}

void TransactionLayer::abandon_server(ServerTransactionId id) { terminate_server(id); }

bool TransactionLayer::server_alive(ServerTransactionId id) const { return servers_.contains(id); }

bool TransactionLayer::server_final_sent(ServerTransactionId id) const {
  const auto it = servers_.find(id);
  if (it == servers_.end()) return true;
  const State s = it->second->state;
  return s != State::trying && s != State::proceeding;
}

void TransactionLayer::terminate_server(ServerTransactionId id) {
  const auto it = servers_.find(id);
  if (it == servers_.end()) return;
  for (const TimerId t : it->second->timers) {
    if (t != 0) timers_.cancel(t);
  }
  server_keys_.erase(it->second->key);
  servers_.erase(it);
  update_gauge();
}

// --- client side

void TransactionLayer::compact() {
  common::shrink_if_sparse(clients_);
  common::shrink_if_sparse(client_keys_);
  common::shrink_if_sparse(servers_);
  common::shrink_if_sparse(server_keys_);
}

ClientTransactionId TransactionLayer::start_client(Message request, Destination to) {
  if (!request.is_request() || request.method() == "ACK") return 0;
  auto key = client_key(request);
  if (!key || client_keys_.contains(*key)) return 0;
  auto tx = std::make_unique<ClientTx>();
  if (clock_ != nullptr) tx->started = clock_->now();
  tx->invite = request.method() == "INVITE";
  tx->state = tx->invite ? State::calling : State::trying;
  tx->key = std::move(*key);
  tx->to = std::move(to);
  tx->request = std::move(request);
  const ClientTransactionId id = ++next_id_;
  ClientTx& t = *tx;
  client_keys_.emplace(t.key, id);
  clients_.emplace(id, std::move(tx));
  counters_.transaction_started(true);
  update_gauge();

  Outgoing out(t.request);
  sender_.send(t.to, out);
  if (!is_reliable(t.to.endpoint.protocol)) {
    t.bytes = out.take_wire();  // for Timer A/E: a reliable transport does not retransmit
    t.interval = settings_.t1;  // Timer A or E
    t.timers[kRetransmit] = timers_.start(t.interval, [this, id] { client_timer(id, kRetransmit); });
  }
  t.timers[kTimeout] = timers_.start(settings_.timeout(), [this, id] { client_timer(id, kTimeout); });
  return id;
}

void TransactionLayer::client_timer(ClientTransactionId id, int which) {
  const auto it = clients_.find(id);
  if (it == clients_.end()) return;
  ClientTx& tx = *it->second;
  tx.timers[static_cast<std::size_t>(which)] = 0;
  switch (which) {
    case kRetransmit:
      if (tx.invite) {
        if (tx.state != State::calling) return;
        tx.interval *= 2;  // Timer A doubles without a ceiling (§17.1.1.2)
      } else {
        if (tx.state == State::trying) {
          tx.interval = std::min(tx.interval * 2, settings_.t2);  // Timer E
        } else if (tx.state == State::proceeding) {
          tx.interval = settings_.t2;
        } else {
          return;
        }
      }
      if (!tx.bytes.empty()) sender_.send_wire(tx.to, tx.bytes);
      tx.timers[kRetransmit] = timers_.start(tx.interval, [this, id] { client_timer(id, kRetransmit); });
      return;
    case kTimeout:  // Timer B or F
      if (tx.state == State::completed || tx.state == State::accepted) return;
      if (tx.invite && tx.state != State::calling) return;
      counters_.transaction_timed_out();
      fail_client(id, TransactionError::timeout);
      return;
    default:  // Timers D, K, M
      terminate_client(id);
      return;
  }
}

void TransactionLayer::fail_client(ClientTransactionId id, TransactionError error) {
  terminate_client(id);
  user_.on_client_error(id, error);
}

bool TransactionLayer::receive_response(const Inbound& response) {
  const auto key = client_key(response.message);
  if (!key) return false;
  const auto kit = client_keys_.find(*key);
  if (kit == client_keys_.end()) return false;
  const ClientTransactionId id = kit->second;
  ClientTx& tx = *clients_.at(id);
  const int code = response.message.status_code();
  const bool reliable = is_reliable(tx.to.endpoint.protocol);
  if (code >= 200 && clock_ != nullptr &&
      (tx.state == State::calling || tx.state == State::trying || tx.state == State::proceeding)) {
    counters_.transaction_completed(true, tx.invite, clock_->now() - tx.started);
  }
  const auto stop = [this, &tx](int which) {
    const auto w = static_cast<std::size_t>(which);
    if (tx.timers[w] != 0) timers_.cancel(tx.timers[w]);
    tx.timers[w] = 0;
  };

  if (tx.invite) {
    switch (tx.state) {
      case State::calling:
      case State::proceeding:
        if (code < 200) {
          stop(kRetransmit);
          stop(kTimeout);  // Timer B guards Calling only; the proxy's Timer C takes over
          tx.state = State::proceeding;
          user_.on_response(id, response);
        } else if (code < 300) {
          stop(kRetransmit);
          stop(kTimeout);
          tx.state = State::accepted;  // RFC 6026 Timer M
          tx.request = Message{};
          release(tx.bytes);
          tx.timers[kCleanup] = timers_.start(settings_.timeout(), [this, id] { client_timer(id, kCleanup); });
          user_.on_response(id, response);
        } else {
          stop(kRetransmit);
          stop(kTimeout);
          tx.state = State::completed;
          const Message ack = make_ack(tx.request, response.message);
          tx.request = Message{};
          release(tx.bytes);
          Outgoing out(ack);
          sender_.send(tx.to, out);
          tx.ack_bytes = out.take_wire();
          if (reliable) {
            terminate_client(id);  // Timer D is zero on reliable transports
          } else {
            tx.timers[kCleanup] = timers_.start(settings_.timer_d(), [this, id] { client_timer(id, kCleanup); });
          }
          user_.on_response(id, response);
        }
        return true;
      case State::completed:
        if (code >= 300 && !tx.ack_bytes.empty()) sender_.send_wire(tx.to, tx.ack_bytes);  // the ACK got lost
        return true;
      case State::accepted:
        if (code / 100 == 2) user_.on_response(id, response);
        return true;
      default: return true;
    }
  }

  if (tx.state != State::trying && tx.state != State::proceeding) return true;  // absorbed
  if (code < 200) {
    tx.state = State::proceeding;
    user_.on_response(id, response);
    return true;
  }
  stop(kRetransmit);
  stop(kTimeout);
  tx.state = State::completed;
  tx.request = Message{};
  release(tx.bytes);
  if (reliable) {
    terminate_client(id);  // Timer K is zero on reliable transports
  } else {
    tx.timers[kCleanup] = timers_.start(settings_.t4, [this, id] { client_timer(id, kCleanup); });
  }
  user_.on_response(id, response);
  return true;
}

void TransactionLayer::abandon_client(ClientTransactionId id) { terminate_client(id); }

bool TransactionLayer::client_alive(ClientTransactionId id) const { return clients_.contains(id); }

void TransactionLayer::terminate_client(ClientTransactionId id) {
  const auto it = clients_.find(id);
  if (it == clients_.end()) return;
  for (const TimerId t : it->second->timers) {
    if (t != 0) timers_.cancel(t);
  }
  client_keys_.erase(it->second->key);
  clients_.erase(it);
  update_gauge();
}

// --- transport feedback

void TransactionLayer::on_send_failed(const Destination& to) {
  std::vector<ClientTransactionId> clients;
  for (const auto& [id, tx] : clients_) {
    const bool waiting = tx->state == State::calling || tx->state == State::trying || tx->state == State::proceeding;
    if (matches(tx->to, to)) {
      if (waiting) {
        clients.push_back(id);
      }
    }
  }
  std::vector<ServerTransactionId> servers;
  for (const auto& [id, tx] : servers_) {
    if (matches(tx->reply_to, to) && (tx->answered || !tx->last_response.empty())) servers.push_back(id);
  }
  for (const auto id : clients) {
    if (clients_.contains(id)) fail_client(id, TransactionError::transport);
  }
  for (const auto id : servers) {
    if (!servers_.contains(id)) continue;
    terminate_server(id);
    user_.on_server_error(id, TransactionError::transport);
  }
}

void TransactionLayer::on_flow_closed(FlowId flow) {
  if (flow == 0) return;
  std::vector<ClientTransactionId> clients;
  for (const auto& [id, tx] : clients_) {
    const bool waiting = tx->state == State::calling || tx->state == State::trying || tx->state == State::proceeding;
    if (tx->to.flow == flow && waiting) clients.push_back(id);
  }
  for (const auto id : clients) {
    if (clients_.contains(id)) fail_client(id, TransactionError::transport);
  }
}

// --- requests the layer builds

Message TransactionLayer::make_ack(const Message& invite, const Message& response) {
  Message ack = Message::make_request("ACK", invite.request_uri());
  if (const auto vias = invite.values(HeaderId::via); !vias.empty()) ack.add_header("Via", vias.front());
  for (const auto& h : invite.headers()) {
    if (h.id == HeaderId::route) ack.add_header("Route", h.value);
  }
  ack.add_header("Max-Forwards", "70");
  if (const auto v = invite.value(HeaderId::from)) ack.add_header("From", *v);
  if (const auto v = response.value(HeaderId::to)) ack.add_header("To", *v);
  if (const auto v = invite.value(HeaderId::call_id)) ack.add_header("Call-ID", *v);
  if (const auto cseq = cseq_header(invite)) ack.add_header("CSeq", std::to_string(cseq->number) + " ACK");
  return ack;
}

Message TransactionLayer::make_cancel(const Message& invite) {
  Message cancel = Message::make_request("CANCEL", invite.request_uri());
  if (const auto vias = invite.values(HeaderId::via); !vias.empty()) cancel.add_header("Via", vias.front());
  for (const auto& h : invite.headers()) {
    if (h.id == HeaderId::route) cancel.add_header("Route", h.value);
  }
  cancel.add_header("Max-Forwards", "70");
  if (const auto v = invite.value(HeaderId::from)) cancel.add_header("From", *v);
  if (const auto v = invite.value(HeaderId::to)) cancel.add_header("To", *v);
  if (const auto v = invite.value(HeaderId::call_id)) cancel.add_header("Call-ID", *v);
  if (const auto cseq = cseq_header(invite)) {
    cancel.add_header("CSeq", std::to_string(cseq->number) + " CANCEL");
  }
  return cancel;
}

}  // namespace sipsite::sip
