#pragma once
// The request-processor chain: what the site does with a new request, as a
// list of small steps run in order (repro's request processors are the
// model). Core (core.hpp) is the front door and the assembly: it parses,
// validates, runs the transaction layer and hands every request that opens
// a new server transaction to its chain. Each step looks at the request
// and either passes it on (Verdict::next) or disposes of it through the
// RequestActions it is given (Verdict::done): answers it, forwards it,
// stays silent. Steps keep no per-request state of their own; what one
// step learns for the next ones goes into the RequestContext.
//
// Sans-I/O like the rest of server/sip: one thread, the SIP strand.

#include "sipsite/sip/call_events.hpp"
#include "sipsite/sip/io.hpp"
#include "sipsite/sip/transaction/transaction.hpp"
#include "sipsite/sip/message/uri.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::sip {

// One branch of a forwarded request.
struct ForwardTarget {
  std::string request_uri;  // empty: keep the Request-URI (loose routing)
  Destination destination;
};

// A new request on its way through the chain, and what the steps found out
// about it so far (each field names the step that fills it).
struct RequestContext {
  RequestContext(ServerTransactionId id, Inbound& in);

  ServerTransactionId id;
  Inbound& in;
  [[nodiscard]] Message& message() const { return in.message; }
  [[nodiscard]] std::string_view method() const { return in.message.method(); }
  // Over a pinned federation link (Inbound::peer), not from the LAN.
  [[nodiscard]] bool from_peer() const { return !in.peer.empty(); }
  // The To header carries a tag (set at construction).
  bool in_dialog = false;

  // RequestUriCheck: the parsed Request-URI, and whether it is a SIP URI
  // naming this site (any user part).
  std::optional<Uri> request_uri;
  bool for_site = false;
  // LooseRoute: a Route naming this site was removed; its rt= token, and
  // the Route after it, if any.
  bool route_popped = false;
  std::string route_token;
  std::optional<std::string> next_route;
  // MaxForwards: the copy of the request that will be forwarded.
  std::optional<Message> forwarded;
  // IdentityGate: the local user a LAN request authenticated as.
  std::string authenticated_user;
};

// What a step may do with a request; implemented by Core on its
// transaction layer, by a recorder in the steps' unit tests.
class RequestActions {
 public:
  // Sends `response` on the request's server transaction.
  virtual void send_response(const RequestContext& ctx, const Message& response) = 0;
  // Answers with `code` `reason`; the final answer of a recorded call
  // attempt ends it (CallObserver).
  virtual void respond(const RequestContext& ctx, int code, std::string_view reason) = 0;
  // respond() to a request the site will not route: an initial INVITE not
  // yet recorded becomes a refused call attempt (rate limited per source).
  virtual void refuse(const RequestContext& ctx, int code, std::string_view reason) = 0;
  // No answer at all (a flooding source).
  virtual void stay_silent(const RequestContext& ctx) = 0;
  // Forwards `request` statefully to each target (forking when several).
  virtual void forward(const RequestContext& ctx, Message request, std::vector<ForwardTarget> targets) = 0;
  // A CANCEL: answers it and cancels the INVITE it names.
  virtual void cancel(const RequestContext& ctx) = 0;
  // Call records: an initial INVITE starts an attempt; a BYE through the
  // site ends a call.
  virtual void call_started(const RequestContext& ctx, std::string callee, CallStart::Direction direction,
                            std::string peer_domain) = 0;
  virtual void call_hung_up(const RequestContext& ctx) = 0;
  // Keeps a MESSAGE for local user `user`, who has no phone registered,
  // and answers it when stored; false (nothing done) when the site keeps
  // no messages.
  virtual bool store_offline(const RequestContext& ctx, std::string_view user) = 0;

 protected:
  ~RequestActions() = default;
};

class RequestProcessor {
 public:
  enum class Verdict { next, done };

  virtual ~RequestProcessor() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;
  virtual Verdict process(RequestContext& ctx, RequestActions& actions) = 0;
};

class RequestChain {
 public:
  RequestChain& then(std::unique_ptr<RequestProcessor> step);
  // Runs the steps in order until one is done; `next` when none was (the
  // assembly has no step for such a request).
  RequestProcessor::Verdict run(RequestContext& ctx, RequestActions& actions) const;
  // The steps' names, in order (for logs, tests and the docs).
  [[nodiscard]] std::vector<std::string_view> names() const;

 private:
  std::vector<std::unique_ptr<RequestProcessor>> steps_;
};

}  // namespace sipsite::sip
