// libFuzzer target for the internet-facing federation path: what a trusted
// but hostile peer site can send. Site alpha.example has one local user,
// alice, with a desk phone on UDP and a softphone on TCP; the peer site is
// beta.example, reached over one federation link. The input is a sequence
// of messages from the peer, separated by "\n--\n", each framed
// (StreamFramer, or whole as a datagram) and handed to the site's real
// edge::PeerGateway (rate limit, SDP anchoring, EdgePrivacy::inbound(),
// then the real Core with Inbound::peer set). Everything the core sends
// goes through the same gateway as in the daemon (EdgePrivacy::outbound(),
// anchoring, one serialization) onto a link without sockets
// (edge::PeerLinks); the relay is a media::SdpAnchor that rewrites with
// parse_sdp + rewrite_sdp and made-up ports. What the core sends to the
// phones is answered by a scripted phone.
//
// The first byte of each message is a control byte:
//   bits 0-2  0-3: only deliver the message; 4: the phone sends a
//             provisional answer to the latest request it has not finally
//             answered, 5: a 2xx (dialog), 6: a failure; 7: the phone
//             sends a request of its own (BYE or re-INVITE in its dialog,
//             CANCEL of its ringing INVITE, or a new INVITE/MESSAGE to
//             bob@beta.example)
//   bits 3-5  how far time moves first (0 to 190 s; EdgePrivacy is swept
//             every 10 s as the gateway does)
//   bit 6     the bytes come through the link's stream framer (else each
//             message is parsed whole, as a datagram)
//   bit 7     a variant: of the phone's action (183 with SDP, 2xx without
//             SDP, 603, MESSAGE or re-INVITE), or with actions 0-3: the
//             admin revokes beta and trusts it again (its calls end with
//             BYEs to the phones), a failed send on the link, the link
//             closing (a new one replaces it), a failed send to the desk
//             phone.
// The peer answers what it was sent through placeholders in its bytes,
// replaced by what it last saw from alpha on the link: $V $F $O $C $Q (the
// Via, From, To, Call-ID and CSeq of alpha's last request), $T (alpha's tag
// in its last message) and $K (the last Contact URI alpha gave).
//
// Invariants (abort when broken):
//   - nothing alpha sends on the link carries a LAN address or port of the
//     site or its phones, the phones' Call-IDs, tags, branches or software
//     names, the proxy's Record-Route token, credentials, or a header of
//     EdgePrivacy's strip list (User-Agent, Server, X-*, P-*, ...), Route or
//     Record-Route; requests carry one Via, alpha.example's, and every
//     Contact is a token at alpha.example (the privacy promise). A secret
//     the input itself contains is not checked: the peer may quote it back;
//   - the core sends only to the link and the two phones; a phone gets
//     only parseable messages, no REGISTER, responses only to its own
//     requests, and out-of-dialog requests only in the name of the peer's
//     domain (From and P-Asserted-Identity at beta.example);
//   - EdgePrivacy never holds more dialogs than its limit;
//   - after the input, once time runs on, the core has no transaction,
//     proxy context or timer left, and EdgePrivacy's tables are empty.

#include "../unit/sip/fake_sender.hpp"
#include "../unit/sip/fake_services.hpp"
#include "sipsite/edge/peer_gateway.hpp"
#include "sipsite/media/sdp.hpp"
#include "sipsite/media/sdp_rewrite.hpp"
#include "sipsite/sip/message/accessors.hpp"
#include "steps.hpp"
#include "sipsite/sip/core.hpp"
#include "sipsite/sip/edge/edge_privacy.hpp"
#include "sipsite/sip/manual_timers.hpp"
#include "sipsite/sip/message/parser.hpp"
#include "sipsite/sip/message/response.hpp"
#include "sipsite/sip/message/serializer.hpp"
#include "sipsite/sip/message/stream_framer.hpp"
#include "sipsite/sip/message/uri.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace sipsite::sip;
namespace edge = sipsite::edge;
namespace media = sipsite::media;
using namespace std::chrono_literals;

void check(bool invariant, int line = __builtin_LINE()) {
  if (invariant) return;
  std::fprintf(stderr, "federation_fuzz: invariant broken at federation_fuzz.cpp:%d\n", line);
  std::abort();
}

