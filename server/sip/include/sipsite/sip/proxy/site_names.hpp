#pragma once
// Every name and address by which a request can designate this site: its
// domain, its aliases, and each address:port its SIP sockets receive on.
// A phone configured with an outbound proxy of 127.0.0.1, of the LAN
// address or of a name in DNS must all reach the same site.
//
// Host names (domain, alias names) designate the site whatever the port.
// IP addresses designate it only with the port of one of its listeners (or
// no port): phones on the site's own machine share its address with other
// ports, and their contacts are not the site.
//
// Sans-I/O: the composition root expands a wildcard listener (0.0.0.0,
// ::) into the machine's addresses before building this. Comparisons are
// case-insensitive on the text; IPv6 brackets are ignored.
// Thread safety: immutable after construction.

#include "sipsite/sip/io.hpp"
#include "sipsite/common/ip_literal.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::sip {

class SiteNames {
 public:
  SiteNames() = default;
  // `domain`: the site's domain. `aliases`: other names or IP addresses of
  // the site (configured aliases, its public address); an IP alias counts
  // with every listener port. `receiving`: concrete address:port pairs the
  // site's sockets receive on (never a wildcard).
  SiteNames(std::string domain, const std::vector<std::string>& aliases, std::vector<Endpoint> receiving);

  // For AOR domains (From/To): the domain, an alias, or any listening
  // address, whatever the port.
  [[nodiscard]] bool is_local_host(std::string_view host) const;
  // For Request-URIs and Routes: a name of the site, or one of its
  // address:port pairs (no port: any of them).
  [[nodiscard]] bool is_us(std::string_view host, std::optional<std::uint16_t> port) const;

  [[nodiscard]] const std::string& domain() const { return domain_; }

 private:
  std::string domain_;
  std::vector<std::string> names_;      // host names: any port
  std::vector<std::string> addresses_;  // IP literals, unbracketed
  std::vector<std::uint16_t> ports_;    // listener ports, for addresses_
  std::vector<Endpoint> receiving_;
};

// A host that is an IPv4 or IPv6 literal (brackets allowed), as opposed to
// a name.
using common::is_ip_literal;

}  // namespace sipsite::sip
