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

class LiveState {
 public:
  virtual ~LiveState() = default;
  // Prometheus text exposition format: the daemon's counters.
  virtual std::string metrics() = 0;
  // Every unexpired registration; empty when the state could not be read
  // in time (the console says so rather than wait).
  virtual std::vector<Registration> registrations() = 0;
};

}  // namespace sipsite::webadmin
