#pragma once
// The SIP routing core: the single front door server/transport calls. It
// validates what arrives, answers malformed requests, stamps the top Via
// (received/rport, RFC 3261 §18.2.1, RFC 3581) and runs the transaction
// layer (transaction.hpp). Every request that opens a new server
// transaction then goes through the request-processor chain assembled in
// the constructor (chain/request_chain.hpp; the steps are declared in
// chain/steps.hpp, each defined in its own file of src/chain/):
//   cancel           CANCEL -> 200, 487 upstream, CANCEL the branches
//   shutdown_gate    new requests while stopping -> 503
//   request_uri_check  416 for a URI the site cannot route
//   registrar        REGISTER for the site -> RegistrationHandler
//   loose_route      a Route naming us is removed; anyone else's -> 403
//   site_requests    OPTIONS to the site itself -> 200, others -> 405
//   max_forwards     483 at zero; the copy to forward is made here
//   dialog_route     in-dialog requests through our Record-Route (only for
//                    dialogs we record-routed: the Route carries rt=, a
//                    keyed MAC of the Call-ID, DialogTokens)
//   identity_gate    LAN: proxy digest (407/403), From must be the
//                    authenticated user; peer site (Inbound::peer, over a
//                    pinned link): From/P-Asserted-Identity of its domain,
//                    only to local users
//   local_route      404 / 480 / offline MESSAGE / parallel forking to
//                    every binding (stateful, Record-Route)
//   peer_site_route  other domains -> PeerRouter (403 by default)
// The core itself keeps what spans messages: proxy contexts and their
// branches (forking, best response, Timer C), ACKs for 2xx (forwarded
// statelessly through our Record-Route, §16.11), call records' attempts,
// offline deliveries and the BYEs of a clean stop.
//
// Thread safety: none; call everything on the SIP strand. The Sender must
// not call back into the core from inside send(); report failures later
// with on_send_failed().

#include "sipsite/sip/call_events.hpp"
#include "sipsite/sip/chain/dialog_tokens.hpp"
#include "sipsite/sip/chain/next_hop.hpp"
#include "sipsite/sip/chain/request_chain.hpp"
#include "sipsite/sip/chain/steps.hpp"
#include "sipsite/sip/counters.hpp"
#include "sipsite/sip/proxy/dialog_set.hpp"
#include "sipsite/sip/io.hpp"
#include "sipsite/sip/message/limits.hpp"
#include "sipsite/sip/proxy/proxy.hpp"
#include "sipsite/sip/auth/rate_limiter.hpp"
#include "sipsite/sip/services.hpp"
#include "sipsite/sip/proxy/site_names.hpp"
#include "sipsite/sip/transaction/transaction.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <functional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace sipsite::sip {

struct CoreSettings {
  // The site's domain; empty means Directory::local_domain().
  std::string local_domain;
  // The addresses the site is reached at, as written in Via and
  // Record-Route (never a wildcard like 0.0.0.0): one or more per protocol
  // that is listened on. Requests leave with a Via of the first listener of
  // the outgoing protocol; Record-Route names the listener a request came
  // in on (matched by protocol and port).
  std::vector<Endpoint> listeners;
  // Other names and IP addresses of the site that requests may use for it
  // (configured aliases, its public address): see SiteNames.
  std::vector<std::string> aliases;
  // Every concrete address:port the site's sockets receive on (a wildcard
  // listener expanded to the machine's addresses); empty: `listeners`.
  std::vector<Endpoint> receiving;
  TimerSettings timers;
  // The cap on live transactions; requests beyond it are answered 503 with
  // "Retry-After: 5" without a transaction.
  TransactionLimits transaction_limits;
  // RFC 3261 §16.6 step 11: an INVITE branch with a provisional response
  // but no final one is cancelled after this long.
  Duration timer_c{std::chrono::minutes(3)};
  ParseLimits limits;
  std::string allow =
      "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, REGISTER, INFO, UPDATE, REFER, PRACK, "
      "SUBSCRIBE, NOTIFY";
  std::string supported;  // option tags answered to OPTIONS (none by default)
  // Refused call attempts recorded per source (rate_limit_source_key): a
  // burst of max_failures, refilled over window; beyond, a source's
  // refusals are answered but not recorded until its cool-down ends, so a
  // flood of refused INVITEs cannot fill the call records.
  RateLimiterSettings refusal_records{
      .max_failures = 60, .window = std::chrono::minutes(1), .cooldown = std::chrono::minutes(1), .max_keys = 4096};
};

