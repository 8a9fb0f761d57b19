#include "sipsite/sip/core.hpp"

#include "sipsite/common/hash_map.hpp"
#include "sipsite/sip/message/accessors.hpp"
#include "sipsite/sip/message/list.hpp"
#include "sipsite/sip/message/name_addr.hpp"
#include "sipsite/sip/message/parser.hpp"
#include "sipsite/sip/message/response.hpp"
#include "sipsite/sip/message/serializer.hpp"
#include "sipsite/sip/message/uri.hpp"
#include "sipsite/sip/message/validate.hpp"
#include "sipsite/sip/chain/steps.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

namespace sipsite::sip {
namespace {

std::string_view strip_brackets(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

std::string host_for_uri(std::string_view host) {
  if (host.find(':') != std::string_view::npos && host.front() != '[') return "[" + std::string(host) + "]";
  return std::string(host);
}

std::string join(const std::vector<std::string_view>& parts, std::size_t from) {
  std::string out;
  for (std::size_t i = from; i < parts.size(); ++i) {
    if (!out.empty()) out += ", ";
    out += parts[i];
  }
  return out;
}

std::string via_text(const Via& v) {
  std::string out;
  out += v.protocol_name;
  out += '/';
  out += v.protocol_version;
  out += '/';
  out += v.transport;
  out += ' ';
  out += v.host;
  if (v.port) out += ":" + std::to_string(*v.port);
  for (const auto& p : v.params) {
    out += ';';
    out += p.name;
    if (p.value) {
      out += '=';
      out += *p.value;
    }
  }
  return out;
}

// RFC 3261 §18.2.1 and RFC 3581 §4: received= when the sent-by host is not
// the packet's source (always with rport), rport= the source port.
void stamp_via(Message& m, const Endpoint& source) {
  const auto& headers = m.headers();
  for (std::size_t i = 0; i < headers.size(); ++i) {
    if (headers[i].id != HeaderId::via) continue;
    auto parts = split_list(headers[i].value);
    auto vias = parse_via_list(parts.front());
    if (!vias || vias->size() != 1) return;
    Via v = std::move(vias->front());
    const bool rport = v.has_rport();
    if (!rport && strip_brackets(v.host) == source.host) return;
    std::erase_if(v.params, [](const Param& p) { return iequals(p.name, "received") || iequals(p.name, "rport"); });
    const std::string port = std::to_string(source.port);
    // IPv6 in brackets: RFC 3261's grammar says bare, RFC 5118 §4.5 allows
    // the reference form, and our own Via parser accepts only the latter.
    const std::string received = host_for_uri(source.host);
    v.params.push_back(Param{"received", received});
    if (rport) v.params.push_back(Param{"rport", port});
    std::string value = via_text(v);
    if (parts.size() > 1) value += ", " + join(parts, 1);
    m.remove_header_at(i);
    m.insert_header(i, "Via", value);
    return;
  }
}

// A keyed-free, deterministic branch for stateless forwarding (§16.11):
// the same request forwarded twice gets the same branch.
std::string stateless_branch(const Message& m) {
  std::string_view branch;
  std::string_view call_id;
  if (const auto vias = via_headers(m); vias && vias->front().branch()) branch = *vias->front().branch();
  if (const auto id = m.value(HeaderId::call_id)) call_id = *id;
  return "z9hG4bKsl" + stateless_to_tag(call_id, m.method(), branch);
}

bool record_routes(std::string_view method) {
  return method == "INVITE" || method == "SUBSCRIBE" || method == "REFER" || method == "NOTIFY";
}

}  // namespace

struct Core::Branch {
  ClientTransactionId id = 0;
  Destination destination;
  Message request;           // as sent, for CANCEL
  bool provisional = false;  // got a 1xx: a CANCEL may be sent
  bool cancel_wanted = false;
  bool cancel_sent = false;
  bool done = false;
  BranchOutcome outcome;
  std::optional<Message> response;  // the final response, our Via removed
  TimerId timer_c = 0;
};

struct Core::Context {
  ServerTransactionId server = 0;
  Inbound request;  // as received (Via stamped), for responses made here
  bool invite = false;
  bool final_sent = false;
  std::vector<Branch> branches;
};

Core::Core(CoreSettings settings, Sender& sender, Timers& timers, Clock& clock, Random& random, Directory& directory,
           Authenticator& authenticator, Location& location, RegistrationHandler& registrar, Counters& counters,
           PeerRouter* peers)
    : settings_(std::move(settings)),
      sender_(sender),
      timers_(timers),
      clock_(clock),
      random_(random),
      directory_(directory),
      authenticator_(authenticator),
      location_(location),
      registrar_(registrar),
      counters_(counters),
      peers_(peers != nullptr ? *peers : refusing_),
      names_(settings_.local_domain.empty() ? directory.local_domain() : settings_.local_domain, settings_.aliases,
             settings_.receiving.empty() ? settings_.listeners : settings_.receiving),
      refusal_records_(clock, settings_.refusal_records),
      layer_(settings_.timers, *this, sender, timers, counters, &clock, settings_.transaction_limits),
      tokens_(random),
      next_hop_(location, peers_) {
  chain_.then(std::make_unique<CancelStep>())
      .then(std::make_unique<ShutdownGate>(shutdown_))
      .then(std::make_unique<RequestUriCheck>(names_))
      .then(std::make_unique<RegistrarStep>(registrar_))
      .then(std::make_unique<LooseRoute>(names_))
      .then(std::make_unique<SiteRequests>(settings_.allow, settings_.supported))
      .then(std::make_unique<MaxForwards>())
      .then(std::make_unique<DialogRoute>(tokens_, next_hop_, names_, dialogs_))
      .then(std::make_unique<IdentityGate>(authenticator_, names_))
      .then(std::make_unique<LocalRoute>(directory_, location_))
      .then(std::make_unique<PeerSiteRoute>(peers_));
}

Core::~Core() {
  for (auto& [key, ctx] : contexts_) {
    for (auto& b : ctx->branches) {
      if (b.timer_c != 0) timers_.cancel(b.timer_c);
    }
  }
}

// --- the front door

void Core::receive(std::string_view bytes, const Endpoint& source, FlowId flow, const Endpoint& local) {
  auto parsed = parse_datagram(bytes, settings_.limits);
  if (!parsed) {
    counters_.parse_error();
    reply_error(bytes, parsed.error(), source, flow);
    return;
  }
  receive(Inbound{std::move(*parsed), source, flow, local, {}});
}

void Core::receive(Inbound inbound) {
  if (const auto valid = validate(inbound.message); !valid) {
    counters_.parse_error();
    if (inbound.message.is_request()) {
      reply_error(serialize(inbound.message), valid.error(), inbound.source, inbound.flow);
    }
    return;
  }
  if (inbound.message.is_response()) {
    handle_response(inbound);
  } else {
    handle_request(std::move(inbound));
  }
}

void Core::on_send_failed(const Destination& to) { layer_.on_send_failed(to); }

void Core::on_flow_closed(FlowId flow) { layer_.on_flow_closed(flow); }

void Core::compact() {
  layer_.compact();
  common::shrink_if_sparse(contexts_);
  common::shrink_if_sparse(branch_owner_);
  common::shrink_if_sparse(deliveries_);
  dialogs_.compact();
}

void Core::reply_error(std::string_view raw, const ParseError& error, const Endpoint& source, FlowId flow) {
  const auto response = error_response_for(raw, error);
  if (!response) return;
  counters_.response_sent(error_status(error).code);
  Outgoing out(*response);
  sender_.send(Destination{source, flow}, out);
}

void Core::respond(ServerTransactionId id, const Message& request, int code, std::string_view reason) {
  layer_.send_response(id, make_response(request, code, reason));
  report_final(request, code, reason);
}

// --- call records and stored messages

namespace {

CallStart call_start(const Inbound& in, std::string callee, CallStart::Direction direction, std::string peer_domain) {
  const auto from = from_header(in.message);
  CallStart call;
  call.call_id = std::string(call_id_of(in.message));
  call.caller = from ? aor_of(*from) : std::string();
  call.callee = std::move(callee);
  call.direction = direction;
  call.peer_domain = std::move(peer_domain);
  call.source_ip = in.source.host;
  return call;
}

}  // namespace

void Core::refuse(ServerTransactionId id, const Inbound& in, int code, std::string_view reason) {
  const Message& m = in.message;
  const auto to = to_header(m);
  if (calls_ == nullptr || m.method() != "INVITE" || (to && to->tag()) ||
      open_calls_.contains(std::string(call_id_of(m)))) {
    respond(id, m, code, reason);
    return;
  }
  layer_.send_response(id, make_response(m, code, reason));
  const std::string source = rate_limit_source_key(in.source.host);
  if (refusal_records_.blocked(source) || refusal_records_.record_failure(source)) return;
  // Whom it was for, as far as the request says.
  const auto uri = parse_uri(m.request_uri());
  const bool sip_uri = uri && uri->is_sip();
  std::string callee = sip_uri ? user_of(*uri).value_or("") + "@" + std::string(uri->sip_uri.host)
                       : to    ? aor_of(*to)
                               : std::string();
  const bool for_us = sip_uri && is_us(uri->sip_uri.host, uri->sip_uri.port);
  if (!in.peer.empty()) {
    calls_->call_refused(call_start(in, std::move(callee), CallStart::Direction::incoming, in.peer), code, reason);
  } else if (for_us || !sip_uri) {
    calls_->call_refused(call_start(in, std::move(callee), CallStart::Direction::local, ""), code, reason);
  } else {
    calls_->call_refused(
        call_start(in, std::move(callee), CallStart::Direction::outgoing, std::string(uri->sip_uri.host)), code,
        reason);
  }
}

void Core::start_call(const Inbound& in, std::string callee, CallStart::Direction direction, std::string peer_domain) {
  if (calls_ == nullptr) return;
  CallStart call = call_start(in, std::move(callee), direction, std::move(peer_domain));
  if (!open_calls_.insert(call.call_id).second) return;  // a retried INVITE (after 407) is the same attempt
  calls_->call_started(call);
}

void Core::report_final(const Message& request, int code, std::string_view reason) {
  if (calls_ == nullptr || code < 200 || request.method() != "INVITE") return;
  const auto it = open_calls_.find(std::string(call_id_of(request)));
  if (it == open_calls_.end()) return;
  const std::string call_id = std::move(open_calls_.extract(it).value());
  if (code < 300) {
    calls_->call_answered(call_id);
  } else {
    calls_->call_failed(call_id, code, reason);
  }
}

void Core::store_offline(ServerTransactionId id, const Message& request, std::string_view user) {
  OfflineMessage message;
  message.recipient = std::string(user);
  if (const auto from = from_header(request)) message.sender = aor_of(*from);
  message.content_type = std::string(request.value(HeaderId::content_type).value_or("text/plain"));
  message.body = std::string(request.body());
  messages_->store(std::move(message), [this, id, request](int code, const std::string& reason) {
    layer_.send_response(id, make_response(request, code, reason));
  });
}

void Core::deliver(std::string_view user, const OfflineMessage& message, std::function<void(bool)> done) {
  const auto bindings = location_.lookup(user);
  const std::string domain(site_domain());
  auto delivery = std::make_shared<Delivery>();
  delivery->done = std::move(done);
  const std::string call_id = random_.token() + random_.token();
  for (const auto& b : bindings) {
    const Protocol p = b.destination.endpoint.protocol;
    Message m = Message::make_request("MESSAGE", b.contact);
    m.add_header("Via", via_for(p, Endpoint{p, "", 0}, "z9hG4bK" + random_.token()));
    m.add_header("Max-Forwards", "70");
    m.add_header("From", "<sip:" + message.sender + ">;tag=" + random_.token());
    m.add_header("To", "<sip:" + std::string(user) + "@" + domain + ">");
    m.add_header("Call-ID", call_id);
    m.add_header("CSeq", "1 MESSAGE");
    m.add_header("Content-Type", message.content_type);
    m.set_body(message.body);
    const ClientTransactionId cid = layer_.start_client(m, b.destination);
    if (cid == 0) continue;
    ++delivery->pending;
    deliveries_.emplace(cid, delivery);
  }
  if (delivery->pending == 0) {
    // Never from inside deliver(): the caller may be iterating.
    timers_.start(Duration{0}, [delivery] { delivery->done(false); });
  }
}

void Core::delivery_result(ClientTransactionId id, bool accepted) {
  const auto it = deliveries_.find(id);
  if (it == deliveries_.end()) return;
  auto delivery = it->second;
  deliveries_.erase(it);
  delivery->accepted = delivery->accepted || accepted;
  if (--delivery->pending == 0) delivery->done(delivery->accepted);
}

// --- requests

void Core::handle_request(Inbound in) {
  counters_.request_received(in.message.method());
  stamp_via(in.message, in.source);
  const auto r = layer_.receive_request(in);
  switch (r.kind) {
    case ServerRequest::Kind::absorbed: return;
    case ServerRequest::Kind::ack: forward_ack(in); return;
    case ServerRequest::Kind::new_transaction: dispatch(r.id, in); return;
    case ServerRequest::Kind::overloaded: {
      // Too many transactions in memory: no new state for this request.
      // The phone retries after Retry-After (RFC 3261 §21.5.4).
      auto busy = make_response(in.message, 503, "Service Unavailable (overloaded)");
      busy.add_header("Retry-After", "5");
      layer_.send_stateless(in, busy);
      return;
    }
  }
}

void Core::dispatch(ServerTransactionId id, Inbound& in) {
  RequestContext ctx(id, in);
  if (chain_.run(ctx, *this) == RequestProcessor::Verdict::next) {
    // Every request ends somewhere in the chain; this is the assembly's bug.
    respond(id, in.message, 500, "Server Internal Error (no step took the request)");
  }
}

// --- RequestActions, for the chain's steps

void Core::send_response(const RequestContext& ctx, const Message& response) { layer_.send_response(ctx.id, response); }

void Core::respond(const RequestContext& ctx, int code, std::string_view reason) {
  respond(ctx.id, ctx.message(), code, reason);
}

void Core::refuse(const RequestContext& ctx, int code, std::string_view reason) {
  refuse(ctx.id, ctx.in, code, reason);
}

void Core::stay_silent(const RequestContext& ctx) { layer_.abandon_server(ctx.id); }

void Core::forward(const RequestContext& ctx, Message request, std::vector<ForwardTarget> targets) {
  proxy(ctx.id, ctx.in, std::move(request), targets);
}

void Core::cancel(const RequestContext& ctx) { handle_cancel(ctx.id, ctx.in); }

void Core::call_started(const RequestContext& ctx, std::string callee, CallStart::Direction direction,
                        std::string peer_domain) {
  start_call(ctx.in, std::move(callee), direction, std::move(peer_domain));
}

void Core::call_hung_up(const RequestContext& ctx) {
  if (calls_ == nullptr) return;
  if (const auto from = from_header(ctx.message())) calls_->call_hung_up(call_id_of(ctx.message()), aor_of(*from));
}

bool Core::store_offline(const RequestContext& ctx, std::string_view user) {
  if (messages_ == nullptr) return false;
  store_offline(ctx.id, ctx.message(), user);
  return true;
}

void Core::handle_cancel(ServerTransactionId id, const Inbound& in) {
  const ServerTransactionId invite = layer_.find_invite_for_cancel(in.message);
  if (invite == 0) {
    respond(id, in.message, 481, "Call/Transaction Does Not Exist");
    return;
  }
  respond(id, in.message, 200, "OK");
  const auto it = contexts_.find(invite);
  if (it == contexts_.end()) return;
  Context& ctx = *it->second;
  if (!ctx.final_sent) {
    // Answered here at once rather than waiting for the branches' 487s,
    // so that a dead phone cannot hold the caller (a 2xx that races the
    // CANCEL is still forwarded, statelessly).
    ctx.final_sent = true;
    respond(invite, ctx.request.message, 487, "Request Terminated");
  }
  cancel_branches(ctx);
  finish_if_done(invite);
}

std::size_t Core::end_calls(std::string_view reason) {
  shutdown_.active = true;
  shutdown_.reason = std::string(reason);
  std::vector<ServerTransactionId> ringing;
  for (const auto& [key, ctx] : contexts_) {
    if (ctx->invite && !ctx->final_sent) ringing.push_back(key);
  }
  for (const ServerTransactionId key : ringing) {
    Context& ctx = *contexts_.at(key);
    ctx.final_sent = true;
    respond(key, ctx.request.message, 503, "Service Unavailable (" + shutdown_.reason + ")");
    cancel_branches(ctx);
    finish_if_done(key);
  }
  const std::string_view site = site_domain();
  const auto dialogs = dialogs_.take_all();
  for (const auto& d : dialogs) {
    for (const bool to_caller : {true, false}) {
      Message bye = make_goodbye(d, to_caller, reason);
      const Destination& to = to_caller ? d.caller.destination : d.callee.destination;
      const Protocol p = to.endpoint.protocol;
      bye.add_header_front("Via", via_for(p, Endpoint{p, "", 0}, "z9hG4bK" + random_.token()));
      if (const ClientTransactionId cid = layer_.start_client(bye, to); cid != 0) goodbyes_.insert(cid);
    }
    if (calls_ != nullptr) calls_->call_hung_up(d.call_id, site);
  }
  return dialogs.size();
}

// Stateless forwarding of an ACK that matched no transaction: the ACK for
// a 2xx, end to end (§16.11). Only through our own Record-Route.
void Core::forward_ack(Inbound& in) {
  Message& m = in.message;
  const auto routes = m.values(HeaderId::route);
  if (routes.empty()) return;
  const auto top = parse_name_addr(routes.front());
  if (!top || !top->uri.is_sip() || !is_us(top->uri.sip_uri.host, top->uri.sip_uri.port)) return;
  const auto* rt = find_param(top->uri.sip_uri.params, "rt");
  if (!rt || !rt->value || !tokens_.matches(call_id_of(m), *rt->value)) return;
  pop_first_value(m, HeaderId::route);
  std::optional<Destination> dest;
  if (routes.size() > 1) {
    if (const auto next = parse_name_addr(routes[1])) dest = next_hop_.resolve(next->uri.text, "");
  } else {
    const auto uri = parse_uri(m.request_uri());
    if (!uri || (uri->is_sip() && is_us(uri->sip_uri.host, uri->sip_uri.port))) return;
    std::string to_user;
    if (const auto to = to_header(m); to && to->uri.is_sip() && is_local_host(to->uri.sip_uri.host)) {
      to_user = user_of(to->uri).value_or("");
    }
    dest = next_hop_.resolve(m.request_uri(), to_user);
  }
  if (!dest) return;
  const auto max_forwards = forwarded_max_forwards(m);
  if (!max_forwards) return;
  m.set_header("Max-Forwards", std::to_string(*max_forwards));
  m.add_header_front("Via", via_for(dest->endpoint.protocol, in.local, stateless_branch(m)));
  Outgoing out(m);
  sender_.send(*dest, out);
}

// --- the stateful proxy

void Core::proxy(ServerTransactionId id, const Inbound& in, Message base, const std::vector<ForwardTarget>& targets) {
  auto ctx = std::make_unique<Context>();
  ctx->server = id;
  ctx->request = in;
  ctx->invite = in.message.method() == "INVITE";
  if (ctx->invite) respond(id, in.message, 100, "Trying");
  // Record-Route names the listener the request came in on, so that the
  // far end reaches us the same way; a request from a peer site goes out
  // on the LAN, and each branch then names the LAN listener of its phone's
  // transport.
  const bool record_route = record_routes(in.message.method());
  const bool per_branch_route = record_route && !in.peer.empty();
  if (record_route && !per_branch_route) {
    base.add_header_front("Record-Route", record_route_for(in.local, call_id_of(in.message)));
  }

  Context& c = *ctx;
  contexts_.emplace(id, std::move(ctx));
  c.branches.resize(targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i) {
    Branch& b = c.branches[i];
    b.destination = targets[i].destination;
    b.request = base;
    if (!targets[i].request_uri.empty()) b.request.set_request_uri(targets[i].request_uri);
    if (per_branch_route) {
      const Endpoint lan{b.destination.endpoint.protocol, "", 0};
      b.request.add_header_front("Record-Route", record_route_for(lan, call_id_of(in.message)));
    }
    b.request.add_header_front("Via", via_for(b.destination.endpoint.protocol, in.local, "z9hG4bK" + random_.token()));
  }
  for (auto& b : c.branches) {
    b.id = layer_.start_client(b.request, b.destination);
    if (b.id == 0) {
      b.done = true;
      b.outcome = BranchOutcome{500, true};
      continue;
    }
    branch_owner_.emplace(b.id, id);
    if (c.invite) {
      const ClientTransactionId cid = b.id;
      b.timer_c = timers_.start(settings_.timer_c, [this, id, cid] { timer_c_fired(id, cid); });
    }
  }
  finish_if_done(id);
}

void Core::on_response(ClientTransactionId cid, const Inbound& in) {
  if (goodbyes_.count(cid) != 0) {
    if (in.message.status_code() >= 200) goodbyes_.erase(cid);
    return;
  }
  if (deliveries_.count(cid) != 0) {
    const int status = in.message.status_code();
    if (status >= 200) delivery_result(cid, status < 300);
    return;
  }
  const auto owner = branch_owner_.find(cid);
  if (owner == branch_owner_.end()) {
    // A branch whose context is gone (or our own CANCEL): only 2xx to an
    // INVITE must still travel upstream.
    if (in.message.status_code() / 100 == 2) {
      if (const auto cseq = cseq_header(in.message); cseq && cseq->method == "INVITE") {
        Message resp = in.message;
        pop_first_value(resp, HeaderId::via);
        forward_response_statelessly(resp);
      }
    }
    return;
  }
  const ServerTransactionId key = owner->second;
  Context& ctx = *contexts_.at(key);
  const auto bit =
      std::find_if(ctx.branches.begin(), ctx.branches.end(), [cid](const Branch& b) { return b.id == cid; });
  if (bit == ctx.branches.end()) return;
  Branch& branch = *bit;
  const int code = in.message.status_code();
  Message resp = in.message;
  pop_first_value(resp, HeaderId::via);

  if (code < 200) {
    branch.provisional = true;
    if (branch.cancel_wanted && !branch.cancel_sent) {
      cancel_branch(ctx, branch);
      return;
    }
    if (code > 100 && !ctx.final_sent) layer_.send_response(ctx.server, resp);
    if (code > 100 && branch.timer_c != 0) {  // §16.7 step 2: a provisional resets Timer C
      timers_.cancel(branch.timer_c);
      branch.timer_c = timers_.start(settings_.timer_c, [this, key, cid] { timer_c_fired(key, cid); });
    }
    return;
  }

  if (code < 300) {
    if (ctx.invite) {
      // Every 2xx to an INVITE goes upstream (§16.7 step 5).
      if (!layer_.send_response(ctx.server, resp)) forward_response_statelessly(resp);
      if (const auto to = to_header(ctx.request.message); to && !to->tag()) {
        dialogs_.confirm(ctx.request.message, Destination{ctx.request.source, ctx.request.flow}, resp,
                         branch.destination, clock_.now());
      }
      report_final(ctx.request.message, code, resp.reason_phrase());
      ctx.final_sent = true;
      if (!branch.done) {
        branch.done = true;
        branch.outcome = BranchOutcome{code, false};
        branch_final(ctx, branch);
      }
      cancel_branches(ctx);
    } else {
      if (!ctx.final_sent) layer_.send_response(ctx.server, resp);
      ctx.final_sent = true;
      branch.done = true;
      branch.outcome = BranchOutcome{code, false};
      branch_final(ctx, branch);
    }
    finish_if_done(key);
    return;
  }

  if (branch.done) return;
  branch.done = true;
  branch.outcome = BranchOutcome{code, false};
  branch.response = std::move(resp);
  branch_final(ctx, branch);
  if (code >= 600 && !ctx.final_sent) {
    // A 6xx ends the search (§16.7 step 5); forwarded at once so that a
    // branch that never answers our CANCEL cannot delay it.
    ctx.final_sent = true;
    layer_.send_response(ctx.server, *branch.response);
    report_final(ctx.request.message, code, branch.response->reason_phrase());
    cancel_branches(ctx);
  }
  finish_if_done(key);
}

void Core::on_client_error(ClientTransactionId cid, TransactionError /*error*/) {
  if (goodbyes_.erase(cid) != 0) return;
  if (deliveries_.count(cid) != 0) {
    delivery_result(cid, false);
    return;
  }
  const auto owner = branch_owner_.find(cid);
  if (owner == branch_owner_.end()) return;
  const ServerTransactionId key = owner->second;
  Context& ctx = *contexts_.at(key);
  for (auto& b : ctx.branches) {
    if (b.id != cid || b.done) continue;
    // Timeouts and transport errors both mean "the phone is not there":
    // counted as 408 (rather than §16.9's 503, which would reach the
    // caller as 500).
    b.done = true;
    b.outcome = BranchOutcome{408, true};
    branch_final(ctx, b);
  }
  branch_owner_.erase(cid);
  finish_if_done(key);
}

void Core::on_server_error(ServerTransactionId id, TransactionError error) {
  const auto it = contexts_.find(id);
  if (it == contexts_.end()) return;
  Context& ctx = *it->second;
  if (error == TransactionError::transport && !ctx.final_sent) {
    ctx.final_sent = true;  // nobody left to answer: stop ringing
    cancel_branches(ctx);
  }
  finish_if_done(id);
}

void Core::branch_final(Context& /*ctx*/, Branch& branch) {
  if (branch.timer_c != 0) timers_.cancel(branch.timer_c);
  branch.timer_c = 0;
}

void Core::cancel_branches(Context& ctx) {
  for (auto& b : ctx.branches) cancel_branch(ctx, b);
}

void Core::cancel_branch(Context& ctx, Branch& b) {
  if (!ctx.invite || b.done || b.cancel_sent) return;
  if (!b.provisional) {
    b.cancel_wanted = true;  // §9.1: not before a provisional response
    return;
  }
  b.cancel_sent = true;
  layer_.start_client(TransactionLayer::make_cancel(b.request), b.destination);
}

void Core::timer_c_fired(ServerTransactionId key, ClientTransactionId cid) {
  const auto it = contexts_.find(key);
  if (it == contexts_.end()) return;
  Context& ctx = *it->second;
  for (auto& b : ctx.branches) {
    if (b.id != cid || b.done) continue;
    b.timer_c = 0;
    if (b.provisional && !b.cancel_sent) {
      b.cancel_sent = true;
      layer_.start_client(TransactionLayer::make_cancel(b.request), b.destination);
    }
    b.done = true;
    b.outcome = BranchOutcome{408, true};
    layer_.abandon_client(cid);
    branch_owner_.erase(cid);
  }
  finish_if_done(key);
}

void Core::finish_if_done(ServerTransactionId key) {
  const auto it = contexts_.find(key);
  if (it == contexts_.end()) return;
  Context& ctx = *it->second;
  if (!std::all_of(ctx.branches.begin(), ctx.branches.end(), [](const Branch& b) { return b.done; })) return;
  if (!ctx.final_sent && !ctx.branches.empty()) {
    ctx.final_sent = true;
    std::vector<BranchOutcome> outcomes;
    outcomes.reserve(ctx.branches.size());
    for (const auto& b : ctx.branches) outcomes.push_back(b.outcome);
    Branch& best = ctx.branches[choose_best_response(outcomes)];
    if (best.response) {
      Message resp = *best.response;
      // §16.7 step 6: a branch's 503 says that hop is unavailable, not us.
      if (resp.status_code() == 503 && !answered_by_site(resp)) resp.set_status(500, "Server Internal Error");
      layer_.send_response(ctx.server, resp);
      report_final(ctx.request.message, resp.status_code(), resp.reason_phrase());
    } else if (best.outcome.code == 408) {
      respond(ctx.server, ctx.request.message, 408, "Request Timeout");
    } else {
      respond(ctx.server, ctx.request.message, 500, "Server Internal Error");
    }
  }
  erase_context(key);
}

void Core::erase_context(ServerTransactionId key) {
  const auto it = contexts_.find(key);
  if (it == contexts_.end()) return;
  for (auto& b : it->second->branches) {
    if (b.timer_c != 0) timers_.cancel(b.timer_c);
    // A branch left alive (a 2xx one, Accepted) forwards any further 2xx
    // statelessly from now on.
    branch_owner_.erase(b.id);
  }
  contexts_.erase(it);
}

// --- responses

void Core::handle_response(const Inbound& in) {
  counters_.response_received(in.message.status_code());
  if (layer_.receive_response(in)) return;
  // Stray: only a 2xx to an INVITE is forwarded (§16.7: proxies forward
  // every 2xx, the caller's UA needs it to send its ACK).
  if (in.message.status_code() / 100 != 2) return;
  const auto cseq = cseq_header(in.message);
  if (!cseq || cseq->method != "INVITE") return;
  const auto vias = via_headers(in.message);
  if (!vias || vias->size() < 2 || !is_us(vias->front().host, vias->front().port)) return;
  Message resp = in.message;
  pop_first_value(resp, HeaderId::via);
  forward_response_statelessly(resp);
}

// `response` already has our Via removed; it goes where its top Via says
// (§18.2.2 with received/rport). A Via that names a host rather than an
// address is a peer site's (edge privacy puts its domain there): such a
// response goes over that site's link, where edge privacy maps it or drops
// it, and never to the link's address on a new connection, which would
// carry the phone's details past the edge. With no link, it is dropped.
void Core::forward_response_statelessly(const Message& response) {
  const auto vias = via_headers(response);
  if (!vias) return;
  const Via& v = vias->front();
  const auto proto = protocol_from_token(v.transport);
  if (!proto) return;
  if (!is_ip_literal(v.host)) {
    const auto link = peers_.next_hop(v.host);
    if (!link) return;
    counters_.response_sent(response.status_code());
    Outgoing out(response);
    sender_.send(*link, out);
    return;
  }
  Endpoint to;
  to.protocol = *proto;
  to.host = std::string(strip_brackets(v.received().value_or(v.host)));
  to.port = v.rport().value_or(v.port.value_or(default_port(*proto)));
  counters_.response_sent(response.status_code());
  Outgoing out(response);
  sender_.send(Destination{to, 0}, out);
}

// The site answered in a phone's or peer's place when it could not send
// the request on (its media relay out of ports): such answers name the site
// as the agent of a Warning (RFC 3261 §20.43), and a 503 of the site's own
// is the caller's to see, with its Retry-After.
bool Core::answered_by_site(const Message& response) const {
  const std::string_view domain = site_domain();
  for (const auto warning : response.values(HeaderId::warning)) {
    const auto agent_at = warning.find(' ');
    if (agent_at == std::string_view::npos) continue;
    const auto agent = warning.substr(agent_at + 1, warning.find(' ', agent_at + 1) - agent_at - 1);
    if (iequals(agent, domain)) return true;
  }
  return false;
}

// --- addresses

std::string_view Core::site_domain() const {
  return settings_.local_domain.empty() ? std::string_view(directory_.local_domain())
                                        : std::string_view(settings_.local_domain);
}

bool Core::is_local_host(std::string_view host) const { return names_.is_local_host(host); }

bool Core::is_us(std::string_view host, std::optional<std::uint16_t> port) const { return names_.is_us(host, port); }

Endpoint Core::listener_for(Protocol p, const Endpoint& local) const {
  // The listener the request came in on, if it is of that protocol...
  for (const auto& e : settings_.listeners) {
    if (e.protocol == p && e.protocol == local.protocol && e.port == local.port &&
        (e.host == local.host || local.host == "0.0.0.0" || local.host == "::")) {
      return e;
    }
  }
  // ...else the first of that protocol.
  for (const auto& e : settings_.listeners) {
    if (e.protocol == p) return e;
  }
  Endpoint e = local;
  e.protocol = p;
  return e;
}

std::string Core::via_for(Protocol p, const Endpoint& local, std::string_view branch) const {
  const Endpoint e = listener_for(p, local);
  return "SIP/2.0/" + std::string(to_string(p)) + " " + host_for_uri(e.host) + ":" + std::to_string(e.port) +
         ";branch=" + std::string(branch);
}

std::string Core::record_route_for(const Endpoint& local, std::string_view call_id) const {
  const Endpoint e = listener_for(local.protocol, local);
  return "<sip:" + host_for_uri(e.host) + ":" + std::to_string(e.port) +
         ";transport=" + std::string(transport_param(e.protocol)) + ";lr;rt=" + tokens_.token(call_id) + ">";
}

}  // namespace sipsite::sip
