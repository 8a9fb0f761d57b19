#include "config.hpp"

#include "logging.hpp"

#include <sipsite/pki/domain_name.hpp>

#include <boost/throw_exception.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>
#include <stdexcept>

// Debian builds toml++ as a library with exceptions on; parse errors are
// caught at once and become a ConfigError.
#include <toml++/toml.h>

#include "sipsite/common/ascii.hpp"
#include "sipsite/common/hex.hpp"
#include "sipsite/common/ip_literal.hpp"

namespace sipsite::app {

namespace {

using Apply = std::optional<std::string>;

std::optional<std::string> as_string(const toml::node& node) {
  if (const auto* s = node.as_string()) return s->get();
  return std::nullopt;
}

// A listener address: an IP literal (no names: we bind, not resolve) and a
// port, 0 letting the kernel choose.
Apply parse_listen(const toml::node& node, HostPort& out) {
  const auto text = as_string(node);
  if (!text) return "must be a string \"ADDRESS:PORT\"";
  auto hp = admin::parse_listen_address(*text);
  if (!hp) return hp.error().why;
  out = std::move(*hp);
  return std::nullopt;
}

Apply parse_listen_list(const toml::node& node, std::vector<HostPort>& out) {
  const auto* array = node.as_array();
  if (array == nullptr) return "must be an array of \"ADDRESS:PORT\" strings ([] turns it off)";
  std::vector<HostPort> values;
  for (std::size_t i = 0; i < array->size(); ++i) {
    HostPort hp;
    if (auto err = parse_listen(*array->get(i), hp)) return "[" + std::to_string(i) + "]: " + *err;
    values.push_back(std::move(hp));
  }
  out = std::move(values);
  return std::nullopt;
}

Apply parse_public_address(const toml::node& node, Config& c) {
  const auto text = as_string(node);
  if (!text) return "must be a string";
  return set_public_address(*text, c);
}

// sip.aliases: host names or IP addresses, each at most once.
Apply parse_aliases(const toml::node& node, Config& c) {
  const std::string bad = R"(must be an array of host names or IP addresses, e.g. ["pbx.alpha.example", "192.0.2.7"])";
  const auto* array = node.as_array();
  if (array == nullptr) return bad;
  std::vector<std::string> values;
  for (std::size_t i = 0; i < array->size(); ++i) {
    auto text = as_string(*array->get(i));
    if (!text) return bad;
    auto alias = admin::parse_alias(*text);
    if (!alias) return "[" + std::to_string(i) + "]: " + alias.error().why;
    if (std::find(values.begin(), values.end(), *alias) == values.end()) values.push_back(std::move(*alias));
  }
  c.sip_aliases = std::move(values);
  return std::nullopt;
}

Apply parse_digest_algorithms(const toml::node& node, Config& c) {
  const auto* array = node.as_array();
  const std::string bad = R"(must be a non-empty array of "MD5" and/or "SHA-256", without repeats)";
  if (array == nullptr || array->empty() || array->size() > 2) return bad;
  std::vector<std::string> values;
  for (const auto& element : *array) {
    const auto text = as_string(element);
    if (!text || (*text != "MD5" && *text != "SHA-256")) return bad;
    if (std::find(values.begin(), values.end(), *text) != values.end()) return bad;
    values.push_back(*text);
  }
  c.digest_algorithms = std::move(values);
  return std::nullopt;
}

Apply parse_port_range(const toml::node& node, PortRange& out) {
  const auto text = as_string(node);
  if (!text) return "must be \"FIRST-LAST\" with 1024 <= FIRST <= LAST <= 65535 and an even FIRST";
  auto range = admin::parse_media_port_range(*text);
  if (!range) return range.error().why;
  out = *range;
  return std::nullopt;
}

Apply parse_log_level(const toml::node& node, Config& c) {
  const auto text = as_string(node);
  if (!text) return R"(must be a string such as "info" or "info,federation=debug")";
  if (auto [spec, error] = parse_log_spec(*text); !spec) return error;
  c.log_level = *text;
  return std::nullopt;
}

// A key whose value is an integer in [min, max] (`unit` names it in the
// error); `store` puts it into the Config.
std::function<Apply(const toml::node&, Config&)> integer_in(std::int64_t min, std::int64_t max, const std::string& unit,
                                                            void (*store)(Config&, std::int64_t)) {
  return [=](const toml::node& n, Config& c) -> Apply {
    const auto* value = n.as_integer();
    if (value == nullptr || value->get() < min || value->get() > max) {
      return "must be an integer number of " + unit + " from " + std::to_string(min) + " to " + std::to_string(max);
    }
    store(c, value->get());
    return std::nullopt;
  };
}

std::function<Apply(const toml::node&, Config&)> boolean(bool Config::*member) {
  return [member](const toml::node& n, Config& c) -> Apply {
    const auto* value = n.as_boolean();
    if (value == nullptr) return "must be true or false";
    c.*member = value->get();
    return std::nullopt;
  };
}

Apply parse_strip_headers(const toml::node& node, Config& c) {
  const auto* array = node.as_array();
  if (array == nullptr) return R"(must be an array of header names, e.g. ["User-Agent", "X-*"])";
  static constexpr std::string_view kRequired[] = {"via",
                                                   "v",
                                                   "from",
                                                   "f",
                                                   "to",
                                                   "t",
                                                   "call-id",
                                                   "i",
                                                   "cseq",
                                                   "max-forwards",
                                                   "content-length",
                                                   "l",
                                                   "content-type",
                                                   "c",
                                                   "contact",
                                                   "m",
                                                   "route",
                                                   "record-route"};
  std::vector<std::string> names;
  for (const auto& element : *array) {
    const auto* name = element.as_string();
    if (name == nullptr) return R"(must be an array of header names, e.g. ["User-Agent", "X-*"])";
    std::string_view text = name->get();
    const std::string_view stem = !text.empty() && text.back() == '*' ? text.substr(0, text.size() - 1) : text;
    const bool token = !stem.empty() && std::all_of(stem.begin(), stem.end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) != 0 ||
             std::string_view("-.!%_+`'~").find(ch) != std::string_view::npos;
    });
    if (!token) return "\"" + std::string(text) + "\" is not a header name (a token, optionally ending in *)";
    const std::string lower = common::ascii_lower(stem);
    for (const auto required : kRequired) {
      if (lower == required || (text.back() == '*' && required.starts_with(lower))) {
        return "\"" + std::string(text) + "\" would remove a header SIP needs (it is rewritten, not removed)";
      }
    }
    names.emplace_back(text);
  }
  c.privacy_strip_headers = std::move(names);
  return std::nullopt;
}

