// rtpload: the RTP load generator and sink of tests/bench/relay_bench.sh.
//
// It plays both parties of every call in --ports-file (lines "LAN_PORT
// PEER_PORT [RELAY_KEY PEER_KEY]", written by relaybench or udpfwd): from one UDP socket bound
// at --lan-remote it sends each call's LAN-side stream to the call's LAN
// port, from one socket at --peer-remote each peer-side stream to the
// call's peer port, and it receives what the forwarder sends back on the
// same two sockets. Streams are told apart by SSRC (one per call and
// direction), so the generator needs two sockets whatever the number of
// calls and sends and receives in batches (sendmmsg/recvmmsg): it stays far
// cheaper per packet than the forwarder it measures.
//
// Calls with keys (relaybench --scope edge): the peer side plays the peer
// site's relay, as a sipsite relay does it (sipsite::media::InterSiteCipher,
// AEAD_AES_128_GCM by libsrtp2): each packet it sends is sealed with the
// call's PEER_KEY into a tunnel packet, and each packet it receives must
// come from the call's peer-leg port and open under the call's RELAY_KEY
// (else it counts in open_failed, not as received). The LAN side stays
// plain (the phones). The generator's own sealing and opening is in its
// CPU time (gen_cpu_s), not in the target's.
//
// Packets: RTP version 2, PT 0, 12-byte header + 160 bytes of payload (20 ms
// of PCMU), sequence number and timestamp (160 per packet) per stream.
// Pacing: --rate packets/s per direction per call; the streams' packets are
// spread evenly in time (packet j of the whole schedule at j / total rate),
// sent by a loop that wakes every --tick-us (default 100), so the load is a
// steady trickle, not bursts of a whole 20 ms period.
//
// Timeline: --warmup seconds (not counted: latching, caches), then the
// --duration window, then --drain seconds to collect packets still in
// flight. Counted: the window's packets (by timestamp) received, per stream.
// With --target-pid, the target's CPU time over the window is read too:
// utime + stime from /proc/PID/stat (clock ticks) and the run time from
// /proc/PID/schedstat (ns). Kernel drops: the generator's own sockets
// (/proc/net/udp), all UDP receive-buffer overflows on the machine
// (/proc/net/snmp RcvbufErrors) and the input backlog's drops
// (/proc/net/softnet_stat) over the window.
//
// The last output line: "RESULT key=value ...". Bad arguments: one line on
// stderr, exit 2. Bounded: it stops after warmup + duration + drain (+1 s).

#include "sipsite/media/inter_site_cipher.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kPayload = 160;
constexpr std::size_t kPacket = 12 + kPayload;
constexpr std::size_t kBatch = 64;
constexpr std::uint32_t kSsrcBase = 0x52540000;
namespace media = sipsite::media;
// Room around a packet for sealing it in place (tunnel header, tag).
constexpr std::size_t kRoom = media::kTunnelHeader + kPacket + media::kTunnelTrailer;

struct Options {
  std::string ports_file;
  sockaddr_in lan_remote{};
  sockaddr_in peer_remote{};
  std::string target_address = "127.0.0.1";
  double rate = 50;
  double warmup = 1;
  double duration = 5;
  double drain = 0.5;
  long tick_us = 100;
  int target_pid = 0;
};

[[noreturn]] void usage_error(const std::string& what) {
  std::fprintf(stderr, "rtpload: %s\n", what.c_str());
  std::exit(2);
}

double real(std::string_view name, std::string_view s) {
  char* end = nullptr;
  const std::string str(s);
  const double v = std::strtod(str.c_str(), &end);
  if (end == str.c_str() || *end != '\0' || !(v >= 0) || v > 1e9) usage_error("bad value for " + std::string(name));
  return v;
}

sockaddr_in endpoint(std::string_view name, std::string_view s, std::uint16_t port_if_absent = 0) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  const auto colon = s.rfind(':');
  const std::string host(colon == std::string_view::npos ? s : s.substr(0, colon));
  unsigned port = port_if_absent;
  if (colon != std::string_view::npos) {
    const auto p = s.substr(colon + 1);
    const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc{} || end != p.data() + p.size() || port == 0 || port > 65535)
      usage_error("bad port in " + std::string(name));
  }
  if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) usage_error("bad IPv4 address in " + std::string(name));
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  return a;
}