class Core final : private TransactionUser, private RequestActions {
 public:
  // Every reference must outlive the Core. `peers` may be null: requests
  // for other domains are then refused (RefusingPeerRouter).
  Core(CoreSettings settings, Sender& sender, Timers& timers, Clock& clock, Random& random, Directory& directory,
       Authenticator& authenticator, Location& location, RegistrationHandler& registrar, Counters& counters,
       PeerRouter* peers = nullptr);
  ~Core() override;
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  // One complete UDP datagram, or one message framed off a TCP/TLS stream
  // (StreamFramer). `source` is the packet's real source, `flow` the
  // connection (0 for UDP), `local` the listener it arrived on. Malformed
  // requests are answered (400/505/513 per error_status) to `source` on
  // `flow`; malformed responses and garbage are dropped.
  void receive(std::string_view bytes, const Endpoint& source, FlowId flow, const Endpoint& local);
  // The same for a message the transport already parsed (it is validated
  // here). Use this from the transport's InboundHandler::on_message.
  void receive(Inbound inbound);

  // Optional services (may be null, must outlive the core): call records,
  // and storage of MESSAGEs for users with no phone registered (without it
  // they get 480).
  void set_call_observer(CallObserver* calls) { calls_ = calls; }
  void set_message_store(MessageStore* messages) { messages_ = messages; }

  // Sends a stored MESSAGE to every registered phone of local user `user`,
  // from the site. `done(true)` once a phone accepted it (2xx), `done(false)`
  // when none did (or none is registered); called on the SIP strand, never
  // from inside deliver().
  void deliver(std::string_view user, const OfflineMessage& message, std::function<void(bool)> done);

  // A clean stop: every confirmed call the site record-routed gets a BYE to
  // both parties and every unanswered INVITE a 503 upstream and a CANCEL to
  // its branches, each saying `reason` (a Reason header / phrase); from now
  // on new requests get 503. Returns the number of calls ended. The BYEs
  // are ordinary client transactions: wait (bounded) until
  // pending_goodbyes() is 0 before closing the transports.
  std::size_t end_calls(std::string_view reason);
  [[nodiscard]] std::size_t pending_goodbyes() const { return goodbyes_.size(); }
  [[nodiscard]] std::size_t confirmed_dialogs() const { return dialogs_.size(); }

  // Transport feedback, to be called on the SIP strand:
  // a send to `to` failed (connect refused, connection gone, ICMP);
  void on_send_failed(const Destination& to);
  // a TCP/TLS connection closed (its FlowId will not be reused).
  void on_flow_closed(FlowId flow);

  // Introspection for tests and the console.
  [[nodiscard]] const TransactionLayer& transactions() const { return layer_; }
  [[nodiscard]] std::size_t proxy_contexts() const { return contexts_.size(); }
  // After a burst: hash maps of finished work (transactions, proxy
  // contexts, branches, dialogs) give back their emptied bucket arrays.
  void compact();
  // What the core takes for the site's own names and addresses.
  [[nodiscard]] const SiteNames& site_names() const { return names_; }

  // The steps a new request goes through, in order (chain/).
  [[nodiscard]] std::vector<std::string_view> request_steps() const { return chain_.names(); }

  struct Branch;
  struct Context;

 private:
  // TransactionUser
  void on_response(ClientTransactionId id, const Inbound& response) override;
  void on_client_error(ClientTransactionId id, TransactionError error) override;
  void on_server_error(ServerTransactionId id, TransactionError error) override;

  // RequestActions
  void send_response(const RequestContext& ctx, const Message& response) override;
  void respond(const RequestContext& ctx, int code, std::string_view reason) override;
  void refuse(const RequestContext& ctx, int code, std::string_view reason) override;
  void stay_silent(const RequestContext& ctx) override;
  void forward(const RequestContext& ctx, Message request, std::vector<ForwardTarget> targets) override;
  void cancel(const RequestContext& ctx) override;
  void call_started(const RequestContext& ctx, std::string callee, CallStart::Direction direction,
                    std::string peer_domain) override;
  void call_hung_up(const RequestContext& ctx) override;
  bool store_offline(const RequestContext& ctx, std::string_view user) override;