const std::vector<ConfigKey>& key_table() {
  static const std::vector<ConfigKey> keys = {
      {"site.public_address", "string", "(the address chosen by init)",
       "Address (IP or DNS name, optionally :PORT for a NAT that maps the federation port elsewhere) at which "
       "peers and media reach this site. Goes into invites and SDP. Unset: the address of federation.listen "
       "when it is bound to one, else the address stored in the site (set from the console, or chosen by "
       "`init`: its --public-address, else the machine's first non-loopback IPv4 address, printed by init).",
       parse_public_address},
      {"sip.address", "string", "(the host's first non-loopback IPv4 address)",
       "IP address phones reach the site at, written in Via and Record-Route when a listener is bound to "
       "0.0.0.0 or [::].",
       [](const toml::node& n, Config& c) -> Apply {
         const auto text = as_string(n);
         if (!text || !common::is_ip_literal(*text)) return "must be an IP address, e.g. \"192.168.1.10\"";
         c.sip_address = *text;
         return std::nullopt;
       }},
      {"sip.aliases", "array of strings", "[]",
       "Other host names and IP addresses by which phones may address this site (in an outbound proxy, a "
       "Route or a Request-URI), beside the ones it knows by itself: its domain, site.public_address, and "
       "every address it listens on (for a listener on 0.0.0.0 or [::], every address of the machine). A "
       "name counts with any port, an IP address with the ports of the SIP listeners.",
       parse_aliases},
      {"sip.digest_algorithms", "array of strings", "[\"MD5\"]",
       "Digest challenges offered to phones, most preferred first: \"SHA-256\" and/or \"MD5\" (RFC 8760). MD5 "
       "alone by default, because some phones fail outright when any challenge names an algorithm they lack "
       "(baresip 1.0 does); use [\"SHA-256\", \"MD5\"] or [\"SHA-256\"] when every phone supports SHA-256.",
       parse_digest_algorithms},
      {"sip.udp", "array of strings", "[\"0.0.0.0:5060\"]", "LAN SIP listeners over UDP; [] turns UDP off.",
       [](const toml::node& n, Config& c) { return parse_listen_list(n, c.sip_udp); }},
      {"sip.tcp", "array of strings", "[\"0.0.0.0:5060\"]", "LAN SIP listeners over TCP; [] turns TCP off.",
       [](const toml::node& n, Config& c) { return parse_listen_list(n, c.sip_tcp); }},
      {"sip.tls", "array of strings", "[\"0.0.0.0:5061\"]",
       "LAN SIP listeners over TLS (server authentication with the site certificate); [] turns TLS off.",
       [](const toml::node& n, Config& c) { return parse_listen_list(n, c.sip_tls); }},
      {"sip.message_timeout", "integer", "30",
       "Seconds a phone has, on TCP or TLS, from the first byte of a message to its last; a connection that "
       "trickles a message slower is closed (slowloris defence). 1 to 600.",
       integer_in(1, 600, "seconds",
                  [](Config& c, std::int64_t v) { c.sip_message_timeout = std::chrono::seconds(v); })},
      {"sip.max_transactions", "integer", "500000",
       "SIP transactions the site keeps in memory at most (a finished one stays up to 32 s over UDP to absorb "
       "retransmissions; a UDP call leaves three for 32 s). Beyond it a new request is answered 503 with "
       "Retry-After: 5, so a flood of INVITEs cannot grow memory without bound: at 0.75 to 1.6 KB per transaction "
       "(docs/ARCHITECTURE.md) the default caps them near 600 MB and allows about 5,000 UDP calls/s sustained. "
       "REGISTER, CANCEL and requests inside a dialog may use an eighth more. 1000 to 10000000.",
       integer_in(1000, 10000000, "transactions",
                  [](Config& c, std::int64_t v) { c.sip_max_transactions = static_cast<std::size_t>(v); })},
      {"federation.listen", "string", "\"0.0.0.0:5062\"", "Mutual-TLS listener for trusted peer sites.",
       [](const toml::node& n, Config& c) { return parse_listen(n, c.federation_listen); }},
      {"federation.rotation_overlap_seconds", "integer", "1209600",
       "After a trusted peer rotates its key (its new certificate proven by the pinned one), how long its old "
       "pin stays accepted beside the new one before it is removed (audited as peer.pin_expired). 14 days by "
       "default; 1 to 31536000.",
       integer_in(1, 31536000, "seconds",
                  [](Config& c, std::int64_t v) { c.rotation_overlap = std::chrono::seconds(v); })},
      {"federation.peer_request_rate", "integer", "2000",
       "Requests per second one peer site may send (bursts of twice as many); beyond it the site answers 503 "
       "with Retry-After. A call costs three requests (INVITE, ACK, BYE). 10 to 100000.",
       integer_in(10, 100000, "requests per second",
                  [](Config& c, std::int64_t v) { c.federation_peer_request_rate = static_cast<std::uint32_t>(v); })},
      {"admin.listen", "string", "\"127.0.0.1:8443\"",
       "HTTPS admin console. Keep it on loopback unless the LAN must reach it.",
       [](const toml::node& n, Config& c) { return parse_listen(n, c.admin_listen); }},
      {"media.ports", "string", "\"40000-40999\"",
       "UDP port range of the media relay (RTP on even ports, RTCP on the next).",
       [](const toml::node& n, Config& c) { return parse_port_range(n, c.media_ports); }},
      {"media.anchor_local_calls", "boolean", "false",
       "Relay the media of local calls (one phone of this site calling another) too, as calls with other sites "
       "always are: each phone is told the relay's LAN address and a port of media.ports instead of the other "
       "phone's address. Off: local calls' media goes phone to phone. Turn it on when the phones cannot reach "
       "each other directly (different VLANs, or a phone behind a further NAT). Each call then takes two port "
       "pairs per stream from media.ports.",
       boolean(&Config::media_anchor_local_calls)},
      {"media.offer_public_candidates", "boolean", "false",
       "In calls with other sites, also pass on the phones' ICE candidates that have a public IP address "
       "(after the relay's own), so that ICE-capable phones with public addresses may send media directly. "
       "Off: the relay is the only candidate offered, and a peer site learns no address of a phone. Candidates "
       "with private or LAN addresses are never passed on.",
       boolean(&Config::media_offer_public_candidates)},
      {"media.lan_srtp", "string", "\"offer\"",
       "SRTP between the site's relay and its phones (SDES, a=crypto), whichever leg: \"offer\": a phone that "
       "offers SRTP gets it, and calls to phones offer it best-effort (RTP/AVP with a=crypto), which phones "
       "without SRTP ignore; \"require\": phones must use SRTP (calls to them offer RTP/SAVP; a plain offer "
       "is refused with 488) or encrypt end to end; \"off\": plain RTP with phones (a phone insisting on "
       "RTP/SAVP is refused). The relay ends SRTP on each phone's leg: a phone's keys never reach the other "
       "side. Media between two sites is SRTP whatever this says, and phones' own end-to-end encryption "
       "(DTLS-SRTP, ZRTP) passes through untouched.",
       [](const toml::node& n, Config& c) -> Apply {
         const auto text = as_string(n);
         const auto mode = text ? media::lan_srtp_from_string(*text) : std::nullopt;
         if (!mode) return R"(must be "off", "offer" or "require")";
         c.media_lan_srtp = *mode;
         return std::nullopt;
       }},
      {"log.level", "string", "\"info\"",
       "Least severe level logged: trace, debug, info, warn, error or off, optionally followed by per-module "
       "levels, e.g. \"info,federation=debug\" (modules: app, federation, media, pki, store, trace). `run --log-level` "
       "overrides it, with the same syntax.",
       parse_log_level},
      {"log.trace_aors", "array of strings", "[]",
       "AORs (\"user@domain\") whose SIP messages are logged, one line each under the module \"trace\", with "
       "bodies, credentials and Call-IDs removed: for troubleshooting one user's phone. Empty: no trace.",
       [](const toml::node& n, Config& c) -> Apply {
         const auto* array = n.as_array();
         std::vector<std::string> aors;
         if (array != nullptr) {
           for (const auto& element : *array) {
             const auto* aor = element.as_string();
             const auto at = aor != nullptr ? aor->get().find('@') : std::string::npos;
             if (at == std::string::npos || at == 0 || at + 1 == aor->get().size() ||
                 aor->get().find_first_of(" \t\r\n<>") != std::string::npos) {
               return "must be an array of AORs such as [\"alice@alpha.example\"]";
             }
             aors.push_back(aor->get());
           }
         } else {
           return "must be an array of AORs such as [\"alice@alpha.example\"]";
         }
         c.log_trace_aors = std::move(aors);
         return std::nullopt;
       }},
      {"privacy.strip_headers", "array of strings",
       "[\"User-Agent\", \"Server\", \"Organization\", \"Warning\", \"Call-Info\", \"Error-Info\", "
       "\"Alert-Info\", \"Reply-To\", \"In-Reply-To\", \"Replaces\", \"Authorization\", "
       "\"Proxy-Authorization\", \"X-*\", \"P-*\"]",
       "Headers removed from every message sent to a peer site (names, case-insensitive; a trailing * matches "
       "a prefix). Via, Contact, Record-Route, Route, Call-ID and tags are always rewritten and cannot be "
       "listed; replacing the list drops the defaults, so keep those you still want.",
       parse_strip_headers},
  };
  return keys;
}