// FEDERATION_FUZZ_TRACE=1 prints the start line of every message that
// moves, to see what an input does (e.g. run the binary on one file);
// FEDERATION_FUZZ_DUMP=1 prints whatever goes to the peer in full.
void trace(std::string_view who, std::string_view bytes) {
  static const bool on = std::getenv("FEDERATION_FUZZ_TRACE") != nullptr;
  if (on)
    std::fprintf(stderr, "%-12.*s %.*s\n", static_cast<int>(who.size()), who.data(),
                 static_cast<int>(std::min(bytes.find('\r'), bytes.size())), bytes.data());
}

constexpr std::string_view kSite = "alpha.example";
constexpr std::string_view kPeer = "beta.example";
// Federation flows have the top bit set (sip::kFederationFlowBit).
constexpr FlowId kLinkBit = FlowId{1} << 63;
const Endpoint kPeerRemote{Protocol::tls, "203.0.113.2", 5062};
const Endpoint kFedLocal{Protocol::tls, "198.51.100.1", 5062};
const Endpoint kLanUdp{Protocol::udp, "10.1.0.1", 5060};
const Endpoint kLanTcp{Protocol::tcp, "10.1.0.1", 5060};
constexpr std::size_t kMaxDialogs = 8;
constexpr std::size_t kMaxPending = 8;  // requests a phone remembers to answer
constexpr auto kSweepInterval = 10s;

struct Line {
  Endpoint ep;
  FlowId flow;
  std::string contact;
  std::string via_host;  // sent-by in the phone's Via
};
const std::array<Line, 2> kLines = {{
    {{Protocol::udp, "10.1.0.2", 5077}, 0, "sip:alice@10.1.0.2:5077", "SIP/2.0/UDP 10.1.0.2:5077"},
    {{Protocol::tcp, "10.1.0.5", 5071}, 42, "sip:alice@10.1.0.5:5071;transport=tcp", "SIP/2.0/TCP 10.1.0.5:5071"},
}};

// What must never reach the peer: the LAN (listener, phones, relay's LAN
// side), the phones' ports, Call-IDs ("lancall"), tags ("ltag"), branches
// ("lanbr"), software and SDP origin, the proxy's dialog token, credentials.
constexpr std::array<std::string_view, 10> kSecrets = {"10.1.0.", ":5077",     ":5071",      "lancall", "ltag",
                                                       "lanbr",   "DeskPhone", "alice-desk", ";rt=",    "Fake user"};

const std::string kPhoneSdp =
    "v=0\r\n"
    "o=alice-desk 2890844526 2890844526 IN IP4 10.1.0.2\r\n"
    "s=DeskPhone call\r\n"
    "c=IN IP4 10.1.0.2\r\n"
    "t=0 0\r\n"
    "m=audio 4000 RTP/AVP 0 8\r\n"
    "a=rtcp:4001 IN IP4 10.1.0.2\r\n"
    "a=candidate:1 1 UDP 2130706431 10.1.0.2 4000 typ host\r\n"
    "a=sendrecv\r\n";

// SplitMix64: tokens the peer cannot guess (a counter would let it collide
// its Call-IDs with the ones EdgePrivacy makes up, which a real CSPRNG
// prevents), yet every run of an input is the same.
class MixRandom final : public Random {
 public:
  std::uint64_t next() override {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_ = 0x5eed;
};

const sipsite::pki::Fingerprint kBetaPin = [] {
  std::array<std::uint8_t, sipsite::pki::Fingerprint::kSize> bytes{};
  bytes.fill(0xbe);
  return sipsite::pki::Fingerprint::from_bytes(bytes);
}();

// The relay, without sockets: the SDP is rewritten in place as
// media::MediaRelay would (its ports made up); an SDP that does not parse
// or cannot be rewritten is refused (488).
class FuzzRelay final : public media::SdpAnchor {
 public:
  media::Result<std::string> rewrite(std::string_view key, media::Side from, std::string_view body,
                                     media::Scope /*scope*/) override {
    auto sdp = media::parse_sdp(body);
    if (!sdp) return media::MediaError{media::MediaErrc::bad_sdp, "unparseable SDP"};
    media::RewritePlan plan;
    plan.address = from == media::Side::lan ? kFedLocal.host : kLanUdp.host;
    plan.anchor = true;
    plan.anonymize_origin = from == media::Side::lan;
    std::uint16_t port = 40000;
    for (const auto& section : sdp->media) {
      if (section.m.port == 0) {
        plan.streams.emplace_back();
      } else {
        plan.streams.push_back(media::StreamEndpoint{port, port});
        port = static_cast<std::uint16_t>(port + 2);
      }
    }
    if (!media::rewrite_sdp(*sdp, plan)) return media::MediaError{media::MediaErrc::bad_sdp, "cannot rewrite"};
    calls_.insert(std::string(key));
    return media::serialize(*sdp);
  }
  void end(std::string_view key) override { calls_.erase(std::string(key)); }
  [[nodiscard]] std::optional<media::CallProtection> protection(std::string_view key) const override {
    if (!calls_.contains(std::string(key))) return std::nullopt;
    return media::CallProtection{true, media::EndToEnd::none, false};
  }

