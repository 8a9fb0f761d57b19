#pragma once
// The services the request-routing core (proxy) uses, each implemented in
// its own part of server/sip and substitutable in tests:
//   Authenticator      digest authentication (digest_authenticator.hpp)
//   Location           registered contacts, in memory only (location_service.hpp)
//   RegistrationHandler the registrar (registrar.hpp)
// Same threading rule as io.hpp: one thread, the SIP strand.

#include "sipsite/sip/io.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::sip {

// One registered contact of a local AOR.
struct Binding {
  std::string contact;      // the Contact URI as the phone gave it
  Destination destination;  // where requests for it go: the address and flow it registered from (NAT-safe)
  TimePoint expires;
  int q1000 = 1000;     // q-value x 1000
  std::string call_id;  // of the REGISTER that made it (RFC 3261 §10.3 step 7)
  std::uint32_t cseq = 0;
};

class Location {
 public:
  virtual ~Location() = default;
  // Unexpired bindings of local user `username`, highest q first.
  virtual std::vector<Binding> lookup(std::string_view username) const = 0;
};

struct AuthDecision {
  enum class Verdict {
    accepted,      // `username` is the authenticated local user
    challenge,     // `response` is a 401/407 with a fresh challenge (possibly stale=true)
    forbidden,     // `response` is a 403 (e.g. identity mismatch)
    rate_limited,  // too many failures from this source or for this user; `response` if one should be sent
  };
  Verdict verdict = Verdict::challenge;
  std::string username;
  std::optional<Message> response;
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // `proxy` selects Proxy-Authorization/407 (requests routed by the site)
  // rather than Authorization/401 (REGISTER). Never reveals whether a user
  // exists: unknown users get the same challenge as known ones.
  virtual AuthDecision authenticate(const Inbound& request, bool proxy) = 0;
};

class RegistrationHandler {
 public:
  virtual ~RegistrationHandler() = default;
  // Handles a REGISTER (authentication included) and returns the final
  // response to send.
  virtual Message handle_register(const Inbound& request) = 0;
};

}  // namespace sipsite::sip
