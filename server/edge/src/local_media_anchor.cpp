#include "sipsite/edge/local_media_anchor.hpp"

#include "sipsite/edge/call_media.hpp"

#include <sipsite/sip/message/accessors.hpp>
#include <sipsite/sip/message/header_id.hpp>
#include <sipsite/sip/message/response.hpp>

#include <algorithm>

namespace sipsite::edge {

namespace {

constexpr auto kSweepInterval = std::chrono::seconds(10);
constexpr std::string_view kKeyPrefix = "local/";

}  // namespace

LocalMediaAnchor::LocalMediaAnchor(media::SdpAnchor& relay, sip::Timers& timers, sip::SiteNames site)
    : relay_(relay), timers_(timers), site_(std::move(site)) {}

LocalMediaAnchor::~LocalMediaAnchor() {
  if (sweep_timer_ != 0) timers_.cancel(sweep_timer_);
}

bool LocalMediaAnchor::is_local_call(const sip::Message& m) const {
  const auto from = sip::from_header(m);
  const auto to = sip::to_header(m);
  return from && to && from->uri.is_sip() && to->uri.is_sip() && site_.is_local_host(from->uri.sip_uri.host) &&
         site_.is_local_host(to->uri.sip_uri.host);
}

std::optional<sip::Message> LocalMediaAnchor::filter(sip::Outgoing& out) {
  // Cheap checks first: most messages (REGISTER answers, MESSAGEs, ACKs,
  // provisional responses without SDP) leave with no header looked at.
  const sip::Message& m = out.message();
  const bool response = m.is_response();
  const int status_class = response ? m.status_code() / 100 : 0;
  const bool has_sdp = m.body().starts_with("v=");
  const bool may_end = !calls_.empty() && (response ? status_class >= 3 && status_class <= 6
                                                    : m.method() == "BYE" || m.method() == "CANCEL");
  const bool may_confirm = unconfirmed_ > 0 && status_class == 2;
  const bool may_be_refused_ack = !refused_.empty() && !response && m.method() == "ACK";
  if (!has_sdp && !may_end && !may_confirm && !may_be_refused_ack) return {};

  const auto call_id = sip::call_id_header(m);
  const auto cseq = sip::cseq_header(m);
  if (!call_id || !cseq) return {};

  if (may_be_refused_ack && refused_.is_ack_of_refused(m)) {
    out.stop();  // for an INVITE the phone never got
    return std::nullopt;
  }

  std::string key(kKeyPrefix);
  key += *call_id;
  auto it = calls_.find(key);
  // Only the call's own parties end it: a message of a call with another
  // site that happens to carry the same Call-ID does not.
  if (it != calls_.end() && !is_local_call(m)) return {};
  const MediaEvent event = media_event(m, cseq->method, it != calls_.end() && it->second.confirmed);
  if (it != calls_.end() && event == MediaEvent::ended) {
    end(it);
    return {};
  }
  const bool invite_2xx = event == MediaEvent::answered;
  if (!has_sdp) {
    if (it != calls_.end() && invite_2xx && !it->second.confirmed) {
      it->second.confirmed = true;
      --unconfirmed_;
    }
    return {};
  }

  if (!carries_sdp(m) || !is_local_call(m)) return {};
  const auto from = sip::from_header(m);
  const auto to = sip::to_header(m);
  const auto sender = m.is_request() ? from->tag() : to->tag();
  const std::string caller_tag = it != calls_.end() ? it->second.caller_tag : std::string(from->tag().value_or(""));
  const media::Side side = sender.value_or("") == caller_tag ? media::Side::lan : media::Side::peer;

  auto rewritten = relay_.rewrite(key, side, m.body(), media::Scope::local);
  if (!rewritten) return refuse(out, m, rewritten.error());
  if (it == calls_.end()) {
    it = calls_.emplace(key, Call{caller_tag, false}).first;
    ++unconfirmed_;
    schedule_sweep();
  }
  if (invite_2xx && !it->second.confirmed) {
    it->second.confirmed = true;
    --unconfirmed_;
  }
  ++counters_.anchored;
  out.edit().set_body(*rewritten);
  return {};
}

void LocalMediaAnchor::end(std::map<std::string, Call, std::less<>>::iterator it) {
  relay_.end(it->first);
  if (!it->second.confirmed) --unconfirmed_;
  calls_.erase(it);
  ++counters_.ended;
}

std::optional<sip::Message> LocalMediaAnchor::refuse(sip::Outgoing& out, const sip::Message& m,
                                                     const media::MediaError& error) {
  out.stop();
  ++counters_.refused;
  observer_->sdp_refused(RefusedSdp::local_call, {}, error.reason);
  // A response, or an ACK, has nobody to be answered: it just does not leave.
  if (m.is_response() || m.method() == "ACK") return std::nullopt;
  const std::string agent = site_.domain().empty() ? std::string("-") : site_.domain();
  refused_.remember(m);
  schedule_sweep();
  return refusal_answer(m, error, agent);
}

void LocalMediaAnchor::schedule_sweep() {
  if (sweep_timer_ != 0) return;
  sweep_timer_ = timers_.start(kSweepInterval, [this] {
    sweep_timer_ = 0;
    sweep();
    if (!calls_.empty() || !refused_.empty()) schedule_sweep();
  });
}

// The relay ends calls by itself (no packets for a while, never answered);
// their bookkeeping goes too.
void LocalMediaAnchor::sweep() {
  for (auto it = calls_.begin(); it != calls_.end();) {
    if (relay_.protection(it->first)) {
      ++it;
      continue;
    }
    if (!it->second.confirmed) --unconfirmed_;
    it = calls_.erase(it);
  }
  // A refused INVITE's ACK follows its answer at once (the answer is the
  // core's own, over no network): older ones are not waited for.
  refused_.clear();
}

}  // namespace sipsite::edge