 private:
  std::set<std::string> calls_;
};

std::string tag_of(const Message& m, bool from) {
  const auto na = from ? from_header(m) : to_header(m);
  return na && na->tag() ? std::string(*na->tag()) : std::string();
}

std::string contact_uri(const Message& m) {
  const auto c = contact_headers(m);
  return c && !c->star && !c->contacts.empty() ? std::string(c->contacts.front().uri.text) : std::string();
}

std::vector<std::string> owned(const std::vector<std::string_view>& views) { return {views.begin(), views.end()}; }

bool sip_host_is(std::string_view name_addr, std::string_view host) {
  const auto na = parse_name_addr(name_addr);
  return na && na->uri.is_sip() && iequals(na->uri.sip_uri.host, host);
}

class Harness {
 public:
  explicit Harness(std::string_view input) : links_(*this), sender_(*this), framer_(ParseLimits{}) {
    for (std::size_t i = 0; i < kSecrets.size(); ++i) quoted_[i] = input.find(kSecrets[i]) != std::string_view::npos;
    for (const auto& line : kLines) {
      Binding b;
      b.contact = line.contact;
      b.destination = Destination{line.ep, line.flow};
      location_.bindings["alice"].push_back(b);
    }
    CoreSettings cs;
    cs.local_domain = std::string(kSite);
    cs.listeners = {kLanUdp, kLanTcp};
    edge::PeerGatewaySettings gs;
    gs.privacy.local_domain = std::string(kSite);
    gs.privacy.max_dialogs = kMaxDialogs;
    // Swept every 10 s, not every second: the 13 hours finish() lets pass
    // would otherwise fire 46,800 sweeps per input. What a sweep removes
    // does not depend on how often it runs.
    gs.sweep_interval = kSweepInterval;
    gateway_.emplace(gs, timers_, timers_, random_);
    core_.emplace(cs, sender_, timers_, timers_, random_, directory_, auth_, location_, registrar_, counters_,
                  &*gateway_);
    gateway_->attach(*core_, links_, &relay_);
    trust_beta();
  }

  void step(std::uint8_t control, std::string_view bytes) {
    static constexpr std::array<Duration, 8> kSteps = {0ms, 0ms, 20ms, 500ms, 2s, 9s, 33s, 190s};
    run_for(kSteps[(control >> 3) & 7]);
    const bool variant = (control & 0x80) != 0;
    switch (control & 7) {
      case 0:
        if (variant) {
          gateway_->update_peers({}, {kBetaPin});  // beta's calls end: BYEs to the phones
          trust_beta();
        }
        break;
      case 1:
        if (variant) core_->on_send_failed(Destination{kPeerRemote, link_});
        break;
      case 2:
        if (variant) close_link();
        break;
      case 3:
        if (variant) core_->on_send_failed(Destination{kLines[0].ep, kLines[0].flow});
        break;
      case 4: phone_answer(variant ? 183 : 180, variant); break;
      case 5: phone_answer(200, !variant); break;
      case 6: phone_answer(variant ? 603 : 486, false); break;
      case 7: phone_request(variant); break;
    }
    pump();
    if (!bytes.empty()) from_peer(expand(bytes), (control & 0x40) != 0);
    check(gateway_->privacy().dialog_count() <= kMaxDialogs);
  }

