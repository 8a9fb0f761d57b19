#pragma once
// Where the SIP core meets the federation links: the site's PeerRouter
// (which peer site a domain belongs to, and its live link), the path of
// every message to and from a peer site through edge privacy
// (sip::EdgePrivacy), media anchoring (every SDP crossing the boundary is
// rewritten to the site's relay, media::SdpAnchor), identity of the sending
// site (Inbound::peer, from the pinned certificate), a per-peer request
// rate limit, and the end of a revoked peer's calls.
//
// The outbound stages, in order, on the message the core sent
// (sip::Outgoing, serialized once at the end): a link and a trusted peer
// for the flow; the ACK of an INVITE refused here stays home; edge privacy
// maps the message (or drops a response it has no mapping for); the relay
// anchors its SDP (a refused request is answered in the peer's place). The
// inbound stages, on what a link delivered: the peer is still trusted; the
// per-peer rate limit (503); the relay anchors its SDP (488/503 on the
// link); edge privacy maps it into the site's terms (or refuses it); the
// core gets it with Inbound::peer set.
//
// Sans-I/O: sockets are behind PeerLinks and media::SdpAnchor, time behind
// sip::Clock and sip::Timers; what the site should hear of goes to an
// EdgeObserver. Threading: the SIP strand, like the core.

#include "sipsite/edge/edge_observer.hpp"
#include "sipsite/edge/media_refusal.hpp"
#include "sipsite/edge/peer_links.hpp"

#include <sipsite/media/media_relay.hpp>
#include <sipsite/pki/fingerprint.hpp>
#include <sipsite/sip/core.hpp>
#include <sipsite/sip/edge/edge_privacy.hpp>
#include <sipsite/sip/proxy/proxy.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sipsite::edge {

struct PeerGatewaySettings {
  sip::EdgePrivacySettings privacy;
  // Requests a peer site may send: a sustained rate per second and a burst.
  // Beyond it, 503 with Retry-After (responses are never limited).
  double requests_per_second = 2000;
  double burst = 4000;
  // How often edge privacy's mappings are swept (a sweep costs what is
  // due, so often is cheap and spreads the work); the scans of the media
  // calls and remembered flows, which cost their size, run every tenth time.
  std::chrono::milliseconds sweep_interval{std::chrono::seconds(1)};
};

struct PeerGatewayCounters {
  std::uint64_t sent = 0;           // messages sent to peer sites
  std::uint64_t received = 0;       // messages received from peer sites
  std::uint64_t refused = 0;        // refused: by edge privacy, identity, or the relay (SDP)
  std::uint64_t rate_limited = 0;   // requests refused by the per-peer limit
  std::uint64_t revoked_calls = 0;  // calls ended because their peer was revoked
};

// What became of a message the core sent to a peer site.
struct PeerSend {
  bool sent = true;  // false: a send failure the core should hear of
  // A request that must not leave (the relay refused its SDP): the
  // response to hand the core in place of the peer's (media_refusal.hpp).
  std::optional<sip::Message> answer;
};

class PeerGateway final : public sip::PeerRouter {
 public:
  PeerGateway(PeerGatewaySettings settings, sip::Clock& clock, sip::Timers& timers, sip::Random& random);
  ~PeerGateway() override;
  PeerGateway(const PeerGateway&) = delete;
  PeerGateway& operator=(const PeerGateway&) = delete;

  // Must be called before any traffic; all must outlive the gateway's use.
  // `relay` may be null: SDP then crosses unchanged (tests of signalling).
  void attach(sip::Core& core, PeerLinks& links, media::SdpAnchor* relay);

  // The trusted peers (fingerprint -> domain). Calls with peers that left the
  // set are ended (a BYE to the local party); closing their links is the
  // federation service's part.
  void replace_peers(const std::map<pki::Fingerprint, std::string>& trusted);
  // The same, for what changed only (O(changed), for trust changes at the
  // scale of thousands of peers): `trusted` joined or changed domain,
  // `untrusted` left the set.
  void update_peers(const std::vector<std::pair<pki::Fingerprint, std::string>>& trusted,
                    const std::vector<pki::Fingerprint>& untrusted);