Options parse(int argc, char** argv) {
  Options o;
  bool lan = false;
  bool peer = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (i + 1 >= argc) usage_error("missing value after " + std::string(a));
    const std::string_view v = argv[++i];
    if (a == "--ports-file")
      o.ports_file = v;
    else if (a == "--lan-remote")
      o.lan_remote = endpoint(a, v), lan = true;
    else if (a == "--peer-remote")
      o.peer_remote = endpoint(a, v), peer = true;
    else if (a == "--target-address")
      o.target_address = v;
    else if (a == "--rate")
      o.rate = real(a, v);
    else if (a == "--warmup")
      o.warmup = real(a, v);
    else if (a == "--duration")
      o.duration = real(a, v);
    else if (a == "--drain")
      o.drain = real(a, v);
    else if (a == "--tick-us")
      o.tick_us = static_cast<long>(real(a, v));
    else if (a == "--target-pid")
      o.target_pid = static_cast<int>(real(a, v));
    else
      usage_error("unknown argument '" + std::string(a) + "'");
  }
  if (o.ports_file.empty() || !lan || !peer) usage_error("--ports-file, --lan-remote and --peer-remote are required");
  if (o.rate <= 0 || o.duration <= 0) usage_error("--rate and --duration must be positive");
  if (o.warmup + o.duration + o.drain > 600) usage_error("a run is bounded to 600 s");
  if (o.tick_us < 10 || o.tick_us > 20000) usage_error("--tick-us must be within 10..20000");
  return o;
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double cpu_seconds_of(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string f;
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  for (int i = 0; i < 13 && fields >> f; ++i) {
    if (i == 11) utime = std::strtoull(f.c_str(), nullptr, 10);
    if (i == 12) stime = std::strtoull(f.c_str(), nullptr, 10);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The scheduler's own count of the target's run time (ns, main thread:
// relaybench and udpfwd have no other), not sampled by clock ticks.
double run_seconds_of(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/schedstat");
  unsigned long long ns = 0;
  in >> ns;
  return static_cast<double>(ns) / 1e9;
}

double own_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// UDP receive-buffer overflows on the whole machine (this network namespace).
unsigned long long udp_rcvbuf_errors() {
  std::ifstream in("/proc/net/snmp");
  std::string header;
  std::string values;
  while (std::getline(in, header)) {
    if (header.rfind("Udp: ", 0) != 0) continue;
    std::getline(in, values);
    std::istringstream h(header);
    std::istringstream v(values);
    std::string name;
    std::string value;
    while (h >> name && v >> value)
      if (name == "RcvbufErrors") return std::strtoull(value.c_str(), nullptr, 10);
  }
  return 0;
}

// Packets dropped before any socket: the per-CPU input backlog (loopback
// goes through it) was full (/proc/net/softnet_stat, second column).
unsigned long long backlog_drops() {
  std::ifstream in("/proc/net/softnet_stat");
  std::string line;
  unsigned long long drops = 0;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string processed;
    std::string dropped;
    if (f >> processed >> dropped) drops += std::strtoull(dropped.c_str(), nullptr, 16);
  }
  return drops;
}

// Drops counted on the sockets bound at these endpoints (/proc/net/udp).
unsigned long long socket_drops(const std::vector<sockaddr_in>& locals) {
  std::ifstream in("/proc/net/udp");
  std::string line;
  unsigned long long drops = 0;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string slot;
    std::string local;
    f >> slot >> local;
    for (const auto& l : locals) {
      char want[32];
      std::snprintf(want, sizeof want, "%08X:%04X", l.sin_addr.s_addr, ntohs(l.sin_port));
      if (local != want) continue;
      std::string last;
      std::string w;
      while (f >> w) last = w;
      drops += std::strtoull(last.c_str(), nullptr, 10);
    }
  }
  return drops;
}

int open_socket(const sockaddr_in& at) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) usage_error("cannot open a socket");
  const int big = 64 << 20;
  // Beyond rmem_max when allowed (CAP_NET_ADMIN), else what rmem_max allows.
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0) {
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &at.sin_addr, text, sizeof text);
    usage_error(std::string("cannot bind ") + text + ":" + std::to_string(ntohs(at.sin_port)) + ": " +
                std::strerror(errno));
  }
  return fd;
}

void put32(unsigned char* p, std::uint32_t v) {
  p[0] = static_cast<unsigned char>(v >> 24);
  p[1] = static_cast<unsigned char>(v >> 16);
  p[2] = static_cast<unsigned char>(v >> 8);
  p[3] = static_cast<unsigned char>(v);
}

