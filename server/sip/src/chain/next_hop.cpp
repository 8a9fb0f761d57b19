#include "sipsite/sip/chain/next_hop.hpp"

#include "sipsite/common/ascii.hpp"
#include "sipsite/common/ip_literal.hpp"
#include "sipsite/sip/message/param.hpp"
#include "sipsite/sip/message/uri.hpp"

#include <string>

namespace sipsite::sip {

std::optional<Destination> NextHopResolver::resolve(std::string_view uri_text, std::string_view to_user) const {
  const auto uri = parse_uri(uri_text);
  if (!uri || !uri->is_sip()) return std::nullopt;
  const SipUri& s = uri->sip_uri;
  if (!to_user.empty()) {
    for (const auto& b : location_.lookup(to_user)) {
      const auto c = parse_uri(b.contact);
      if (!c || !c->is_sip()) continue;
      if (c->sip_uri.user == s.user && common::iequals(c->sip_uri.host, s.host) && c->sip_uri.port == s.port) {
        return b.destination;
      }
    }
  }
  if (!common::is_ip_literal(s.host)) return peers_.next_hop(s.host);
  Protocol p = s.secure ? Protocol::tls : Protocol::udp;
  if (const auto* t = find_param(s.params, "transport"); t && t->value) {
    if (const auto parsed = protocol_from_token(*t->value)) p = *parsed;
  }
  std::string_view host = s.host;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return Destination{Endpoint{p, std::string(host), s.port.value_or(default_port(p))}, 0};
}

}  // namespace sipsite::sip
