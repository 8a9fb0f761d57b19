#include "sipsite/media/sdp_rewrite.hpp"
#include "sipsite/common/ascii.hpp"

#include "text_util.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <array>
#include <cctype>

namespace sipsite::media {

namespace {

namespace ip = boost::asio::ip;

bool in_v4(std::uint32_t a, std::uint32_t net, int prefix) {
  const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
  return (a & mask) == (net & mask);
}

constexpr std::uint32_t v4(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

bool private_v4(const ip::address_v4& addr) {
  const std::uint32_t a = addr.to_uint();
  struct Net {
    std::uint32_t net;
    int prefix;
  };
  static constexpr std::array<Net, 9> kNets{{
      {v4(0, 0, 0, 0), 8},       // "this network", unspecified
      {v4(10, 0, 0, 0), 8},      // RFC 1918
      {v4(100, 64, 0, 0), 10},   // CGNAT (RFC 6598)
      {v4(127, 0, 0, 0), 8},     // loopback
      {v4(169, 254, 0, 0), 16},  // link-local
      {v4(172, 16, 0, 0), 12},   // RFC 1918
      {v4(192, 168, 0, 0), 16},  // RFC 1918
      {v4(192, 0, 0, 0), 24},    // IETF protocol assignments
      {v4(224, 0, 0, 0), 3},     // multicast, reserved, broadcast (224/4 + 240/4)
  }};
  return std::any_of(kNets.begin(), kNets.end(), [a](const Net& n) { return in_v4(a, n.net, n.prefix); });
}

bool private_v6(const ip::address_v6& addr) {
  const auto b = addr.to_bytes();
  if (addr.is_unspecified() || addr.is_loopback()) return true;
  if ((b[0] & 0xfe) == 0xfc) return true;                  // fc00::/7 unique local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;  // fe80::/10 link-local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return true;  // fec0::/10 site-local (deprecated)
  if (b[0] == 0xff) return true;                           // multicast
  return false;
}

MediaError plan_error(std::string reason) { return MediaError{MediaErrc::bad_plan, std::move(reason)}; }

bool is_candidate(const SdpLine& l) { return l.type == 'a' && attribute_name(l.value) == "candidate"; }
bool is_remote_candidates(const SdpLine& l) { return l.type == 'a' && attribute_name(l.value) == "remote-candidates"; }

// Without anchoring: keep public candidates only, hiding a private related
// address; returns the rewritten attribute value, or nullopt to drop it.
std::optional<std::string> filtered_candidate(std::string_view attr_value) {
  auto c = parse_candidate(attr_value);
  if (!c || is_private_address(c->address)) return std::nullopt;
  bool changed = false;
  for (auto& [name, value] : c->extensions) {
    if (name == "raddr" && is_private_address(value) && value != "0.0.0.0" && value != "::") {
      value = value.find(':') != std::string::npos ? "::" : "0.0.0.0";
      changed = true;
    } else if (name == "rport" && changed && value != "0") {
      value = "0";
    }
  }
  if (!changed) return std::string("candidate:") + std::string(attr_value);
  return c->render();
}

// a=remote-candidates:<component> <address> <port> ...: dropped when any
// address in it is private.
bool remote_candidates_private(std::string_view attr_value) {
  const auto t = detail::split_ws(attr_value);
  for (std::size_t i = 1; i < t.size(); i += 3)
    if (is_private_address(t[i])) return true;
  return false;
}

void strip_candidates(std::vector<SdpLine>& lines) {
  std::vector<SdpLine> out;
  out.reserve(lines.size());
  for (auto& l : lines) {
    if (is_candidate(l)) {
      auto kept = filtered_candidate(attribute_value(l.value));
      if (!kept) continue;
      l.value = std::move(*kept);
    } else if (is_remote_candidates(l) && remote_candidates_private(attribute_value(l.value))) {
      continue;
    }
    out.push_back(std::move(l));
  }
  lines = std::move(out);
}

SdpLine relay_candidate(const std::string& address, std::uint32_t component, std::uint16_t port,
                        const std::string& eol) {
  Candidate c;
  c.foundation = "1";
  c.component = component;
  c.transport = "UDP";
  c.priority = std::to_string(host_candidate_priority(component));
  c.address = address;
  c.port = port;
  c.type = "host";
  return SdpLine{'a', c.render(), eol};
}

void anchor_section(MediaSection& section, const std::optional<StreamEndpoint>& ep, const std::string& address,
                    bool session_has_c, bool keep_public_candidates, const std::string& eol) {
  const bool rejected = section.m.port == 0;
  const std::string c_value = make_connection(address).render();
  std::vector<SdpLine> out;
  out.reserve(section.lines.size() + 3);
  bool had_candidates = false;
  std::vector<SdpLine> kept_public;         // keep_public_candidates: after the relay's
  std::optional<std::size_t> candidate_at;  // where the relay candidates go
  bool have_c = false;
  bool have_rtcp = false;
  for (auto& l : section.lines) {
    if (is_candidate(l) || is_remote_candidates(l)) {
      if (is_candidate(l)) {
        had_candidates = true;
        if (keep_public_candidates) {
          if (auto kept = filtered_candidate(attribute_value(l.value))) kept_public.push_back({'a', *kept, eol});
        }
      }
      if (!candidate_at) candidate_at = out.size();
      continue;
    }
    if (l.type == 'c') {
      if (have_c) continue;  // one unicast address replaces a multicast list
      have_c = true;
      if (l.value != c_value) {
        l.value = c_value;
        l.eol = eol;
      }
    } else if (l.type == 'a' && attribute_name(l.value) == "rtcp") {
      auto r = parse_rtcp(attribute_value(l.value));
      if (!r) continue;  // parse_sdp refuses these; a hand-built Sdp may not
      have_rtcp = true;
      if (!rejected) r->port = ep->rtcp_port;
      if (r->connection) r->connection = make_connection(address);
      if (const auto v = r->render(); v != l.value) {
        l.value = v;
        l.eol = eol;
      }
    }
    out.push_back(std::move(l));
  }
  if (!have_c && !session_has_c) {
    // After the m= line's i= lines (RFC 8866 order: i, c, b, k, a).
    std::size_t at = 0;
    while (at < out.size() && out[at].type == 'i') ++at;
    out.insert(out.begin() + static_cast<std::ptrdiff_t>(at), SdpLine{'c', c_value, eol});
    if (candidate_at && *candidate_at >= at) ++*candidate_at;
  }
  if (!rejected) {
    section.m.port = ep->rtp_port;
    section.m.port_count.reset();  // one relayed stream per m= line
    if (!have_rtcp && ep->rtcp_port != ep->rtp_port && ep->rtcp_port != ep->rtp_port + 1)
      out.push_back(SdpLine{'a', "rtcp:" + std::to_string(ep->rtcp_port), eol});
    if (had_candidates) {
      std::vector<SdpLine> relay;
      relay.push_back(relay_candidate(address, 1, ep->rtp_port, eol));
      if (ep->rtcp_port != ep->rtp_port) relay.push_back(relay_candidate(address, 2, ep->rtcp_port, eol));
      relay.insert(relay.end(), kept_public.begin(), kept_public.end());
      // Before a=end-of-candidates if it came first (it belongs after them).
      std::size_t at = candidate_at.value_or(out.size());
      for (std::size_t i = 0; i < out.size(); ++i)
        if (out[i].type == 'a' && out[i].value == "end-of-candidates" && i < at) at = i;
      out.insert(out.begin() + static_cast<std::ptrdiff_t>(at), relay.begin(), relay.end());
    }
  }
  section.lines = std::move(out);
}

// a=ssrc:<ssrc-id> cname:<value>: the value replaced, other a=ssrc lines kept.
void replace_cname(SdpLine& l, std::string_view cname, const std::string& eol) {
  if (l.type != 'a' || attribute_name(l.value) != "ssrc") return;
  const auto value = attribute_value(l.value);
  const auto space = value.find(' ');
  if (space == std::string_view::npos || value.substr(space + 1, 6) != "cname:") return;
  auto replaced = "ssrc:" + std::string(value.substr(0, space)) + " cname:" + std::string(cname);
  if (replaced == l.value) return;
  l.value = std::move(replaced);
  l.eol = eol;
}

bool removed(const SdpLine& l, const std::vector<std::string>& names) {
  if (l.type != 'a' || names.empty()) return false;
  const auto name = attribute_name(l.value);
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The m= line's proto is the first token of its tail (" RTP/AVP 0 8").
void set_proto(MediaLine& m, const std::string& proto) {
  if (m.proto == proto) return;
  const auto at = m.tail.find(m.proto);
  if (at == std::string::npos) return;
  m.tail.replace(at, m.proto.size(), proto);
  m.proto = proto;
}

void edit_attributes(std::vector<SdpLine>& lines, const RewritePlan& plan, const std::string& eol) {
  std::erase_if(lines, [&](const SdpLine& l) { return removed(l, plan.remove_attributes); });
  if (plan.cname)
    for (auto& l : lines) replace_cname(l, *plan.cname, eol);
}

}  // namespace

AddressClass classify_address(std::string_view address) {
  if (address.empty()) return AddressClass::invalid;
  boost::system::error_code ec;
  const auto a = ip::make_address(std::string(address), ec);
  if (ec) {
    if (common::iends_with(address, ".local") || common::iends_with(address, ".local."))
      return AddressClass::local_name;
    for (const char c : address)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_')
        return AddressClass::invalid;
    return AddressClass::hostname;
  }
  if (a.is_v4()) return private_v4(a.to_v4()) ? AddressClass::private_ip : AddressClass::public_ip;
  const auto v6 = a.to_v6();
  if (v6.is_v4_mapped())
    return private_v4(ip::make_address_v4(ip::v4_mapped, v6)) ? AddressClass::private_ip : AddressClass::public_ip;
  if (v6.scope_id() != 0) return AddressClass::private_ip;
  return private_v6(v6) ? AddressClass::private_ip : AddressClass::public_ip;
}

bool is_private_address(std::string_view address) { return classify_address(address) != AddressClass::public_ip; }

std::uint32_t host_candidate_priority(std::uint32_t component) {
  const std::uint32_t c = std::clamp<std::uint32_t>(component, 1, 256);
  return (std::uint32_t{126} << 24) + (std::uint32_t{65535} << 8) + (256 - c);
}

Result<void> rewrite_sdp(Sdp& sdp, const RewritePlan& plan) {
  if (plan.anchor) {
    boost::system::error_code ec;
    (void)ip::make_address(plan.address, ec);
    if (ec) return plan_error("relay address is not an IP literal");
    if (plan.streams.size() != sdp.media.size())
      return plan_error("plan has " + std::to_string(plan.streams.size()) + " streams, SDP has " +
                        std::to_string(sdp.media.size()) + " m= lines");
    for (std::size_t i = 0; i < sdp.media.size(); ++i)
      if (sdp.media[i].m.port != 0 && !plan.streams[i])
        return plan_error("no relay ports for m= line " + std::to_string(i));
  }

  bool session_has_c = false;
  std::vector<SdpLine> session;
  session.reserve(sdp.session.size());
  for (auto& l : sdp.session) {
    if (l.type == 'o' && (plan.anonymize_origin || !plan.address.empty())) {
      if (auto o = parse_origin(l.value)) {
        if (plan.anonymize_origin) o->username = "-";
        if (!plan.address.empty()) {
          const auto c = make_connection(plan.address);
          o->net_type = "IN";
          o->addr_type = c.addr_type;
          o->address = c.address;
        }
        if (auto v = o->render(); v != l.value) {
          l.value = std::move(v);
          l.eol = sdp.eol;
        }
      }
    } else if (plan.anonymize_origin && (l.type == 'u' || l.type == 'e' || l.type == 'p' || l.type == 'i')) {
      continue;  // the phone user's URI, e-mail, phone number and free text (RFC 8866 5.4-5.6)
    } else if (plan.anonymize_origin && l.type == 's') {
      if (l.value != "-") {  // a session name can be a device or user name; "-" is the RFC's "none"
        l.value = "-";
        l.eol = sdp.eol;
      }
    } else if (l.type == 'c' && plan.anchor) {
      if (session_has_c) continue;
      session_has_c = true;
      if (auto v = make_connection(plan.address).render(); v != l.value) {
        l.value = std::move(v);
        l.eol = sdp.eol;
      }
    } else if ((plan.anchor || plan.strip_private_candidates) && (is_candidate(l) || is_remote_candidates(l))) {
      if (plan.anchor) continue;
      if (is_candidate(l)) {
        auto kept = filtered_candidate(attribute_value(l.value));
        if (!kept) continue;
        l.value = std::move(*kept);
      } else if (remote_candidates_private(attribute_value(l.value))) {
        continue;
      }
    }
    session.push_back(std::move(l));
  }
  sdp.session = std::move(session);
  edit_attributes(sdp.session, plan, sdp.eol);

  for (std::size_t i = 0; i < sdp.media.size(); ++i) {
    auto& section = sdp.media[i];
    if (plan.anchor)
      anchor_section(section, plan.streams[i], plan.address, session_has_c, plan.keep_public_candidates, sdp.eol);
    else if (plan.strip_private_candidates)
      strip_candidates(section.lines);
    edit_attributes(section.lines, plan, sdp.eol);
    if (i < plan.protos.size() && plan.protos[i]) set_proto(section.m, *plan.protos[i]);
    if (section.m.port != 0 && i < plan.add_attributes.size())
      for (const auto& a : plan.add_attributes[i]) section.lines.push_back(SdpLine{'a', a, sdp.eol});
  }
  return {};
}

}  // namespace sipsite::media
