#pragma once
// The daemon's configuration file (TOML). Every key is optional; defaults are
// built in. The table of keys (config_keys()) is the single source for
// validation, for `sipsite config-reference` and for docs/CONFIG.md.

#include <sipsite/admin/network_settings.hpp>
#include <sipsite/media/lan_srtp.hpp>
#include <sipsite/pki/host_port.hpp>
#include <sipsite/sip/edge/edge_privacy.hpp>

#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace toml {
inline namespace v3 {
class node;
}
}  // namespace toml

namespace sipsite::app {

using pki::HostPort;

using PortRange = admin::MediaPortRange;

struct Config {
  // As peers and media see this site through its NAT; empty: the domain.
  std::string public_host;
  // Public federation port when the NAT maps it to another; 0: listen port.
  std::uint16_t public_federation_port = 0;
  // Written in Via and Record-Route for listeners on a wildcard address;
  // empty: the host's first non-loopback IPv4 address.
  std::string sip_address;
  // sip.aliases: more names and IP addresses of the site (sip::SiteNames).
  std::vector<std::string> sip_aliases;
  // Digest challenges offered to phones, most preferred first: "MD5",
  // "SHA-256". MD5 alone by default: some phones fail outright when any
  // challenge names an algorithm they lack (baresip 1.0, Debian 12's).
  std::vector<std::string> digest_algorithms{"MD5"};
  std::vector<HostPort> sip_udp{{"0.0.0.0", 5060}};
  std::vector<HostPort> sip_tcp{{"0.0.0.0", 5060}};
  std::vector<HostPort> sip_tls{{"0.0.0.0", 5061}};
  // TCP/TLS: from a message's first byte to its last (slowloris defence).
  std::chrono::seconds sip_message_timeout{30};
  std::size_t sip_max_transactions = 500000;
  HostPort federation_listen{"0.0.0.0", 5062};
  // Requests a second one peer site may send (burst: twice as many).
  std::uint32_t federation_peer_request_rate = 2000;
  HostPort admin_listen{"127.0.0.1", 8443};
  PortRange media_ports{40000, 40999};
  // Local calls (phone to phone on this site) through the relay too.
  bool media_anchor_local_calls = false;
  bool media_offer_public_candidates = false;
  media::LanSrtp media_lan_srtp = media::LanSrtp::offer;
  std::string log_level = "info";
  // AORs whose SIP messages are logged (redacted), for troubleshooting.
  std::vector<std::string> log_trace_aors;
  // How long a peer's old pin stays accepted after it rotated its key.
  std::chrono::seconds rotation_overlap{14 * 24 * 3600};
  // Headers removed from everything sent to peer sites (edge privacy).
  std::vector<std::string> privacy_strip_headers = sip::EdgePrivacySettings::default_strip_headers();
  // The keys the configuration file set ("sip.udp", ...): they win over
  // values stored from the console.
  std::vector<std::string> file_keys;
};

struct ConfigError {
  std::string message;  // one line, names the file and the key
};

[[noreturn]] void throw_exception_from_error(const ConfigError& e, const boost::source_location& loc);

template <class T>
using ConfigResult = boost::system::result<T, ConfigError>;

// One configuration key: its dotted name, TOML type, default, meaning, and
// how it is applied (returns an error message, or nullopt when accepted).
struct ConfigKey {
  std::string_view name;
  std::string_view type;
  std::string_view default_value;
  std::string_view meaning;
  std::function<std::optional<std::string>(const toml::node&, Config&)> apply;
};

std::span<const ConfigKey> config_keys();

// Sets public_host (and public_federation_port) from "HOST", "HOST:PORT" or
// "[IPv6]:PORT", as the key site.public_address does; an error message when
// `text` is not an address.
std::optional<std::string> set_public_address(std::string_view text, Config& c);

// Sets the network key `key` from its text form (admin::check_network_value
// rules); an error message when the value is not acceptable.
std::optional<std::string> set_network_value(const admin::NetworkKeyInfo& key, const admin::NetworkValue& value,
                                             Config& c);
// The network key's value in `c` as text; site.public_address is the
// advertised "HOST[:PORT]", empty when the site uses its domain.
admin::NetworkValue network_value(const admin::NetworkKeyInfo& key, const Config& c);

ConfigResult<Config> parse_config(std::string_view text, std::string_view source_name);
ConfigResult<Config> load_config_file(const std::filesystem::path& path);

// The config reference as Markdown (docs/CONFIG.md is this output).
std::string config_reference_markdown();

}  // namespace sipsite::app
