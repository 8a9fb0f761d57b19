#pragma once
// The site's network settings: its public address, the SIP and federation
// listeners, the media relay's port range and the SIP aliases. One set of
// text rules for every way to set them: the configuration file
// (server/app's config.cpp) and the console (SiteOperations).
//
// Where the daemon takes each value from, at start: the configuration
// file when it sets the key; else the site's settings table, under the
// key's own name (the console writes there, and `init` writes
// site.public_address); else the built-in default. So a change from the
// console applies at the next start, and the console cannot change a key
// the file sets.

#include <sipsite/admin/operation_error.hpp>

#include <sipsite/pki/host_port.hpp>
#include <sipsite/store/database.hpp>

#include <boost/system/result.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::admin {

// Why a value is not acceptable: one phrase naming the value.
struct RuleError {
  std::string why;
};
[[noreturn]] void throw_exception_from_error(const RuleError& e, const boost::source_location& loc);

template <class T>
using RuleResult = boost::system::result<T, RuleError>;

// A listener: an IP literal (we bind, not resolve) and a port, 0 letting
// the kernel choose. "0.0.0.0:5060", "[::]:5061".
RuleResult<pki::HostPort> parse_listen_address(std::string_view text);

struct MediaPortRange {
  std::uint16_t first = 0;
  std::uint16_t last = 0;
  std::string to_string() const { return std::to_string(first) + "-" + std::to_string(last); }
};
// "FIRST-LAST", 1024 <= FIRST < LAST <= 65535, FIRST even (RTP on even
// ports, RTCP on the next odd one, RFC 3550 §11).
RuleResult<MediaPortRange> parse_media_port_range(std::string_view text);

// "HOST", "HOST:PORT" or "[IPv6]:PORT": HOST an IP literal or a DNS name;
// port 0 when none is given.
RuleResult<pki::HostPort> parse_public_address(std::string_view text);

// A host name or an IP address (brackets around IPv6 are dropped).
RuleResult<std::string> parse_alias(std::string_view text);

// --- the settings as a set

enum class NetworkKey { public_address, sip_udp, sip_tcp, sip_tls, federation_listen, media_ports, sip_aliases };

struct NetworkKeyInfo {
  NetworkKey key;
  std::string_view name;  // the configuration key and the settings-table key
  bool is_list;           // an array of strings, else one string
  std::string_view meaning;
};

// Every network key, in the order the console shows them.
std::span<const NetworkKeyInfo> network_keys();
const NetworkKeyInfo* find_network_key(std::string_view name);

// A value as text: one element for a single-valued key; any number
// (none: turned off) for a list.
using NetworkValue = std::vector<std::string>;

// `value` checked and normalised (aliases without brackets or repeats) for
// `key`; else why not, naming nothing but the value.
RuleResult<NetworkValue> check_network_value(const NetworkKeyInfo& key, const NetworkValue& value);

// One network key with a value, or none: the key's default (or, in the
// daemon, what the configuration file says).
struct NetworkSetting {
  std::string key;  // NetworkKeyInfo::name
  std::optional<NetworkValue> value;

  bool operator==(const NetworkSetting&) const = default;
};

// What the site's settings table holds for each network key, in
// network_keys() order.
OpResult<std::vector<NetworkSetting>> load_network_settings(store::Database& db);

// The settings-table form of a value (list elements separated by one
// space; none of them contains one) and back.
std::string encode_network_value(const NetworkValue& value);
NetworkValue decode_network_value(std::string_view text);

}  // namespace sipsite::admin