  // The core's sends on a federation flow: edge privacy and the relay edit
  // `out` (or stop it) before it is serialized, once, for the link.
  [[nodiscard]] PeerSend send(const sip::Destination& to, sip::Outgoing& out);
  // Bytes that went on a link before (a retransmission): false when the
  // link or its peer is gone.
  [[nodiscard]] bool send_wire(const sip::Destination& to, std::string bytes);
  // A message from a link (transport::FederationLinkHandler::on_peer_message).
  void receive(const pki::Fingerprint& peer, sip::Inbound inbound);
  void link_up(const pki::Fingerprint& peer, sip::FlowId flow, const sip::Endpoint& remote);

  // Who hears of refusals, revocations, calls' protection and what peers
  // send (must outlive the gateway).
  void set_observer(EdgeObserver& observer) { observer_ = &observer; }
  [[nodiscard]] const PeerGatewayCounters& counters() const { return counters_; }
  [[nodiscard]] const sip::EdgePrivacy& privacy() const { return privacy_; }
  // The trusted peers (fingerprint -> domain) as replace_peers() last set them.
  [[nodiscard]] const std::map<pki::Fingerprint, std::string>& trusted_peers() const { return trusted_; }

  // sip::PeerRouter
  sip::PeerRoute route(const sip::Inbound& request, std::string_view user) override;
  std::optional<sip::Destination> next_hop(std::string_view host) override;

 private:
  using TrustedPeer = std::pair<const pki::Fingerprint, std::string>;  // fingerprint, domain
  // The trusted peer a link's flow belongs to; null for an unknown flow or
  // a peer no longer trusted.
  [[nodiscard]] const TrustedPeer* trusted_peer_of(sip::FlowId flow) const;
  void forget(const pki::Fingerprint& fp, const std::string& domain);
  struct Bucket {
    double tokens = 0;
    sip::TimePoint last{};
  };
  [[nodiscard]] std::optional<pki::Fingerprint> peer_of_domain(std::string_view domain) const;
  [[nodiscard]] bool admit(const pki::Fingerprint& peer);
  void answer(sip::FlowId flow, const sip::Message& request, int code, std::string_view reason);
  // Anchors the media of `m` (its Call-ID is the link's): the SDP body is
  // rewritten for the other side; the relay's streams end with the call.
  // An error is the status and reason to refuse a request with.
  [[nodiscard]] std::optional<media::MediaError> anchor(sip::Message& m, media::Side from,
                                                        const pki::Fingerprint& peer);
  // Once a call's media is answered, the observer hears who could hear it.
  // `key` is the relay's (the link's Call-ID), `call_id` the core's.
  void record_protection(const sip::Message& m, const pki::Fingerprint& peer, const std::string& key,
                         std::string_view call_id);
  void schedule_sweep();

  PeerGatewaySettings settings_;
  sip::Clock& clock_;
  sip::Timers& timers_;
  sip::EdgePrivacy privacy_;
  sip::Core* core_ = nullptr;
  PeerLinks* links_ = nullptr;
  media::SdpAnchor* relay_ = nullptr;
  EdgeObserver default_observer_;
  EdgeObserver* observer_ = &default_observer_;
  // Relay keys per peer (for revocation), and whether the call was answered.
  std::map<pki::Fingerprint, std::map<std::string, bool>> media_calls_;
  std::map<pki::Fingerprint, std::string> trusted_;
  std::unordered_map<std::string, pki::Fingerprint> by_domain_;  // lowercase domain
  // The peer of each flow seen, kept after the link is gone so that late
  // responses can still be mapped (bounded: flows of trusted peers only).
  std::unordered_map<sip::FlowId, pki::Fingerprint> flow_peer_;
  std::map<pki::Fingerprint, Bucket> buckets_;
  std::map<pki::Fingerprint, sip::Endpoint> remote_;
  sip::TimerId sweep_timer_ = 0;
  unsigned sweeps_ = 0;  // the scans run every kScanEvery sweeps
  RefusedInvites refused_;
  PeerGatewayCounters counters_;
};

}  // namespace sipsite::edge
