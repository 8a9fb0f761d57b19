#pragma once
// The SIP routing core: the single front door server/transport calls. It
// validates what arrives, answers malformed requests, stamps the top Via
// (received/rport, RFC 3261 §18.2.1, RFC 3581), runs the transaction layer
// (transaction.hpp) and, above it, the site's logic:
//   REGISTER for the site        -> RegistrationHandler
//   OPTIONS to the site itself   -> 200 with Allow/Supported
//   requests for a local AOR     -> proxy authentication (407/403), From
//                                   must be the authenticated user, then
//                                   404 / 480 / parallel forking to every
//                                   binding (stateful, Record-Route)
//   CANCEL                       -> 200, 487 upstream, CANCEL the branches
//   in-dialog requests and 2xx   -> loose routing through our Record-Route
//   ACKs                            (§16.4; 2xx ACKs forwarded statelessly),
//                                   only for dialogs we record-routed (the
//                                   Record-Route carries rt=, a keyed MAC
//                                   of the Call-ID)
//   other domains                -> PeerRouter (refuses with 403 by default)
//   requests from a peer site    -> (Inbound::peer, over a pinned link) no
//                                   digest: From/P-Asserted-Identity must be
//                                   of the peer's domain, the target a local
//                                   AOR or a dialog we record-routed
//
// Thread safety: none; call everything on the SIP strand. The Sender must
// not call back into the core from inside send(); report failures later
// with on_send_failed().

#include "sipsite/sip/call_events.hpp"
#include "sipsite/sip/counters.hpp"
#include "sipsite/sip/dialog_set.hpp"
#include "sipsite/sip/io.hpp"
#include "sipsite/sip/limits.hpp"
#include "sipsite/sip/proxy.hpp"
#include "sipsite/sip/rate_limiter.hpp"
#include "sipsite/sip/services.hpp"
#include "sipsite/sip/site_names.hpp"
#include "sipsite/sip/transaction.hpp"

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

class Core final : private TransactionUser {
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
  // What the core takes for the site's own names and addresses.
  [[nodiscard]] const SiteNames& site_names() const { return names_; }

  struct Branch;
  struct Context;
  struct Target;

 private:
  // TransactionUser
  void on_response(ClientTransactionId id, const Inbound& response) override;
  void on_client_error(ClientTransactionId id, TransactionError error) override;
  void on_server_error(ServerTransactionId id, TransactionError error) override;

  void handle_request(Inbound in);
  void handle_response(const Inbound& in);
  void dispatch(ServerTransactionId id, Inbound& in);
  void handle_cancel(ServerTransactionId id, const Inbound& in);
  void forward_ack(Inbound& in);
  void forward_response_statelessly(const Message& response);
  bool authenticate(ServerTransactionId id, const Inbound& in, std::string& user);
  // From is sip:user@<this site>.
  [[nodiscard]] bool from_is_user(const Message& m, std::string_view user) const;
  // Why a request from peer site `peer` may not speak for who it claims.
  [[nodiscard]] std::optional<std::string_view> peer_identity_refusal(const Message& m, std::string_view peer) const;
  void respond(ServerTransactionId id, const Message& request, int code, std::string_view reason);
  // respond() to a request the site will not route; an initial INVITE not
  // yet recorded becomes a refused call attempt (CallObserver::call_refused),
  // within CoreSettings::refusal_records.
  void refuse(ServerTransactionId id, const Inbound& in, int code, std::string_view reason);
  void reply_error(std::string_view raw, const ParseError& error, const Endpoint& source, FlowId flow);
  void proxy(ServerTransactionId id, const Inbound& in, Message base, const std::vector<Target>& targets);
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
  // A keyed MAC of the Call-ID carried as rt= in our Record-Route: an
  // in-dialog request (or 2xx ACK) is routed through the site only if the
  // Route it names us with carries the token of its Call-ID.
  [[nodiscard]] std::string dialog_token(std::string_view call_id) const;
  [[nodiscard]] std::optional<Destination> resolve(std::string_view uri, std::string_view to_user) const;

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
  bool shutting_down_ = false;
  std::string shutdown_reason_;
  std::uint64_t key0_;  // dialog_token's key, fresh per process
  std::uint64_t key1_;
};

}  // namespace sipsite::sip
