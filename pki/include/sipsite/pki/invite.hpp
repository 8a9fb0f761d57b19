#pragma once
// An invite: one line an admin sends to another site's admin out of band,
// naming this site's domain, federation address and fingerprint.
//
//   sipsite:invite?v=1&domain=alpha.example&address=203.0.113.7:5062&fp=AB:CD:…
//
// IPv6 addresses are bracketed: address=[2001:db8::7]:5062.

#include <sipsite/pki/error.hpp>
#include <sipsite/pki/fingerprint.hpp>
#include <sipsite/pki/host_port.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace sipsite::pki {

struct Invite {
  std::string domain;
  HostPort address;  // the site's federation listener, as peers reach it
  Fingerprint fingerprint;

  std::string to_string() const;
  static Result<Invite> parse(std::string_view text);
};

}  // namespace sipsite::pki
