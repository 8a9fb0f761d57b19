#pragma once
// What the console shows of the running daemon that is not in the database.
// Declared here, implemented by server/app (which owns the SIP service), so
// webadmin never depends on the SIP or transport libraries.
//
// Thread safety: the console calls these on its own thread; the
// implementation hands the work to whatever thread owns the state, and waits
// for it with a bound. nullopt means that thread did not answer in time
// (busy or stopping): the API then answers 503 live_state_unavailable
// rather than show an empty list as if it were true.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::webadmin {

struct Registration {
  std::string aor;              // alice@alpha.example
  std::string contact;          // the Contact URI as the phone gave it
  std::string transport;        // "UDP", "TCP", "TLS"
  std::string source;           // where it registered from, HOST:PORT
  std::int64_t expires_in = 0;  // seconds
};

// The outgoing federation link to one trusted peer (the connector's view).
struct PeerLinkStatus {
  std::string fingerprint;     // "AB:CD:…"
  std::string state;           // "connecting", "connected", "refused_by_peer", "unreachable"
  std::int64_t since = 0;      // unix seconds, of the current state
  std::int64_t last_seen = 0;  // unix seconds of the last byte from the peer; 0 never
  std::int64_t rtt_ms = -1;    // last keep-alive round trip; -1 unknown
  std::string detail;          // why, in words
};

// One live mutual-TLS link that carries SIP to or from a peer site.
struct FederationLink {
  std::string direction;   // "inbound" (the peer dialled us) or "outbound"
  std::string remote;      // the peer's end, HOST:PORT ("[v6]:port")
  std::int64_t since = 0;  // unix seconds it came up
  bool canonical = false;  // the one link of the pair that is kept when both dial
};

// Per trusted peer: its live links and the calls crossing to it now.
struct FederationPeer {
  std::string fingerprint;            // "AB:CD:…"
  std::string domain;                 // as trusted
  std::vector<FederationLink> links;  // canonical first
  std::int64_t calls = 0;             // established dialogs with this peer
};

// The gateway between the SIP core and the peer sites (counters since start).
struct FederationCounters {
  std::uint64_t sent = 0;           // messages sent to peer sites
  std::uint64_t received = 0;       // messages received from peer sites
  std::uint64_t refused = 0;        // refused by edge privacy or identity checks
  std::uint64_t rate_limited = 0;   // requests refused by the per-peer rate limit
  std::uint64_t revoked_calls = 0;  // calls ended because their peer was revoked
};

struct FederationState {
  FederationCounters counters;
  std::vector<FederationPeer> peers;  // every trusted peer, linked or not
};

// The media relay's view of one relayed call. Deliberately without the
// phones' or peers' addresses, and without the call key (the Call-ID on the
// federation link): `id` is media_call_id(call key).
struct MediaDirection {
  std::uint64_t packets = 0;  // forwarded
  std::uint64_t bytes = 0;    // forwarded, UDP payload
  // Lost RTP packets / expected ones (RFC 3550 A.3); nullopt when nothing
  // measurable went this way yet (no RTP sequence numbers seen).
  std::optional<double> loss;
};

struct MediaLeg {
  std::uint16_t port = 0;       // the relay's own port advertised to this leg's party (0 unknown)
  bool latched = false;         // the relay has heard this leg's party (symmetric latching)
  std::uint64_t dropped = 0;    // packets refused (hijack guard) or with nowhere to go
  std::uint64_t relatches = 0;  // times the leg moved to a new source mid-call
  // The leg to the peer site's relay: packets that did not authenticate or
  // came again (counted in `dropped` too).
  std::uint64_t auth_failed = 0;
  std::uint64_t replayed = 0;
};

struct MediaStream {
  std::string media;  // "audio", "video", ...
  bool rtcp_mux = false;
  MediaLeg lan;   // towards the site's phone (in a local call: the calling phone)
  MediaLeg peer;  // towards the peer site (in a local call: the called phone)
  MediaDirection lan_to_peer;
  MediaDirection peer_to_lan;
};

