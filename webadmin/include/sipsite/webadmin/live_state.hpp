#pragma once
// What the console shows of the running daemon that is not in the database.
// Declared here, implemented by server/app (which owns the SIP service), so
// webadmin never depends on the SIP or transport libraries.
//
// Thread safety: the console calls these on its own thread; the
// implementation hands the work to whatever thread owns the state.

#include <cstdint>
#include <string>
#include <vector>

namespace sipsite::webadmin {

struct Registration {
  std::string aor;        // alice@alpha.example
  std::string contact;    // the Contact URI as the phone gave it
  std::string transport;  // "UDP", "TCP", "TLS"
  std::string source;     // where it registered from, HOST:PORT
  std::int64_t expires_in = 0;  // seconds
};

// The outgoing federation link to one trusted peer.
struct PeerLinkStatus {
  std::string fingerprint;       // "AB:CD:…"
  std::string state;             // "connecting", "connected", "refused_by_peer", "unreachable"
  std::int64_t since = 0;        // unix seconds, of the current state
  std::int64_t last_seen = 0;    // unix seconds of the last byte from the peer; 0 never
  std::int64_t rtt_ms = -1;      // last keep-alive round trip; -1 unknown
  std::string detail;            // why, in words
};

class LiveState {
 public:
  virtual ~LiveState() = default;
  // Prometheus text exposition format: the daemon's counters.
  virtual std::string metrics() = 0;
  // Every unexpired registration; empty when the state could not be read
  // in time (the console says so rather than wait).
  virtual std::vector<Registration> registrations() = 0;
  // The outgoing links to trusted peers that have an address; empty when
  // the state could not be read in time.
  virtual std::vector<PeerLinkStatus> peer_links() = 0;
};

}  // namespace sipsite::webadmin
