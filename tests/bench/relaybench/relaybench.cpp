// relaybench: hosts a media::MediaRelay for tests/bench/relay_bench.sh, as
// the daemon does: one io_context run on the main thread, nothing else.
//
// It sets up --calls N calls through rewrite(): per call an offer from the
// LAN side (a phone at --lan-remote, PCMU, a=rtcp-mux) and an answer from
// the peer side (--peer-remote, the same), i.e. one audio stream per call
// with one port per leg. Every call names the same two remotes: the load
// generator (rtpload) sends each side's streams from one socket and tells
// them apart by SSRC, which is what keeps the generator cheap; the relay
// latches each leg on its own, as for distinct phones.
//
// --scope edge (the default) makes calls with another site, as the daemon
// does: the peer leg is the inter-site leg, always SRTP (inter_site_cipher.hpp).
// The relay puts its own key in the SDP it sends to the peer
// (a=sipsite-srtp), and relaybench, playing the peer site's signalling,
// puts a fresh key of the peer's in the answer, as the peer relay would.
// --scope local makes calls between two phones of the site (media::Scope::
// local, both legs on the LAN, plain RTP both ways: the phones' SDP have no
// a=crypto): the same relay forwarding plain, to compare with.
//
// When the calls are set up it writes --ports-file (atomically): one line
// per call, "LAN_LEG_PORT PEER_LEG_PORT" (where the LAN remote and the peer
// remote must send), followed in edge scope by the two keys of the peer
// leg, base64 as in the SDP: "RELAY_KEY PEER_KEY" (the relay seals with the
// first, the peer site with the second; rtpload plays the peer site's relay
// with them). It prints "READY calls=N scope=... rss_kb=... rss_before_kb=...".
// It then runs until SIGTERM/SIGINT or --max-seconds, and prints
// "RELAY forwarded=... dropped=... lost=..." summed over every call.
//
// Usage: relaybench --calls N --lan-remote ADDR:PORT --peer-remote ADDR:PORT
//                   --ports-file FILE [--scope edge|local] [--address 127.0.0.1]
//                   [--first-port 10000] [--last-port 32767] [--max-seconds 300]
// Bad arguments: one line on stderr, exit 2.

#include "sipsite/media/inter_site_cipher.hpp"
#include "sipsite/media/media_relay.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

namespace {

namespace asio = boost::asio;
namespace media = sipsite::media;

struct Options {
  unsigned calls = 0;
  std::string lan_remote_addr;
  std::uint16_t lan_remote_port = 0;
  std::string peer_remote_addr;
  std::uint16_t peer_remote_port = 0;
  std::string ports_file;
  std::string address = "127.0.0.1";
  std::uint16_t first_port = 10000;
  std::uint16_t last_port = 32767;
  unsigned max_seconds = 300;
  media::Scope scope = media::Scope::edge;
};

[[noreturn]] void usage_error(const std::string& what) {
  std::fprintf(stderr, "relaybench: %s\n", what.c_str());
  std::exit(2);
}

template <typename T>
T number(std::string_view name, std::string_view s) {
  T v{};
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size())
    usage_error("bad value for " + std::string(name) + ": '" + std::string(s) + "'");
  return v;
}

void host_port(std::string_view name, std::string_view s, std::string& addr, std::uint16_t& port) {
  const auto colon = s.rfind(':');
  if (colon == std::string_view::npos) usage_error(std::string(name) + " must be ADDR:PORT");
  addr = std::string(s.substr(0, colon));
  port = number<std::uint16_t>(name, s.substr(colon + 1));
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (i + 1 >= argc) usage_error("missing value after " + std::string(a));
    const std::string_view v = argv[++i];
    if (a == "--calls")
      o.calls = number<unsigned>(a, v);
    else if (a == "--lan-remote")
      host_port(a, v, o.lan_remote_addr, o.lan_remote_port);
    else if (a == "--peer-remote")
      host_port(a, v, o.peer_remote_addr, o.peer_remote_port);
    else if (a == "--ports-file")
      o.ports_file = v;
    else if (a == "--address")
      o.address = v;
    else if (a == "--first-port")
      o.first_port = number<std::uint16_t>(a, v);
    else if (a == "--last-port")
      o.last_port = number<std::uint16_t>(a, v);
    else if (a == "--max-seconds")
      o.max_seconds = number<unsigned>(a, v);
    else if (a == "--scope" && (v == "edge" || v == "local"))
      o.scope = v == "edge" ? media::Scope::edge : media::Scope::local;
    else if (a == "--scope")
      usage_error("--scope must be edge or local");
    else
      usage_error("unknown argument '" + std::string(a) + "'");
  }
  if (o.calls == 0) usage_error("--calls N (N > 0) is required");
  if (o.lan_remote_port == 0 || o.peer_remote_port == 0) usage_error("--lan-remote and --peer-remote are required");
  if (o.ports_file.empty()) usage_error("--ports-file is required");
  return o;
}

std::string sdp(const std::string& addr, std::uint16_t port, unsigned session, const std::string& extra = "") {
  return "v=0\r\no=- " + std::to_string(session) + " 1 IN IP4 " + addr + "\r\ns=-\r\nc=IN IP4 " + addr +
         "\r\nt=0 0\r\nm=audio " + std::to_string(port) + " RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=rtcp-mux\r\n" +
         extra;
}