// Who could hear a call (DESIGN.md threat model 8): the leg between the
// sites is always SRTP; the sites that relay a call can hear it unless the
// phones encrypt end to end.
struct CallProtection {
  bool inter_site_srtp = false;     // "edge" calls: always true (else the call is refused)
  std::string end_to_end = "none";  // "none", "dtls-srtp" or "zrtp" (both phones' SDP)
  bool lan_srtp = false;            // every phone's leg SRTP with the relay (or end to end)
};

struct RelayedCall {
  std::string id;              // media_call_id(call key): 12 hex digits
  std::string scope = "edge";  // "edge": with another site; "local": between two phones of the site
  CallProtection protection;
  std::int64_t age_s = 0;   // since the relay first saw its SDP
  std::int64_t idle_s = 0;  // since the last packet on any leg (or since setup)
  std::vector<MediaStream> streams;
};

// The relay's inter-site SRTP since it started (media::ProtectionCounters).
struct MediaProtectionCounters {
  std::uint64_t sealed = 0;
  std::uint64_t opened = 0;
  std::uint64_t auth_failed = 0;
  std::uint64_t replayed = 0;
  std::uint64_t unkeyed = 0;
  std::uint64_t foreign = 0;
  std::uint64_t refused_sdp = 0;  // SDPs from peer sites without a usable key (calls refused)
};

struct MediaState {
  bool relay = false;  // false: the daemon has no relay (yet): the totals mean nothing
  MediaProtectionCounters protection;
  std::uint64_t calls = 0;       // calls with streams in the relay
  std::uint64_t free_ports = 0;  // UDP ports left in the media range
  std::uint64_t expired = 0;     // calls freed by the relay's inactivity/setup timeouts so far
  std::vector<RelayedCall> relayed;
};

// The handshakes refused for an unknown certificate since the daemon
// started, and what became of each (exact counts). Under a scan by
// thousands of certificates the pending list cannot say this: the daemon
// writes at most 30 requests a minute and keeps 100, the oldest making room.
// handshakes = new_requests + repeats + ignored + not_recorded.
struct UnknownCertificates {
  std::int64_t since = 0;          // Unix seconds: when the daemon started counting
  std::uint64_t handshakes = 0;    // refused: the certificate is not pinned here
  std::uint64_t new_requests = 0;  // written as a new pending request
  std::uint64_t repeats = 0;       // written as one more attempt of a pending request
  std::uint64_t ignored = 0;       // of a fingerprint the admin ignored (under the rate limit): nothing written
  std::uint64_t not_recorded = 0;  // not written: over the rate limit (ignored or not), the list full of ignored
                                   // ones, a store error
  std::uint64_t dropped = 0;       // older requests dropped from the list to make room for new ones
};

// What the console may show for a relay call key: the first 12 hex digits
// (lowercase) of its SHA-256. Stable for the call, says nothing of it.
[[nodiscard]] std::string media_call_id(std::string_view call_key);

class LiveState {
 public:
  virtual ~LiveState() = default;
  // Prometheus text exposition format: the daemon's SIP counters (read
  // from atomics: always available). /metrics adds federation()'s.
  virtual std::string metrics() = 0;
  // Every unexpired registration.
  virtual std::optional<std::vector<Registration>> registrations() = 0;
  // The outgoing links to trusted peers that have an address.
  virtual std::optional<std::vector<PeerLinkStatus>> peer_links() = 0;
  // The live links and calls per peer and the gateway counters. The default
  // (a daemon without federation) has none.
  virtual std::optional<FederationState> federation() { return FederationState{}; }
  // The media relay's calls and totals. The default (a daemon without a
  // relay) has none.
  virtual std::optional<MediaState> media() { return MediaState{}; }
  // The refused unknown certificates. The default (a daemon without
  // federation) has seen none.
  virtual std::optional<UnknownCertificates> unknown_certificates() { return UnknownCertificates{}; }
  // Returns once the daemon runs with every change committed to the
  // database before the call (the console's own write included): after it,
  // a changed password or a revoked peer is in force. false: not within a
  // bound (the change still applies, later). The default (nothing kept in
  // memory) is at once.
  virtual bool changes_applied() { return true; }
};

}  // namespace sipsite::webadmin