  // Time runs on until every transaction and mapping must have ended.
  void finish() {
    for (int i = 0; i < 60; ++i) run_for(kSweepInterval);  // 10 minutes: Timer C, B, F, H, linger
    timers_.advance(13h);                                  // an established dialog's idle limit
    pump();
    run_for(kSweepInterval);  // the gateway's sweep, after that limit
    check(core_->transactions().alive() == 0);
    check(core_->proxy_contexts() == 0);
    check(gateway_->privacy().dialog_count() == 0);
    check(gateway_->privacy().entries() == 0);
    check(registrar_.seen.empty());
    gateway_.reset();  // its sweep timer goes with it
    core_.reset();
    check(timers_.pending() == 0);
  }

 private:
  // --- time

  void run_for(Duration d) {
    while (d > Duration::zero()) {
      const Duration slice = std::min<Duration>(d, kSweepInterval);
      timers_.advance(slice);  // the gateway sweeps itself every kSweepInterval
      d -= slice;
      pump();
    }
  }

  // --- the peer's side of the link

  // The peer quotes what it saw from alpha (see the file comment).
  std::string expand(std::string_view bytes) const {
    std::string out;
    out.reserve(bytes.size());
    int expansions = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      const std::string* v = nullptr;
      if (bytes[i] == '$' && i + 1 < bytes.size() && expansions < 64) {
        switch (bytes[i + 1]) {
          case 'V': v = &seen_.via; break;
          case 'F': v = &seen_.from; break;
          case 'O': v = &seen_.to; break;
          case 'C': v = &seen_.call_id; break;
          case 'Q': v = &seen_.cseq; break;
          case 'T': v = &seen_.tag; break;
          case 'K': v = &seen_.contact; break;
          default: break;
        }
      }
      if (v == nullptr) {
        out += bytes[i];
        continue;
      }
      out += *v;
      ++expansions;
      ++i;
    }
    return out;
  }

  void from_peer(std::string_view bytes, bool stream) {
    if (!stream) {
      auto m = parse_datagram(bytes);
      if (!m) return;  // the framer would have answered or closed; covered by stream mode
      receive(std::move(*m));
      return;
    }
    framer_.feed(bytes);
    // Every event but need_more and fatal consumes buffered bytes.
    for (std::size_t guard = framer_.buffered() + 1; guard > 0; --guard) {
      StreamEvent event = framer_.next();
      switch (event.type) {
        case StreamEvent::Type::need_more: return;
        case StreamEvent::Type::ping: break;
        case StreamEvent::Type::message: receive(std::move(*event.message)); break;
        case StreamEvent::Type::bad_message:
          if (auto answer = make_error_response(event.raw, *event.error)) check_reflected(*answer);
          break;
        case StreamEvent::Type::fatal:
          if (auto answer = make_error_response(event.raw, *event.error)) check_reflected(*answer);
          close_link();
          return;
      }
    }
    check(false);  // the framer made no progress
  }

  void receive(Message m) {
    trace("peer>", serialize(m));
    gateway_->receive(kBetaPin, Inbound{std::move(m), kPeerRemote, link_, kFedLocal, {}});
    pump();
  }

  void trust_beta() {
    gateway_->update_peers({{kBetaPin, std::string(kPeer)}}, {});
    gateway_->link_up(kBetaPin, link_, kPeerRemote);
  }

  void close_link() {
    core_->on_flow_closed(link_);
    link_ = kLinkBit | ++generation_;
    framer_ = StreamFramer(ParseLimits{});
    gateway_->link_up(kBetaPin, link_, kPeerRemote);
  }

  // --- what the core sends

  // What the core sent to the phones, the answers the gateway gave in a
  // peer's place and failed sends: handed on after the send, never from
  // inside it (as app::SipService does).
  void pump() {
    for (int round = 0; round < 256; ++round) {
      if (sender_.idle()) return;
      for (auto& s : sender_.phones.take()) to_phone(s);
      auto answers = std::move(sender_.answers);
      sender_.answers.clear();
      for (auto& a : answers) core_->receive(std::move(a));
      auto failed = std::move(sender_.failed);
      sender_.failed.clear();
      for (const auto& to : failed) core_->on_send_failed(to);
    }
    check(false);  // messages kept moving
  }