const ConfigKey* find_key(std::string_view name) {
  for (const auto& key : key_table()) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

// Errors are one line on stderr: control characters from the file (a key,
// or the bytes toml++ quotes) are shown escaped.
std::string printable(std::string_view text) {
  std::string out;
  for (const char ch : text) {
    const auto byte = static_cast<unsigned char>(ch);
    if (byte < 0x20 || byte == 0x7f) {
      out += "\\x";
      common::append_hex(out, byte);
    } else {
      out += ch;
    }
  }
  return out;
}

ConfigError error_at(std::string_view source, std::string_view key, std::string_view message) {
  return ConfigError{printable(source) + ": " + printable(key) + ": " + printable(message)};
}

}  // namespace

std::optional<std::string> set_public_address(std::string_view text, Config& c) {
  auto address = admin::parse_public_address(text);
  if (!address) return address.error().why;
  c.public_host = address->host;
  c.public_federation_port = address->port;
  return std::nullopt;
}

namespace {

std::vector<HostPort>* listener_list(admin::NetworkKey key, Config& c) {
  switch (key) {
    case admin::NetworkKey::sip_udp: return &c.sip_udp;
    case admin::NetworkKey::sip_tcp: return &c.sip_tcp;
    case admin::NetworkKey::sip_tls: return &c.sip_tls;
    default: return nullptr;
  }
}

admin::NetworkValue listener_texts(const std::vector<HostPort>& listeners) {
  admin::NetworkValue out;
  for (const auto& l : listeners) out.push_back(l.to_string());
  return out;
}

}  // namespace

