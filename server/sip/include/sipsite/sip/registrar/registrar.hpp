#pragma once
// The registrar (RFC 3261 §10.3), implementing RegistrationHandler
// (services.hpp) over a DigestAuthenticator-like Authenticator and the
// in-memory LocationService.
//
// Handling of a REGISTER, in order; the first failure answers:
//   To not a SIP/SIPS URI with a user     400
//   To not of the local domain            404 "Not Found (not a domain of this site)"
//   Require with any option tag           420 with Unsupported (we support none)
//   authentication (proxy=false)          the Authenticator's 401 / 403
//   authenticated user != To user         403
//   malformed Call-ID/CSeq/Contact/Expires 400
//   Contact: * without Expires: 0         400 ("*" beside other contacts is a
//                                             Contact parse error: 400 too)
//   more contacts than max_contacts       403 "Forbidden (too many contacts)"
//   a Contact not sip:/sips:              400
//   a bad q or expires parameter          400
//   expires < min_expires (and not 0)     423 with Min-Expires
//   same Call-ID, CSeq not higher than    400 "Bad Request (CSeq out of order)"
//   the stored one (step 7: the RFC          (RFC 3261 names no code; Kamailio and
//   only says the request fails)             ersip answer 400 too)
// then the bindings are updated atomically and a 200 lists every current
// contact of the AOR with its remaining expires (and q when not 1), plus
// Date when a wall clock is configured. The Request-URI is not checked: the
// routing core sends REGISTERs for the local domain here, and phones
// configured with the server's address as registrar put that in it.
//
// Expiry: the contact's expires parameter, else the Expires header, else
// default_expires; clamped to max_expires.
//
// Cap: a request naming more than max_contacts contacts is refused (403);
// when an accepted request would leave the AOR with more than max_contacts
// bindings, the bindings this request did not name are evicted, soonest to
// expire first (a phone rebooting with a new contact should not lock its
// user out for an hour).
//
// A binding's Destination is the REGISTER's real source address (NAT-safe:
// what rport/received would say) and, over TCP/TLS, its flow; the Contact
// URI is kept as given and returned, but requests go where the phone is.
//
// Thread safety: one thread (the SIP strand).

#include "sipsite/sip/io.hpp"
#include "sipsite/sip/registrar/location_service.hpp"
#include "sipsite/sip/services.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace sipsite::sip {

struct RegistrarSettings {
  std::uint32_t min_expires = 60;    // seconds; 423 below (0 still removes)
  std::uint32_t max_expires = 7200;  // longer requests are clamped
  std::uint32_t default_expires = 3600;
  std::size_t max_contacts = 10;  // bindings per AOR
  // The Date header of 200 responses (RFC 3261 §10.3 step 8). The core has
  // no wall clock of its own: the app passes std::chrono::system_clock::now;
  // tests a fixed time. Empty: no Date header.
  std::function<std::chrono::system_clock::time_point()> wall_clock;
};

class Registrar final : public RegistrationHandler {
 public:
  // Keeps references to every argument but settings; they must outlive it.
  Registrar(const Directory& directory, Authenticator& authenticator, LocationService& location, const Clock& clock,
            RegistrarSettings settings);

  Message handle_register(const Inbound& request) override;

 private:
  const Directory& directory_;
  Authenticator& authenticator_;
  LocationService& location_;
  const Clock& clock_;
  RegistrarSettings settings_;
};

// RFC 3261 §19.1.4 comparison of two Contact URIs, as the registrar matches
// a refresh to a binding: for SIP/SIPS, scheme, user and password
// (unescaped, case-sensitive), host (case-insensitive), port (presence
// too), the transport/user/ttl/method/maddr parameters when either has them
// and any other parameter both have. Other schemes compare as text.
[[nodiscard]] bool contact_uris_equal(std::string_view a, std::string_view b);

// "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 3261 §20.17, RFC 1123 form).
[[nodiscard]] std::string format_sip_date(std::chrono::system_clock::time_point t);

}  // namespace sipsite::sip
