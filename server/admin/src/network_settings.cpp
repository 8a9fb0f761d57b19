#include <sipsite/admin/network_settings.hpp>

#include <sipsite/common/ip_literal.hpp>
#include <sipsite/pki/domain_name.hpp>
#include <sipsite/store/settings_repository.hpp>

#include <boost/throw_exception.hpp>

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace sipsite::admin {

namespace {

constexpr NetworkKeyInfo kKeys[] = {
    {NetworkKey::public_address, "site.public_address", false,
     "where peer sites and media reach this site (goes into invites and SDP)"},
    {NetworkKey::sip_udp, "sip.udp", true, "LAN SIP listeners over UDP"},
    {NetworkKey::sip_tcp, "sip.tcp", true, "LAN SIP listeners over TCP"},
    {NetworkKey::sip_tls, "sip.tls", true, "LAN SIP listeners over TLS"},
    {NetworkKey::federation_listen, "federation.listen", false, "mutual-TLS listener for trusted peer sites"},
    {NetworkKey::media_ports, "media.ports", false, "UDP port range of the media relay"},
    {NetworkKey::sip_aliases, "sip.aliases", true, "other names and addresses phones may use for this site"},
};

// Each value is a few dozen characters; a list has a few elements.
constexpr std::size_t kMaxValueText = 255;
constexpr std::size_t kMaxListSize = 32;

}  // namespace

RuleResult<pki::HostPort> parse_listen_address(std::string_view text) {
  auto hp = pki::parse_host_port(text, /*allow_port_zero=*/true);
  if (!hp) return RuleError{hp.error().message};
  if (!common::is_ip_literal(hp->host)) {
    return RuleError{"'" + std::string(text) + "': listen on an IP address (0.0.0.0, [::], 127.0.0.1…)"};
  }
  return std::move(*hp);
}

RuleResult<MediaPortRange> parse_media_port_range(std::string_view text) {
  const RuleError bad{"must be \"FIRST-LAST\" with 1024 <= FIRST <= LAST <= 65535 and an even FIRST"};
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return bad;
  unsigned first = 0;
  unsigned last = 0;
  const char* begin = text.data();
  const char* mid = begin + dash;
  const char* end = begin + text.size();
  auto r1 = std::from_chars(begin, mid, first);
  auto r2 = std::from_chars(mid + 1, end, last);
  if (r1.ec != std::errc{} || r1.ptr != mid || r2.ec != std::errc{} || r2.ptr != end) return bad;
  // RTP on even ports, RTCP on the next odd one (RFC 3550 §11).
  if (first < 1024 || last > 65535 || first > last || first % 2 != 0 || last - first < 1) return bad;
  return MediaPortRange{static_cast<std::uint16_t>(first), static_cast<std::uint16_t>(last)};
}

RuleResult<pki::HostPort> parse_public_address(std::string_view text) {
  pki::HostPort out{std::string(text), 0};
  if (auto hp = pki::parse_host_port(text); hp) {
    out = std::move(*hp);
  } else if (text.starts_with('[') && text.ends_with(']')) {
    out.host = text.substr(1, text.size() - 2);
  }
  if (!common::is_ip_literal(out.host) && !pki::is_valid_domain_name(out.host)) {
    return RuleError{"'" + std::string(text) + "' is neither an IP address nor a domain name"};
  }
  return out;
}

RuleResult<std::string> parse_alias(std::string_view text) {
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  if (!common::is_ip_literal(text) && !pki::is_valid_domain_name(text)) {
    return RuleError{"'" + std::string(text) + "' is neither an IP address nor a host name"};
  }
  return {boost::system::in_place_value, std::string(text)};
}

void throw_exception_from_error(const RuleError& e, const boost::source_location& loc) {
  boost::throw_with_location(std::invalid_argument(e.why), loc);
}

std::span<const NetworkKeyInfo> network_keys() { return kKeys; }

const NetworkKeyInfo* find_network_key(std::string_view name) {
  for (const auto& k : kKeys) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

RuleResult<NetworkValue> check_network_value(const NetworkKeyInfo& key, const NetworkValue& value) {
  if (!key.is_list && value.size() != 1) return RuleError{"must be one value"};
  if (value.size() > kMaxListSize) return RuleError{"at most " + std::to_string(kMaxListSize) + " values"};
  NetworkValue out;
  for (const auto& v : value) {
    if (v.empty() || v.size() > kMaxValueText || v.find(' ') != std::string::npos) {
      return RuleError{"'" + v.substr(0, kMaxValueText) + "' is not an address"};
    }
    std::string normal = v;
    switch (key.key) {
      case NetworkKey::public_address:
        if (auto a = parse_public_address(v); !a) return a.error();
        break;
      case NetworkKey::sip_udp:
      case NetworkKey::sip_tcp:
      case NetworkKey::sip_tls:
      case NetworkKey::federation_listen: {
        auto a = parse_listen_address(v);
        if (!a) return a.error();
        normal = a->to_string();
        break;
      }
      case NetworkKey::media_ports: {
        auto r = parse_media_port_range(v);
        if (!r) return r.error();
        normal = r->to_string();
        break;
      }
      case NetworkKey::sip_aliases: {
        auto a = parse_alias(v);
        if (!a) return a.error();
        normal = std::move(*a);
        break;
      }
    }
    if (std::find(out.begin(), out.end(), normal) == out.end()) out.push_back(std::move(normal));
  }
  return out;
}

std::string encode_network_value(const NetworkValue& value) {
  std::string out;
  for (const auto& v : value) out += (out.empty() ? "" : " ") + v;
  return out;
}

NetworkValue decode_network_value(std::string_view text) {
  NetworkValue out;
  while (!text.empty()) {
    const auto space = text.find(' ');
    if (space != 0) out.emplace_back(text.substr(0, space));
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
  return out;
}

OpResult<std::vector<NetworkSetting>> load_network_settings(store::Database& db) {
  std::vector<NetworkSetting> out;
  store::SettingsRepository settings(db);
  for (const auto& key : kKeys) {
    auto text = settings.get(key.name);
    if (!text) return from_store(text.error());
    NetworkSetting stored{std::string(key.name), std::nullopt};
    if (*text) stored.value = decode_network_value(**text);
    out.push_back(std::move(stored));
  }
  return out;
}

}  // namespace sipsite::admin