  // Whatever the gateway puts on a link (the core's messages after edge
  // privacy and the relay, and its own refusals of the peer's requests):
  // what the peer reads must keep the site's secrets.
  bool on_link(FlowId flow, const std::string& bytes) {
    trace(">peer", bytes);
    if (std::getenv("FEDERATION_FUZZ_DUMP")) std::fprintf(stderr, "%s\n", bytes.c_str());
    check_private(bytes);
    auto sent = parse_datagram(bytes);
    check(sent.has_value());
    check_link_headers(*sent);
    if (flow != link_) return false;  // that link is gone
    learn(*sent);
    return true;
  }

  void check_private(std::string_view bytes) const {
    for (std::size_t i = 0; i < kSecrets.size(); ++i) {
      if (!quoted_[i]) check(bytes.find(kSecrets[i]) == std::string_view::npos);
    }
  }

  // An error answer the link's framer builds from the peer's own bytes.
  void check_reflected(const std::string& bytes) const {
    trace(">peer (framer)", bytes);
    check_private(bytes);
  }

  void check_link_headers(const Message& m) const {
    static const std::vector<std::string> kStrip = EdgePrivacySettings::default_strip_headers();
    for (const auto& h : m.headers()) {
      check(h.id != HeaderId::route && h.id != HeaderId::record_route);
      for (const auto& s : kStrip) {
        if (s.back() == '*') {
          const std::string_view prefix(s.data(), s.size() - 1);
          check(h.name.size() < prefix.size() || !iequals(h.name.substr(0, prefix.size()), prefix));
        } else {
          check(!iequals(h.name, s));
        }
      }
    }
    if (m.is_request()) {
      const auto vias = via_headers(m);
      check(vias && vias->size() == 1 && vias->front().host == kSite && vias->front().transport == "TLS");
    }
    for (const auto value : m.values(HeaderId::contact)) {
      const auto na = parse_name_addr(value);
      check(na && na->uri.is_sip() && na->uri.sip_uri.host == kSite && !na->uri.sip_uri.user.empty());
    }
  }

  void learn(const Message& m) {
    if (m.is_request()) {
      if (m.method() != "ACK") {
        seen_.via = std::string(m.value(HeaderId::via).value_or(""));
        seen_.from = std::string(m.value(HeaderId::from).value_or(""));
        seen_.to = std::string(m.value(HeaderId::to).value_or(""));
        seen_.call_id = std::string(m.value(HeaderId::call_id).value_or(""));
        seen_.cseq = std::string(m.value(HeaderId::cseq).value_or(""));
      }
      seen_.tag = tag_of(m, true);
    } else if (auto tag = tag_of(m, false); !tag.empty()) {
      seen_.tag = std::move(tag);
    }
    if (auto c = contact_uri(m); !c.empty()) seen_.contact = std::move(c);
  }

  void to_phone(const test::Sent& s) {
    const Line* line = nullptr;
    for (const auto& l : kLines) {
      // Flow 0: a response forwarded statelessly by its Via (RFC 3261
      // 18.2.2), over a new connection if the phone's is gone.
      if (s.to.endpoint == l.ep && (s.to.flow == l.flow || s.to.flow == 0)) line = &l;
    }
    check(line != nullptr);  // the core relays to nobody else
    trace(line->flow == 0 ? ">desk" : ">soft", s.bytes);
    auto parsed = parse_datagram(s.bytes);
    check(parsed.has_value());
    const Message& m = *parsed;
    if (m.is_response()) {
      const auto vias = via_headers(m);
      check(vias && !vias->empty() && vias->front().branch() && vias->front().branch()->starts_with("z9hG4bKlanbr"));
      phone_got_response(*line, m);
      return;
    }
    check(m.method() != "REGISTER");
    if (tag_of(m, false).empty()) {
      // Out of dialog: the peer speaks only for its own domain.
      check(sip_host_is(m.value(HeaderId::from).value_or(""), kPeer));
      for (const auto pai : m.values(HeaderId::p_asserted_identity)) check(sip_host_is(pai, kPeer));
    }
    phone_got_request(*line, m);
  }

  // --- the phone (both of alice's lines share one script)

  void phone_send(const Line& line, const Message& m) {
    trace(line.flow == 0 ? "desk>" : "soft>", serialize(m));
    core_->receive(serialize(m), line.ep, line.flow, line.ep.protocol == Protocol::udp ? kLanUdp : kLanTcp);
  }