std::optional<std::string> set_network_value(const admin::NetworkKeyInfo& key, const admin::NetworkValue& value,
                                             Config& c) {
  auto checked = admin::check_network_value(key, value);
  if (!checked) return checked.error().why;
  const admin::NetworkValue& v = *checked;
  switch (key.key) {
    case admin::NetworkKey::public_address: return set_public_address(v.front(), c);
    case admin::NetworkKey::sip_udp:
    case admin::NetworkKey::sip_tcp:
    case admin::NetworkKey::sip_tls: {
      std::vector<HostPort> listeners;
      for (const auto& text : v) listeners.push_back(*admin::parse_listen_address(text));
      *listener_list(key.key, c) = std::move(listeners);
      return std::nullopt;
    }
    case admin::NetworkKey::federation_listen:
      c.federation_listen = *admin::parse_listen_address(v.front());
      return std::nullopt;
    case admin::NetworkKey::media_ports: c.media_ports = *admin::parse_media_port_range(v.front()); return std::nullopt;
    case admin::NetworkKey::sip_aliases: c.sip_aliases = v; return std::nullopt;
  }
  return std::nullopt;
}

admin::NetworkValue network_value(const admin::NetworkKeyInfo& key, const Config& c) {
  switch (key.key) {
    case admin::NetworkKey::public_address: {
      if (c.public_host.empty()) return {};
      if (c.public_federation_port == 0) return {c.public_host};
      return {HostPort{c.public_host, c.public_federation_port}.to_string()};
    }
    case admin::NetworkKey::sip_udp: return listener_texts(c.sip_udp);
    case admin::NetworkKey::sip_tcp: return listener_texts(c.sip_tcp);
    case admin::NetworkKey::sip_tls: return listener_texts(c.sip_tls);
    case admin::NetworkKey::federation_listen: return {c.federation_listen.to_string()};
    case admin::NetworkKey::media_ports: return {c.media_ports.to_string()};
    case admin::NetworkKey::sip_aliases: return c.sip_aliases;
  }
  return {};
}

