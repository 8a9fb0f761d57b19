#include "sipsite/edge/peer_gateway.hpp"

#include "sipsite/edge/call_media.hpp"

#include <sipsite/pki/domain_name.hpp>
#include <sipsite/sip/message/accessors.hpp>
#include <sipsite/sip/message/response.hpp>
#include <sipsite/sip/message/serializer.hpp>
#include <sipsite/sip/message/uri.hpp>

#include <algorithm>

namespace sipsite::edge {

namespace {

constexpr unsigned kScanEvery = 10;  // sweeps per scan (PeerGatewaySettings::sweep_interval)
// The flow a revocation BYE claims to come from: never a live link, so the
// local party's answer to it goes nowhere.
constexpr sip::FlowId kRevokedFlow = sip::kFederationFlowBit;
constexpr std::size_t kMaxRememberedFlows = 4096;

std::optional<std::string> host_of(std::string_view uri_text) {
  const auto uri = sip::parse_uri(uri_text);
  if (!uri || !uri->is_sip()) return std::nullopt;
  return pki::lowercase_domain(uri->sip_uri.host);
}

}  // namespace

PeerGateway::PeerGateway(PeerGatewaySettings settings, sip::Clock& clock, sip::Timers& timers, sip::Random& random)
    : settings_(std::move(settings)), clock_(clock), timers_(timers), privacy_(settings_.privacy, clock, random) {}

PeerGateway::~PeerGateway() {
  if (sweep_timer_ != 0) timers_.cancel(sweep_timer_);
}

void PeerGateway::attach(sip::Core& core, PeerLinks& links, media::SdpAnchor* relay) {
  core_ = &core;
  links_ = &links;
  relay_ = relay;
  schedule_sweep();
}

void PeerGateway::schedule_sweep() {
  if (sweep_timer_ != 0) timers_.cancel(sweep_timer_);
  sweep_timer_ = timers_.start(settings_.sweep_interval, [this] {
    sweep_timer_ = 0;
    privacy_.sweep();
    if (++sweeps_ % kScanEvery != 0) {
      schedule_sweep();
      return;
    }
    if (relay_ != nullptr) {
      for (auto& [fp, calls] : media_calls_)
        std::erase_if(calls, [this](const auto& c) { return !relay_->protection(c.first); });
    }
    if (flow_peer_.size() > kMaxRememberedFlows && links_ != nullptr) {
      std::erase_if(flow_peer_, [this](const auto& kv) { return !links_->peer_of(kv.first); });
    }
    schedule_sweep();
  });
}

std::optional<pki::Fingerprint> PeerGateway::peer_of_domain(std::string_view domain) const {
  const auto it = by_domain_.find(pki::lowercase_domain(domain));
  if (it == by_domain_.end()) return std::nullopt;
  return it->second;
}

void PeerGateway::replace_peers(const std::map<pki::Fingerprint, std::string>& trusted) {
  std::vector<std::pair<pki::Fingerprint, std::string>> gone;
  for (const auto& [fp, domain] : trusted_) {
    if (trusted.count(fp) == 0) gone.emplace_back(fp, domain);
  }
  trusted_ = trusted;
  by_domain_.clear();
  for (const auto& [fp, domain] : trusted_) by_domain_.emplace(pki::lowercase_domain(domain), fp);
  std::erase_if(flow_peer_, [this](const auto& kv) { return trusted_.count(kv.second) == 0; });

  for (const auto& [fp, domain] : gone) forget(fp, domain);
}

void PeerGateway::update_peers(const std::vector<std::pair<pki::Fingerprint, std::string>>& trusted,
                               const std::vector<pki::Fingerprint>& untrusted) {
  for (const auto& fp : untrusted) {
    const auto it = trusted_.find(fp);
    if (it == trusted_.end()) continue;
    const std::string domain = it->second;
    trusted_.erase(it);
    const auto by = by_domain_.find(pki::lowercase_domain(domain));
    if (by != by_domain_.end() && by->second == fp) by_domain_.erase(by);
    std::erase_if(flow_peer_, [&fp](const auto& kv) { return kv.second == fp; });
    forget(fp, domain);
  }
  for (const auto& [fp, domain] : trusted) {
    auto [it, added] = trusted_.try_emplace(fp, domain);
    if (!added && it->second != domain) {
      const auto by = by_domain_.find(pki::lowercase_domain(it->second));
      if (by != by_domain_.end() && by->second == fp) by_domain_.erase(by);
      it->second = domain;
    }
    by_domain_[pki::lowercase_domain(domain)] = fp;
  }
}

// A peer left the trusted set: its rate bucket, media and calls end.
void PeerGateway::forget(const pki::Fingerprint& fp, const std::string& domain) {
  buckets_.erase(fp);
  if (relay_ != nullptr) {
    for (const auto& [key, answered] : media_calls_[fp]) relay_->end(key);
  }
  media_calls_.erase(fp);
  if (core_ != nullptr) {
    auto byes = privacy_.end_dialogs(domain);
    counters_.revoked_calls += byes.size();
    if (!byes.empty()) observer_->calls_ended_by_revocation(domain, byes.size());
    for (auto& bye : byes) {
      const sip::Endpoint remote = remote_.count(fp) != 0 ? remote_[fp] : sip::Endpoint{sip::Protocol::tls, domain, 0};
      core_->receive(sip::Inbound{std::move(bye), remote, kRevokedFlow, remote, domain});
    }
  }
  remote_.erase(fp);
}

void PeerGateway::link_up(const pki::Fingerprint& peer, sip::FlowId flow, const sip::Endpoint& remote) {
  flow_peer_[flow] = peer;
  remote_[peer] = remote;
}

sip::PeerRoute PeerGateway::route(const sip::Inbound& request, std::string_view /*user*/) {
  sip::PeerRoute refuse;  // 403: not a trusted peer's domain
  const auto domain = host_of(request.message.request_uri());
  if (!domain) return refuse;
  const auto fp = peer_of_domain(*domain);
  if (!fp) return refuse;
  const auto dest = next_hop(*domain);
  if (!dest) {
    refuse.code = 480;
    refuse.reason = "Temporarily Unavailable (site " + *domain + " is not connected)";
    return refuse;
  }
  return sip::PeerRoute{sip::PeerRoute::Action::forward, 0, "", *dest};
}

std::optional<sip::Destination> PeerGateway::next_hop(std::string_view host) {
  if (links_ == nullptr) return std::nullopt;
  const auto fp = peer_of_domain(host);
  if (!fp) return std::nullopt;
  const auto flow = links_->flow_for(*fp);
  if (!flow) return std::nullopt;
  flow_peer_[*flow] = *fp;
  const auto remote = remote_.find(*fp);
  return sip::Destination{
      remote != remote_.end() ? remote->second : sip::Endpoint{sip::Protocol::tls, std::string(host), 0}, *flow};
}

PeerSend PeerGateway::send(const sip::Destination& to, sip::Outgoing& out) {
  const TrustedPeer* peer = trusted_peer_of(to.flow);
  if (peer == nullptr) return {false, {}};
  const sip::Message& original = out.original();
  if (refused_.is_ack_of_refused(original)) {  // for an INVITE the peer never got
    out.stop();
    return {};
  }
  const auto& [fp, domain] = *peer;
  const auto local_call_id = sip::call_id_header(original);
  const std::string call_id(local_call_id ? *local_call_id : std::string_view());
  sip::Message& m = out.edit();
  if (!privacy_.outbound(m, domain)) {  // a response of no mapping: dropped
    out.stop();
    return {m.is_response(), {}};
  }
  if (const auto refused = anchor(m, media::Side::lan, fp)) {
    observer_->sdp_refused(RefusedSdp::toward_peer, domain, refused->reason);
    ++counters_.refused;
    out.stop();
    // A response or an ACK just does not leave (a response's sender
    // retransmits, then gives up); a request is answered here at once, in
    // the peer's place, as the core sent it (before edge privacy mapped it).
    if (original.is_response() || original.method() == "ACK") return {};
    refused_.remember(original);
    return {true, refusal_answer(original, *refused, settings_.privacy.local_domain)};
  }
  if (const auto link_call_id = sip::call_id_header(m)) record_protection(m, fp, std::string(*link_call_id), call_id);
  ++counters_.sent;
  return {links_->send(to.flow, out.wire()), {}};
}

bool PeerGateway::send_wire(const sip::Destination& to, std::string bytes) {
  if (trusted_peer_of(to.flow) == nullptr) return false;
  ++counters_.sent;
  return links_->send(to.flow, std::move(bytes));
}

const PeerGateway::TrustedPeer* PeerGateway::trusted_peer_of(sip::FlowId flow) const {
  if (links_ == nullptr) return nullptr;
  const auto known = flow_peer_.find(flow);
  if (known == flow_peer_.end()) return nullptr;
  const auto trusted = trusted_.find(known->second);
  return trusted == trusted_.end() ? nullptr : &*trusted;
}

bool PeerGateway::admit(const pki::Fingerprint& peer) {
  Bucket& b = buckets_[peer];
  const auto now = clock_.now();
  if (b.last == sip::TimePoint{}) {
    b.tokens = settings_.burst;
  } else {
    const double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(settings_.burst, b.tokens + elapsed * settings_.requests_per_second);
  }
  b.last = now;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

void PeerGateway::answer(sip::FlowId flow, const sip::Message& request, int code, std::string_view reason) {
  if (!request.is_request() || request.method() == "ACK" || code == 0) return;
  sip::Message response = sip::make_response(request, code, reason);
  if (code == 503) response.add_header("Retry-After", "1");
  links_->send(flow, sip::serialize(response));
}

void PeerGateway::receive(const pki::Fingerprint& peer, sip::Inbound inbound) {
  if (core_ == nullptr || links_ == nullptr) return;
  const auto trusted = trusted_.find(peer);
  if (trusted == trusted_.end()) return;  // revoked while the message was in flight
  ++counters_.received;
  flow_peer_[inbound.flow] = peer;
  if (inbound.message.is_request() && !admit(peer)) {
    ++counters_.rate_limited;
    answer(inbound.flow, inbound.message, 503, "Service Unavailable (request rate over this site's limit)");
    return;
  }
  if (const auto refused = anchor(inbound.message, media::Side::peer, peer)) {
    ++counters_.refused;
    observer_->sdp_refused(RefusedSdp::from_peer, trusted->second, refused->reason);
    answer(inbound.flow, inbound.message, refused->sip_status(), refused->reason);
    return;
  }
  const auto link_call_id = sip::call_id_header(inbound.message);
  const std::string key(link_call_id ? *link_call_id : std::string_view());
  if (const auto refusal = privacy_.inbound(inbound.message, trusted->second)) {
    ++counters_.refused;
    answer(inbound.flow, inbound.message, refusal->code, refusal->reason);
    return;
  }
  if (const auto call_id = sip::call_id_header(inbound.message))
    record_protection(inbound.message, peer, key, *call_id);
  inbound.peer = trusted->second;
  observer_->received_from_peer(inbound.message);
  core_->receive(std::move(inbound));
}

void PeerGateway::record_protection(const sip::Message& m, const pki::Fingerprint& peer, const std::string& key,
                                    std::string_view call_id) {
  if (relay_ == nullptr || !carries_sdp(m)) return;
  const auto calls = media_calls_.find(peer);
  if (calls == media_calls_.end()) return;
  const auto call = calls->second.find(key);
  if (call == calls->second.end() || !call->second) return;  // not answered yet
  if (const auto protection = relay_->protection(key)) observer_->call_protection(call_id, *protection);
}

std::optional<media::MediaError> PeerGateway::anchor(sip::Message& m, media::Side from, const pki::Fingerprint& peer) {
  if (relay_ == nullptr) return std::nullopt;
  const auto call_id = sip::call_id_header(m);
  const auto cseq = sip::cseq_header(m);
  if (!call_id || !cseq) return std::nullopt;
  const std::string key(*call_id);
  auto& calls = media_calls_[peer];
  const auto known = calls.find(key);
  const bool answered = known != calls.end() && known->second;
  const MediaEvent event = media_event(m, cseq->method, answered);
  if (event == MediaEvent::ended) {
    relay_->end(key);
    if (known != calls.end()) calls.erase(known);
    return std::nullopt;
  }
  const bool answer = event == MediaEvent::answered;
  if (answer && known != calls.end()) known->second = true;
  if (!carries_sdp(m)) return std::nullopt;
  auto rewritten = relay_->rewrite(key, from, m.body(), media::Scope::edge);
  if (!rewritten) return rewritten.error();
  calls[key] = answered || answer;
  m.set_body(*rewritten);
  return std::nullopt;
}

}  // namespace sipsite::edge
