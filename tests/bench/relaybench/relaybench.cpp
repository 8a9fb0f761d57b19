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
// When the calls are set up it writes --ports-file (atomically): one line
// per call, "LAN_LEG_PORT PEER_LEG_PORT" (where the LAN remote and the peer
// remote must send), and prints "READY calls=N rss_kb=... rss_before_kb=...".
// It then runs until SIGTERM/SIGINT or --max-seconds, and prints
// "RELAY forwarded=... dropped=... lost=..." summed over every call.
//
// Usage: relaybench --calls N --lan-remote ADDR:PORT --peer-remote ADDR:PORT
//                   --ports-file FILE [--address 127.0.0.1]
//                   [--first-port 10000] [--last-port 32767] [--max-seconds 300]
// Bad arguments: one line on stderr, exit 2.

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
};

[[noreturn]] void usage_error(const std::string& what) {
  std::fprintf(stderr, "relaybench: %s\n", what.c_str());
  std::exit(2);
}

template <typename T>
T number(std::string_view name, std::string_view s) {
  T v{};
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) usage_error("bad value for " + std::string(name) + ": '" + std::string(s) + "'");
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
    if (a == "--calls") o.calls = number<unsigned>(a, v);
    else if (a == "--lan-remote") host_port(a, v, o.lan_remote_addr, o.lan_remote_port);
    else if (a == "--peer-remote") host_port(a, v, o.peer_remote_addr, o.peer_remote_port);
    else if (a == "--ports-file") o.ports_file = v;
    else if (a == "--address") o.address = v;
    else if (a == "--first-port") o.first_port = number<std::uint16_t>(a, v);
    else if (a == "--last-port") o.last_port = number<std::uint16_t>(a, v);
    else if (a == "--max-seconds") o.max_seconds = number<unsigned>(a, v);
    else usage_error("unknown argument '" + std::string(a) + "'");
  }
  if (o.calls == 0) usage_error("--calls N (N > 0) is required");
  if (o.lan_remote_port == 0 || o.peer_remote_port == 0) usage_error("--lan-remote and --peer-remote are required");
  if (o.ports_file.empty()) usage_error("--ports-file is required");
  return o;
}

std::string sdp(const std::string& addr, std::uint16_t port, unsigned session) {
  return "v=0\r\no=- " + std::to_string(session) + " 1 IN IP4 " + addr + "\r\ns=-\r\nc=IN IP4 " + addr +
         "\r\nt=0 0\r\nm=audio " + std::to_string(port) + " RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=rtcp-mux\r\n";
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
  for (unsigned i = 0; i < o.calls; ++i) {
    const std::string key = "call-" + std::to_string(i);
    const auto offer = relay.rewrite(key, media::Side::lan, sdp(o.lan_remote_addr, o.lan_remote_port, i));
    const auto answer = offer ? relay.rewrite(key, media::Side::peer, sdp(o.peer_remote_addr, o.peer_remote_port, i))
                              : offer;
    if (!answer) {
      std::fprintf(stderr, "relaybench: call %u of %u: %s\n", i + 1, o.calls, answer.error().reason.c_str());
      std::fclose(out);
      std::remove(tmp.c_str());
      return 1;
    }
    const auto st = relay.stats(key);
    std::fprintf(out, "%u %u\n", port_of(st->streams.at(0).lan.advertised), port_of(st->streams.at(0).peer.advertised));
  }
  if (std::fclose(out) != 0 || std::rename(tmp.c_str(), o.ports_file.c_str()) != 0)
    usage_error("cannot write " + o.ports_file);
  std::printf("READY calls=%u rss_kb=%ld rss_before_kb=%ld\n", o.calls, rss_kb(), rss_before);
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
  for (const auto& c : relay.stats()) {
    for (const auto& s : c.streams) {
      forwarded += s.lan_to_peer.packets + s.peer_to_lan.packets;
      dropped += s.lan.dropped + s.peer.dropped;
      lost += s.lan_to_peer.rtp_lost + s.peer_to_lan.rtp_lost;
    }
  }
  std::printf("RELAY forwarded=%llu dropped=%llu lost=%llu rss_kb=%ld\n", static_cast<unsigned long long>(forwarded),
              static_cast<unsigned long long>(dropped), static_cast<unsigned long long>(lost), rss_kb());
  return 0;
}