  void decorate(Message& m) const {
    m.add_header(m.is_request() ? "User-Agent" : "Server", "DeskPhone 9.1 (serial 0xCAFE)");
    m.add_header("Warning", "399 10.1.0.2:5077 \"lan\"");
    m.add_header("X-Internal-Desk", "room 4.17, 10.1.0.2");
    m.add_header("P-Access-Network-Info", "IEEE-802.11; i-wlan-node-id=10.1.0.2");
  }

  void phone_got_request(const Line& line, const Message& m) {
    const std::string_view method = m.method();
    if (method == "ACK") return;
    if (method == "BYE") {
      phone_send(line, make_response(m, 200, "OK"));
      if (dialog_ && dialog_->call_id == m.value(HeaderId::call_id).value_or("")) dialog_.reset();
      return;
    }
    const auto same = [&](const Pending& p) {
      return p.line == &line && p.request.value(HeaderId::call_id) == m.value(HeaderId::call_id) &&
             p.request.value(HeaderId::via) == m.value(HeaderId::via);
    };
    if (method == "CANCEL") {
      phone_send(line, make_response(m, 200, "OK"));
      const auto it = std::find_if(pending_.begin(), pending_.end(),
                                   [&](const Pending& p) { return p.request.method() == "INVITE" && same(p); });
      if (it != pending_.end()) {
        phone_send(line, make_response(it->request, 487, "Request Terminated", it->tag));
        pending_.erase(it);
      }
      return;
    }
    // A retransmission is not a new request.
    if (std::any_of(pending_.begin(), pending_.end(),
                    [&](const Pending& p) { return p.request.method() == method && same(p); })) {
      return;
    }
    if (pending_.size() == kMaxPending) pending_.erase(pending_.begin());
    pending_.push_back(Pending{m, &line, "ltag" + std::to_string(++n_)});
  }

  void phone_got_response(const Line& line, const Message& m) {
    const auto cseq = cseq_header(m);
    if (!cseq || cseq->method != "INVITE" || m.status_code() < 200) return;
    const std::string call_id(m.value(HeaderId::call_id).value_or(""));
    if (m.status_code() < 300) {
      // RFC 3261 13.2.2.4: ACK the 2xx end to end; the dialog's route is
      // the reversed Record-Route (or, for a re-INVITE, the dialog's).
      auto route = owned(m.values(HeaderId::record_route));
      std::reverse(route.begin(), route.end());
      std::string target = contact_uri(m);
      if (dialog_ && dialog_->call_id == call_id) {
        if (route.empty()) route = dialog_->route;
        if (target.empty()) target = dialog_->target;
      }
      if (target.empty()) return;
      Message ack = in_dialog(line, "ACK", target, route, std::string(m.value(HeaderId::from).value_or("")),
                              std::string(m.value(HeaderId::to).value_or("")), call_id, cseq->number);
      phone_send(line, ack);
      if (!dialog_) {
        dialog_ = Dialog{&line,
                         target,
                         route,
                         std::string(m.value(HeaderId::from).value_or("")),
                         std::string(m.value(HeaderId::to).value_or("")),
                         call_id,
                         cseq->number};
      }
    } else if (outgoing_ && outgoing_->value(HeaderId::call_id) == call_id) {
      // RFC 3261 17.1.1.3: the ACK of a failure, hop by hop.
      Message ack = Message::make_request("ACK", outgoing_->request_uri());
      ack.add_header("Via", outgoing_->value(HeaderId::via).value_or(""));
      ack.add_header("Max-Forwards", "70");
      ack.add_header("From", outgoing_->value(HeaderId::from).value_or(""));
      ack.add_header("To", m.value(HeaderId::to).value_or(""));
      ack.add_header("Call-ID", call_id);
      ack.add_header("CSeq", std::to_string(cseq->number) + " ACK");
      ack.set_body("");
      phone_send(line, ack);
    }
    if (outgoing_ && outgoing_->value(HeaderId::call_id) == call_id) outgoing_.reset();
  }