  void handle_request(Inbound in);
  void handle_response(const Inbound& in);
  // A request that opened a new server transaction: through the chain.
  void dispatch(ServerTransactionId id, Inbound& in);
  void handle_cancel(ServerTransactionId id, const Inbound& in);
  void forward_ack(Inbound& in);
  void forward_response_statelessly(const Message& response);
  void respond(ServerTransactionId id, const Message& request, int code, std::string_view reason);
  // respond() to a request the site will not route; an initial INVITE not
  // yet recorded becomes a refused call attempt (CallObserver::call_refused),
  // within CoreSettings::refusal_records.
  void refuse(ServerTransactionId id, const Inbound& in, int code, std::string_view reason);
  void reply_error(std::string_view raw, const ParseError& error, const Endpoint& source, FlowId flow);
  void proxy(ServerTransactionId id, const Inbound& in, Message base, const std::vector<ForwardTarget>& targets);
  void branch_final(Context& ctx, Branch& branch);
  void cancel_branches(Context& ctx);
  void cancel_branch(Context& ctx, Branch& branch);
  void finish_if_done(ServerTransactionId key);
  void timer_c_fired(ServerTransactionId key, ClientTransactionId branch);
  void erase_context(ServerTransactionId key);
  // Call records: an attempt starts, then is answered or fails.
  void start_call(const Inbound& in, std::string callee, CallStart::Direction direction, std::string peer_domain);
  void report_final(const Message& request, int code, std::string_view reason);
  void store_offline(ServerTransactionId id, const Message& request, std::string_view user);
  void delivery_result(ClientTransactionId id, bool accepted);

  [[nodiscard]] bool answered_by_site(const Message& response) const;
  // CoreSettings::local_domain, else Directory::local_domain().
  [[nodiscard]] std::string_view site_domain() const;
  // SiteNames::is_local_host: for AOR domains in From/To.
  [[nodiscard]] bool is_local_host(std::string_view host) const;
  // SiteNames::is_us: for Request-URIs and Routes.
  [[nodiscard]] bool is_us(std::string_view host, std::optional<std::uint16_t> port) const;
  [[nodiscard]] Endpoint listener_for(Protocol p, const Endpoint& local) const;
  [[nodiscard]] std::string via_for(Protocol p, const Endpoint& local, std::string_view branch) const;
  [[nodiscard]] std::string record_route_for(const Endpoint& local, std::string_view call_id) const;

  CoreSettings settings_;
  Sender& sender_;
  Timers& timers_;
  Clock& clock_;
  Random& random_;
  Directory& directory_;
  Authenticator& authenticator_;
  Location& location_;
  RegistrationHandler& registrar_;
  Counters& counters_;
  RefusingPeerRouter refusing_;
  PeerRouter& peers_;
  SiteNames names_;
  RateLimiter refusal_records_;
  TransactionLayer layer_;
  // Proxy contexts, keyed by the id of their upstream server transaction.
  std::unordered_map<ServerTransactionId, std::unique_ptr<Context>> contexts_;
  std::unordered_map<ClientTransactionId, ServerTransactionId> branch_owner_;
  CallObserver* calls_ = nullptr;
  MessageStore* messages_ = nullptr;
  std::unordered_set<std::string> open_calls_;  // Call-IDs of attempts with no final response yet
  struct Delivery {
    std::size_t pending = 0;
    bool accepted = false;
    std::function<void(bool)> done;
  };
  std::unordered_map<ClientTransactionId, std::shared_ptr<Delivery>> deliveries_;
  DialogSet dialogs_;
  std::unordered_set<ClientTransactionId> goodbyes_;  // BYEs of end_calls() not answered yet
  ShutdownState shutdown_;
  DialogTokens tokens_;  // rt= in our Record-Route
  NextHopResolver next_hop_;
  RequestChain chain_;
};

}  // namespace sipsite::sip