// The base64 of a key attribute's value ("AEAD_AES_128_GCM inline:<base64>").
std::string inline_key(std::string_view attribute_value) {
  const auto at = attribute_value.find("inline:");
  return at == std::string_view::npos ? std::string() : std::string(attribute_value.substr(at + 7));
}

// The relay's key in the SDP it sent to the peer site (one m= line), "" if none.
std::string relay_key_of(const std::string& sdp_text) {
  const std::string prefix = "a=" + std::string(media::kInterSiteAttribute) + ":";
  const auto at = sdp_text.find(prefix);
  if (at == std::string::npos) return {};
  const auto end = sdp_text.find_first_of("\r\n", at);
  return inline_key(std::string_view(sdp_text).substr(at + prefix.size(), end - at - prefix.size()));
}

std::uint16_t port_of(const std::string& host_port) {
  return static_cast<std::uint16_t>(std::strtoul(host_port.substr(host_port.rfind(':') + 1).c_str(), nullptr, 10));
}

long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  asio::io_context io;
  media::RelaySettings settings;
  settings.lan_address = o.address;
  settings.public_address = o.address;
  settings.first_port = o.first_port;
  settings.last_port = o.last_port;
  // Longer than any run: the benchmark decides when calls end.
  settings.inactivity = std::chrono::seconds(3600);
  settings.setup_timeout = std::chrono::seconds(3600);
  if (auto v = media::validate(settings); !v) usage_error(v.error().reason);
  const long rss_before = rss_kb();
  media::MediaRelay relay(io, settings);

  const std::string tmp = o.ports_file + ".tmp";
  std::FILE* out = std::fopen(tmp.c_str(), "w");
  if (out == nullptr) usage_error("cannot write " + tmp);
  const bool edge = o.scope == media::Scope::edge;
  const auto fail = [&](unsigned i, const std::string& why) {
    std::fprintf(stderr, "relaybench: call %u of %u: %s\n", i + 1, o.calls, why.c_str());
    std::fclose(out);
    std::remove(tmp.c_str());
    return 1;
  };
  for (unsigned i = 0; i < o.calls; ++i) {
    const std::string key = "call-" + std::to_string(i);
    const auto offer = relay.rewrite(key, media::Side::lan, sdp(o.lan_remote_addr, o.lan_remote_port, i), o.scope);
    if (!offer) return fail(i, offer.error().reason);
    // The peer site's answer: with its relay's key in edge scope, as the
    // peer's relay would add it; a plain phone's answer in local scope.
    std::string peer_key;
    std::string extra;
    if (edge) {
      const auto k = media::InterSiteKey::generate();
      if (!k) return fail(i, "no key could be made");
      extra = "a=" + std::string(media::kInterSiteAttribute) + ":" + k->to_attribute() + "\r\n";
      peer_key = inline_key(k->to_attribute());
    }
    const auto answer =
        relay.rewrite(key, media::Side::peer, sdp(o.peer_remote_addr, o.peer_remote_port, i, extra), o.scope);
    if (!answer) return fail(i, answer.error().reason);
    const auto st = relay.stats(key);
    const auto& stream = st->streams.at(0);
    // What is measured must be what it says: edge calls SRTP between the
    // relays and plain with the phone; local calls plain on both legs.
    if (st->protection.inter_site_srtp != edge || stream.lan.srtp || stream.peer.srtp)
      return fail(i, "the call's protection is not what the benchmark asks for");
    std::fprintf(out, "%u %u", port_of(stream.lan.advertised), port_of(stream.peer.advertised));
    if (edge) {
      const std::string relay_key = relay_key_of(*offer);
      if (relay_key.empty()) return fail(i, "no a=sipsite-srtp key in the relay's offer to the peer site");
      std::fprintf(out, " %s %s", relay_key.c_str(), peer_key.c_str());
    }
    std::fprintf(out, "\n");
  }
  if (std::fclose(out) != 0 || std::rename(tmp.c_str(), o.ports_file.c_str()) != 0)
    usage_error("cannot write " + o.ports_file);
  std::printf("READY calls=%u scope=%s rss_kb=%ld rss_before_kb=%ld\n", o.calls,
              std::string(media::to_string(o.scope)).c_str(), rss_kb(), rss_before);
  std::fflush(stdout);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
  asio::steady_timer limit(io, std::chrono::seconds(o.max_seconds));
  limit.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) io.stop();
  });
  io.run();

  std::uint64_t forwarded = 0;
  std::uint64_t dropped = 0;
  std::uint64_t lost = 0;
  const auto protection = relay.protection_counters();
  for (const auto& c : relay.stats()) {
    for (const auto& s : c.streams) {
      forwarded += s.lan_to_peer.packets + s.peer_to_lan.packets;
      dropped += s.lan.dropped + s.peer.dropped;
      lost += s.lan_to_peer.rtp_lost + s.peer_to_lan.rtp_lost;
    }
  }
  std::printf(
      "RELAY forwarded=%llu dropped=%llu lost=%llu sealed=%llu opened=%llu auth_failed=%llu replayed=%llu rss_kb=%ld\n",
      static_cast<unsigned long long>(forwarded), static_cast<unsigned long long>(dropped),
      static_cast<unsigned long long>(lost), static_cast<unsigned long long>(protection.sealed),
      static_cast<unsigned long long>(protection.opened), static_cast<unsigned long long>(protection.auth_failed),
      static_cast<unsigned long long>(protection.replayed), rss_kb());
  return 0;
}