  // The phone answers the latest request it has not finally answered.
  void phone_answer(int code, bool with_sdp) {
    if (pending_.empty()) return;
    const Pending& p = pending_.back();
    const Message& req = p.request;
    const std::string_view reason = code == 180   ? "Ringing"
                                    : code == 183 ? "Session Progress"
                                    : code == 200 ? "OK"
                                    : code == 486 ? "Busy Here"
                                                  : "Decline";
    Message r = make_response(req, code, reason, p.tag);
    if (code > 100 && code < 300) {
      // RFC 3261 12.1.1: the UAS copies Record-Route and gives its Contact.
      for (const auto rr : req.values(HeaderId::record_route)) r.add_header("Record-Route", rr);
      r.add_header("Contact", "<" + p.line->contact + ">");
    }
    decorate(r);
    if (with_sdp && req.method() == "INVITE" && code != 180) {
      r.add_header("Content-Type", "application/sdp");
      r.set_body(kPhoneSdp);
    } else {
      r.set_body("");
    }
    phone_send(*p.line, r);
    if (code < 200) return;
    if (code < 300 && req.method() == "INVITE" && !dialog_) {
      dialog_ = Dialog{p.line,
                       contact_uri(req),
                       owned(req.values(HeaderId::record_route)),
                       std::string(r.value(HeaderId::to).value_or("")),
                       std::string(req.value(HeaderId::from).value_or("")),
                       std::string(req.value(HeaderId::call_id).value_or("")),
                       100};
      if (dialog_->target.empty()) dialog_.reset();
    }
    pending_.pop_back();
  }

  void phone_request(bool variant) {
    if (dialog_) {
      Dialog& d = *dialog_;
      const std::string method = variant ? "INVITE" : "BYE";
      Message m = in_dialog(*d.line, method, d.target, d.route, d.local, d.remote, d.call_id, ++d.cseq);
      decorate(m);
      if (variant) {
        m.add_header("Contact", "<" + d.line->contact + ">");
        m.add_header("Content-Type", "application/sdp");
        m.set_body(kPhoneSdp);
        outgoing_ = m;
        outgoing_line_ = d.line;
      }
      const Line& line = *d.line;
      if (!variant) dialog_.reset();
      phone_send(line, m);
      return;
    }
    if (outgoing_ && !variant) {
      // CANCEL (RFC 3261 9.1): the INVITE's Request-URI, top Via, From,
      // To and Call-ID.
      Message c = Message::make_request("CANCEL", outgoing_->request_uri());
      c.add_header("Via", outgoing_->value(HeaderId::via).value_or(""));
      c.add_header("Max-Forwards", "70");
      c.add_header("From", outgoing_->value(HeaderId::from).value_or(""));
      c.add_header("To", outgoing_->value(HeaderId::to).value_or(""));
      c.add_header("Call-ID", outgoing_->value(HeaderId::call_id).value_or(""));
      c.add_header("CSeq", std::to_string(cseq_header(*outgoing_)->number) + " CANCEL");
      c.set_body("");
      phone_send(*outgoing_line_, c);
      return;
    }
    const Line& line = kLines[n_ & 1];
    const std::string n = std::to_string(++n_);
    const std::string method = variant ? "MESSAGE" : "INVITE";
    Message m = Message::make_request(method, "sip:bob@beta.example");
    m.add_header("Via", line.via_host + ";branch=z9hG4bKlanbr" + n + ";rport");
    m.add_header("Max-Forwards", "70");
    m.add_header("From", "\"Alice\" <sip:alice@alpha.example>;tag=ltag" + n);
    m.add_header("To", "<sip:bob@beta.example>");
    m.add_header("Call-ID", "lancall" + n + "@10.1.0.2");
    m.add_header("CSeq", "1 " + method);
    m.add_header("Contact", "<" + line.contact + ">");
    m.add_header("Proxy-Authorization", "Fake user=alice");
    m.add_header("In-Reply-To", "lancall0@10.1.0.2");
    decorate(m);
    if (variant) {
      m.add_header("Content-Type", "text/plain");
      m.set_body("lunch?");
    } else {
      m.add_header("Content-Type", "application/sdp");
      m.set_body(kPhoneSdp);
      outgoing_ = m;
      outgoing_line_ = &line;
    }
    phone_send(line, m);
  }