void throw_exception_from_error(const ConfigError& e, const boost::source_location& loc) {
  boost::throw_with_location(std::runtime_error(e.message), loc);
}

std::span<const ConfigKey> config_keys() { return key_table(); }

ConfigResult<Config> parse_config(std::string_view text, std::string_view source_name) {
  toml::table parsed;
  try {
    parsed = toml::parse(text, source_name);
  } catch (const toml::parse_error& err) {
    std::ostringstream msg;
    msg << source_name << ":" << err.source().begin.line << ":" << err.source().begin.column << ": "
        << err.description();
    return ConfigError{printable(msg.str())};
  }
  Config config;
  for (auto&& [section_key, section] : parsed) {
    const std::string section_name(section_key.str());
    const auto* table = section.as_table();
    if (table == nullptr) {
      if (find_key(section_name) == nullptr) {
        return error_at(source_name, section_name, "unknown key (expected a [section] such as [sip])");
      }
      return error_at(source_name, section_name, "must be a table");
    }
    for (auto&& [key, value] : *table) {
      const std::string name = section_name + "." + std::string(key.str());
      const ConfigKey* spec = find_key(name);
      if (spec == nullptr) return error_at(source_name, name, "unknown key");
      if (auto err = spec->apply(value, config)) return error_at(source_name, name, *err);
      config.file_keys.push_back(name);
    }
  }
  return config;
}

ConfigResult<Config> load_config_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ConfigError{path.string() + ": cannot read the configuration file"};
  constexpr std::size_t kMaxConfigBytes = 1 << 20;
  std::string text(kMaxConfigBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxConfigBytes) return ConfigError{path.string() + ": larger than 1 MiB"};
  return parse_config(text, path.string());
}

std::string config_reference_markdown() {
  std::string out =
      "# Configuration reference\n\n"
      "Generated by `sipsite config-reference` from the daemon's own table of keys (a test keeps this file\n"
      "identical to that output). The file is TOML, passed with `sipsite run --config FILE`; every key is\n"
      "optional. Unknown keys and bad values stop the daemon with a one-line error naming the key.\n\n"
      "The network keys (`site.public_address`, `sip.udp`, `sip.tcp`, `sip.tls`, `federation.listen`,\n"
      "`media.ports`, `sip.aliases`) can also be set from the console (Settings, Network), which stores them\n"
      "in the site's database: a key this file sets wins, else the stored value, else the default. The daemon\n"
      "reads them at start.\n\n"
      "| key | type | default | meaning |\n|---|---|---|---|\n";
  for (const auto& key : key_table()) {
    out += "| `" + std::string(key.name) + "` | " + std::string(key.type) + " | `" + std::string(key.default_value) +
           "` | " + std::string(key.meaning) + " |\n";
  }
  return out;
}

}  // namespace sipsite::app