std::uint32_t get32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// One side's outgoing batch: up to kBatch packets, each with its own
// destination, sent with one sendmmsg. The RTP packet is written at
// kTunnelHeader, so that sealing it needs no copy.
struct Batch {
  std::array<std::array<unsigned char, kRoom>, kBatch> data{};
  std::array<iovec, kBatch> iov{};
  std::array<mmsghdr, kBatch> msgs{};
  std::size_t count = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  std::vector<sockaddr_in> dest;  // per stream k: 2*call (LAN side -> LAN port), 2*call+1 (peer side)
  // Calls with keys: the peer side's cipher per call (seals with the peer's
  // key, opens with the relay's); and which call a peer-leg port is.
  std::vector<std::unique_ptr<media::InterSiteCipher>> ciphers;
  std::vector<std::int32_t> call_of_port(65536, -1);
  {
    std::ifstream in(o.ports_file);
    if (!in) usage_error("cannot read " + o.ports_file);
    const sockaddr_in target = endpoint("--target-address", o.target_address, 1);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream f(line);
      unsigned lan = 0;
      unsigned peer = 0;
      std::string relay_key;
      std::string peer_key;
      if (!(f >> lan >> peer)) continue;
      if (lan == 0 || lan > 65535 || peer == 0 || peer > 65535) usage_error("bad port in " + o.ports_file);
      const bool keyed = static_cast<bool>(f >> relay_key >> peer_key);
      if (!dest.empty() && keyed != !ciphers.empty()) usage_error(o.ports_file + ": every call or none must have keys");
      if (keyed) {
        const auto attr = [](const std::string& b64) {
          return media::InterSiteKey::from_attribute(std::string(media::kInterSiteSuite) + " inline:" + b64);
        };
        const auto rk = attr(relay_key);
        const auto pk = attr(peer_key);
        auto c = pk ? media::InterSiteCipher::create(*pk) : nullptr;
        if (!rk || !c || !c->set_peer_key(*rk)) usage_error("bad key in " + o.ports_file);
        ciphers.push_back(std::move(c));
      }
      call_of_port[peer] = static_cast<std::int32_t>(dest.size() / 2);
      for (unsigned p : {lan, peer}) {
        sockaddr_in d = target;
        d.sin_port = htons(static_cast<std::uint16_t>(p));
        dest.push_back(d);
      }
    }
    if (dest.empty()) usage_error(o.ports_file + " lists no call");
  }
  const bool sealed = !ciphers.empty();
  const std::size_t streams = dest.size();
  const std::array<int, 2> fds{open_socket(o.lan_remote), open_socket(o.peer_remote)};

  const double total_rate = o.rate * static_cast<double>(streams);
  const auto warm_idx = static_cast<std::uint64_t>(std::llround(o.rate * o.warmup));
  const auto end_idx =
      warm_idx + std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(o.rate * o.duration)));
  const std::uint64_t total = end_idx * streams;
  const std::uint64_t window_first = warm_idx * streams;

  std::array<Batch, 2> batches;
  for (auto& b : batches) {
    for (std::size_t i = 0; i < kBatch; ++i) {
      b.data[i].fill(0xFF);                     // PCMU silence
      b.data[i][media::kTunnelHeader] = 0x80;   // V=2
      b.data[i][media::kTunnelHeader + 1] = 0;  // PT 0
      b.iov[i] = iovec{b.data[i].data() + media::kTunnelHeader, kPacket};
      b.msgs[i].msg_hdr.msg_iov = &b.iov[i];
      b.msgs[i].msg_hdr.msg_iovlen = 1;
      b.msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
    }
  }
  std::uint64_t send_errors = 0;
  std::uint64_t seal_failed = 0;
  std::uint64_t open_failed = 0;
  const auto flush = [&](int side) {
    Batch& b = batches[static_cast<std::size_t>(side)];
    std::size_t done = 0;
    while (done < b.count) {
      const int r =
          sendmmsg(fds[static_cast<std::size_t>(side)], &b.msgs[done], static_cast<unsigned>(b.count - done), 0);
      if (r <= 0) {
        if (r < 0 && errno == EINTR) continue;
        send_errors += b.count - done;
        break;
      }
      done += static_cast<std::size_t>(r);
    }
    b.count = 0;
  };

  // Receiving: per stream, the window's packets that came back.
  std::vector<std::uint32_t> got(streams, 0);
  std::uint64_t received_any = 0;
  std::uint64_t unknown = 0;
  std::uint64_t misrouted = 0;
  constexpr std::size_t kRecvBatch = 64;
  std::vector<std::array<unsigned char, 2048>> rbuf(kRecvBatch);
  std::vector<iovec> riov(kRecvBatch);
  std::vector<mmsghdr> rmsgs(kRecvBatch);
  std::vector<sockaddr_in> rfrom(kRecvBatch);
  const auto receive = [&](int side) {
    for (int round = 0; round < 64; ++round) {  // bounded: others get their turn
      for (std::size_t i = 0; i < kRecvBatch; ++i) {
        riov[i] = iovec{rbuf[i].data(), rbuf[i].size()};
        rmsgs[i] = mmsghdr{};
        rmsgs[i].msg_hdr.msg_iov = &riov[i];
        rmsgs[i].msg_hdr.msg_iovlen = 1;
        rmsgs[i].msg_hdr.msg_name = &rfrom[i];
        rmsgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
      }
      const int n = recvmmsg(fds[static_cast<std::size_t>(side)], rmsgs.data(), kRecvBatch, MSG_DONTWAIT, nullptr);
      if (n <= 0) return;
      for (int i = 0; i < n; ++i) {
        auto len = static_cast<std::size_t>(rmsgs[static_cast<std::size_t>(i)].msg_len);
        unsigned char* p = rbuf[static_cast<std::size_t>(i)].data();
        ++received_any;
        if (sealed && side == 1) {  // from the relay's peer leg: must open under that call's relay key
          const std::int32_t call = call_of_port[ntohs(rfrom[static_cast<std::size_t>(i)].sin_port)];
          std::size_t inner = 0;
          if (call < 0 || ciphers[static_cast<std::size_t>(call)]->open(p, len, inner) != media::OpenResult::ok) {
            ++open_failed;
            continue;
          }
          p += media::kTunnelHeader;
          len = inner;
        }
        if (len < 12) {
          ++unknown;
          continue;
        }
        const std::uint32_t k = get32(p + 8) - kSsrcBase;
        if (k >= streams) {
          ++unknown;
          continue;
        }
        // Stream 2c was sent from the LAN side and must arrive on the peer side.
        if (static_cast<int>(k & 1U) == side) {
          ++misrouted;
          continue;
        }
        const std::uint64_t idx = get32(p + 4) / kPayload;
        if (idx >= warm_idx && idx < end_idx) ++got[k];
      }
      if (static_cast<std::size_t>(n) < kRecvBatch) return;
    }
  };

  // Read before the load (the file lists every socket of the target: slow).
  const std::vector<sockaddr_in> locals{o.lan_remote, o.peer_remote};
  const unsigned long long drops0 = socket_drops(locals);
  const auto t0 = Clock::now();
  const auto tick = std::chrono::microseconds(o.tick_us);
  const auto hard_stop = t0 + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(o.warmup + o.duration + o.drain + 1));
  std::uint64_t sent = 0;
  double max_lag = 0;
  Clock::time_point window_start{};
  Clock::time_point window_end{};
  double target_cpu0 = 0;
  double target_cpu1 = 0;
  double target_run0 = 0;
  double target_run1 = 0;
  double own_cpu0 = 0;
  double own_cpu1 = 0;
  unsigned long long rcvbuf0 = 0;
  unsigned long long rcvbuf1 = 0;
  unsigned long long backlog0 = 0;
  unsigned long long drops1 = 0;
  const auto read_target = [&](double& cpu, double& run) {
    if (o.target_pid <= 0) return;
    cpu = cpu_seconds_of(o.target_pid);
    run = run_seconds_of(o.target_pid);
  };
  const auto mark_start = [&] {
    window_start = Clock::now();
    read_target(target_cpu0, target_run0);
    own_cpu0 = own_cpu_seconds();
    rcvbuf0 = udp_rcvbuf_errors();
    backlog0 = backlog_drops();
  };
  if (window_first == 0) mark_start();

  while (true) {
    const auto now = Clock::now();
    if (now >= hard_stop) break;
    const double elapsed = seconds(now - t0);
    if (sent < total) {
      const auto due = std::min<std::uint64_t>(total, static_cast<std::uint64_t>(elapsed * total_rate) + 1);
      if (due > sent + 1) max_lag = std::max(max_lag, elapsed - static_cast<double>(sent) / total_rate);
      while (sent < due) {
        if (sent == window_first && window_first != 0) {
          flush(0);
          flush(1);
          mark_start();
        }
        const std::size_t k = sent % streams;
        const std::uint64_t idx = sent / streams;
        const int side = static_cast<int>(k & 1U);
        Batch& b = batches[static_cast<std::size_t>(side)];
        unsigned char* p = b.data[b.count].data() + media::kTunnelHeader;
        p[2] = static_cast<unsigned char>(idx >> 8);
        p[3] = static_cast<unsigned char>(idx);
        put32(p + 4, static_cast<std::uint32_t>(idx * kPayload));
        put32(p + 8, kSsrcBase + static_cast<std::uint32_t>(k));
        b.msgs[b.count].msg_hdr.msg_name = &dest[k];
        if (sealed && side == 1) {  // as the peer site's relay: sealed with the call's peer key
          // Sealing encrypted this slot's last packet in place: the header's
          // first bytes and the payload are written again.
          p[0] = 0x80;
          p[1] = 0;
          std::memset(p + 12, 0xFF, kPayload);
          const std::size_t n = ciphers[k / 2]->seal(p - media::kTunnelHeader, kPacket);
          if (n == 0) {
            ++seal_failed;
            ++sent;
            continue;
          }
          b.iov[b.count] = iovec{p - media::kTunnelHeader, n};
        } else {
          b.iov[b.count] = iovec{p, kPacket};
        }
        if (++b.count == kBatch) flush(side);
        ++sent;
      }
      flush(0);
      flush(1);
      if (sent == total) {
        window_end = Clock::now();
        read_target(target_cpu1, target_run1);
        own_cpu1 = own_cpu_seconds();
      }
    } else if (seconds(now - window_end) >= o.drain) {
      break;
    }
    receive(0);
    receive(1);
    // Sleep to the next tick: waking per arriving packet would cost the
    // generator a system call or three per packet; the receive buffers are
    // large enough for a tick's packets.
    const auto next = t0 + tick * ((Clock::now() - t0) / tick + 1);
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(next.time_since_epoch()).count();
    const timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
  }
  receive(0);
  receive(1);
  rcvbuf1 = udp_rcvbuf_errors();
  const unsigned long long backlog1 = backlog_drops();
  drops1 = socket_drops(locals);
  if (window_end == Clock::time_point{}) {  // cut short by hard_stop
    window_end = Clock::now();
    own_cpu1 = own_cpu_seconds();
    read_target(target_cpu1, target_run1);
  }

  const std::uint64_t per_stream = end_idx - warm_idx;
  const std::uint64_t window_sent = sent > window_first ? sent - window_first : 0;
  std::uint64_t window_got = 0;
  double worst = 0;
  std::size_t lossy = 0;
  for (const auto g : got) {
    window_got += g;
    const double l = 1.0 - static_cast<double>(g) / static_cast<double>(per_stream);
    worst = std::max(worst, l);
    if (g < per_stream) ++lossy;
  }
  const double window_s = seconds(window_end - window_start);
  const double loss = window_sent == 0 ? 1.0 : 1.0 - static_cast<double>(window_got) / static_cast<double>(window_sent);
  std::printf(
      "RESULT calls=%zu rate=%g offered_pps=%.0f sent=%llu received=%llu loss=%.6f worst_stream_loss=%.6f "
      "lossy_streams=%zu window_s=%.3f sent_pps=%.0f delivered_pps=%.0f target_cpu_s=%.3f target_run_s=%.3f "
      "gen_cpu_s=%.3f "
      "max_lag_us=%.0f gen_drops=%llu udp_rcvbuf_errors=%llu backlog_drops=%llu send_errors=%llu unknown=%llu "
      "misrouted=%llu "
      "received_any=%llu sealed=%d seal_failed=%llu open_failed=%llu\n",
      streams / 2, o.rate, total_rate, static_cast<unsigned long long>(window_sent),
      static_cast<unsigned long long>(window_got), std::max(0.0, loss), worst, lossy, window_s,
      static_cast<double>(window_sent) / window_s, static_cast<double>(window_got) / window_s,
      target_cpu1 - target_cpu0, target_run1 - target_run0, own_cpu1 - own_cpu0, max_lag * 1e6, drops1 - drops0,
      rcvbuf1 - rcvbuf0, backlog1 - backlog0, static_cast<unsigned long long>(send_errors),
      static_cast<unsigned long long>(unknown), static_cast<unsigned long long>(misrouted),
      static_cast<unsigned long long>(received_any), sealed ? 1 : 0, static_cast<unsigned long long>(seal_failed),
      static_cast<unsigned long long>(open_failed));
  return 0;
}