  // An in-dialog request as a UA builds it from its dialog state.
  Message in_dialog(const Line& line, std::string_view method, const std::string& target,
                    const std::vector<std::string>& route, const std::string& from, const std::string& to,
                    const std::string& call_id, std::uint32_t cseq) {
    Message m = Message::make_request(method, target);
    const std::string branch = method == "ACK" ? "z9hG4bKlanbrack" : "z9hG4bKlanbr";
    m.add_header("Via", line.via_host + ";branch=" + branch + std::to_string(++n_) + ";rport");
    for (const auto& r : route) m.add_header("Route", r);
    m.add_header("Max-Forwards", "70");
    m.add_header("From", from);
    m.add_header("To", to);
    m.add_header("Call-ID", call_id);
    m.add_header("CSeq", std::to_string(cseq) + " " + std::string(method));
    m.set_body("");
    return m;
  }

  struct Pending {
    Message request;
    const Line* line;
    std::string tag;
  };
  struct Dialog {
    const Line* line;
    std::string target;
    std::vector<std::string> route;
    std::string local;   // From, with the phone's tag
    std::string remote;  // To, with the peer's
    std::string call_id;
    std::uint32_t cseq;
  };
  struct Seen {
    std::string via, from, to, call_id, cseq, tag, contact;
  };

  // The link to beta, as the gateway sees it.
  class Links final : public edge::PeerLinks {
   public:
    explicit Links(Harness& h) : h_(h) {}
    [[nodiscard]] std::optional<FlowId> flow_for(const sipsite::pki::Fingerprint& peer) const override {
      return peer == kBetaPin ? std::optional(h_.link_) : std::nullopt;
    }
    [[nodiscard]] std::optional<sipsite::pki::Fingerprint> peer_of(FlowId flow) const override {
      return flow == h_.link_ ? std::optional(kBetaPin) : std::nullopt;
    }
    bool send(FlowId flow, std::string bytes) override { return h_.on_link(flow, bytes); }

   private:
    Harness& h_;
  };

  // The core's sender, as app::SipService: federation flows through the
  // gateway at once; the phones', its answers and failures queued for pump().
  class Sender final : public sipsite::sip::Sender {
   public:
    explicit Sender(Harness& h) : h_(h) {}
    void send(const Destination& to, Outgoing& out) override {
      if (!is_federation_flow(to.flow)) {
        phones.send(to, out);
        return;
      }
      auto r = h_.gateway_->send(to, out);
      if (r.answer) {
        answers.push_back(Inbound{std::move(*r.answer), to.endpoint, to.flow, kFedLocal, {}});
      } else if (!r.sent) {
        failed.push_back(to);
      }
    }
    void send_wire(const Destination& to, std::string bytes) override {
      if (!is_federation_flow(to.flow)) {
        phones.send_wire(to, std::move(bytes));
      } else if (!h_.gateway_->send_wire(to, std::move(bytes))) {
        failed.push_back(to);
      }
    }
    [[nodiscard]] bool idle() const { return phones.sent.empty() && answers.empty() && failed.empty(); }

    test::FakeSender phones;  // what the core sent to the LAN
    std::vector<Inbound> answers;
    std::vector<Destination> failed;

   private:
    Harness& h_;
  };

  ManualTimers timers_;
  Links links_;
  Sender sender_;
  FuzzRelay relay_;
  MixRandom random_;
  test::FakeDirectory directory_{std::string(kSite), {"alice", "carol"}};
  test::FakeAuthenticator auth_;
  test::FakeLocation location_;
  test::FakeRegistrar registrar_;
  Counters counters_;
  FlowId link_ = kLinkBit | 1;
  std::uint64_t generation_ = 1;
  std::optional<edge::PeerGateway> gateway_;
  std::optional<Core> core_;
  StreamFramer framer_;
  std::array<bool, kSecrets.size()> quoted_{};
  Seen seen_;
  std::vector<Pending> pending_;  // oldest first
  std::optional<Dialog> dialog_;
  std::optional<Message> outgoing_;  // the phone's INVITE with no final answer yet
  const Line* outgoing_line_ = nullptr;
  std::uint64_t n_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Harness h(input);
  sipsite::fuzz::for_each_step(input, [&h](std::uint8_t control, std::string_view chunk) { h.step(control, chunk); });
  h.finish();
  return 0;
}
