// sipload: a SIP load generator for sipsite's benchmarks (and Kamailio's,
// for comparison). One thread, one io_context, Boost.Asio.
//
// Scenarios:
//   register  authenticated REGISTER. Each UA (user x contact) answers the
//             401 once, then reuses its nonce with nc=2,3,... (a fresh
//             challenge, e.g. stale=true, is answered once more).
//   call      INVITE (answering 407 once per nonce) -> 100/180/200 -> ACK ->
//             BYE -> 200 through the server's Record-Route. The callee UAs
//             are ours too: registered once before the load, they answer
//             INVITE with 180 + 200 (SDP answer) and BYE with 200.
//             With --callee-port the callees register at another server
//             (--callee-host, --callee-domain: a second site) over their own
//             links, so calls cross from one server to the other (the
//             federation benchmark). --no-sdp leaves the bodies out
//             (signalling only).
//
// --mark-file PATH: operations started while PATH exists (the caller
// creates it when an event starts and removes it after) are reported apart
// (mark_*: count, failures, p99) from the others (unmarked_p99_ms), and the
// slowest operation of each second of the run is listed (where it stalled).
//
// Load: --rate N starts N operations per second (fewer if --max-outstanding
// or the number of idle UAs does not allow it: the shortfall is reported),
// --rate max keeps --max-outstanding operations in flight. Over UDP requests
// are retransmitted (T1 = 500 ms, doubling to 4 s) and callees retransmit
// their 200 until the ACK; an operation not done after --timeout seconds
// counts as failed.
//
// The last output line is machine-readable: "RESULT key=value ...".

#include "sip_text.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace sipload {
namespace {

struct Options {
  std::string scenario = "register";  // register | call
  std::string transport = "udp";      // udp | tcp
  std::string host = "127.0.0.1";
  std::uint16_t port = 5060;
  std::string domain = "bench.example";
  std::string user_pattern = "u{}";
  std::string password_pattern = "pw{}";
  std::uint32_t users = 1000;
  std::uint32_t first_user = 1;
  std::uint32_t contacts = 1;         // register: contacts per user (distinct bindings)
  double rate = 0;                    // 0: max
  std::uint32_t max_outstanding = 0;  // 0: default (max: 100, fixed rate: 10000)
  double duration = 10;
  std::uint64_t count = 0;  // stop starting after this many operations (0: no limit)
  double timeout = 5;
  std::uint32_t expires = 3600;
  std::uint32_t links = 4;        // UDP sockets / TCP connections
  std::uint32_t hold_ms = 0;      // call: time between ACK and BYE
  bool challenge_always = false;  // no nonce reuse: every operation starts unauthenticated
  bool quiet = false;
  bool no_sdp = false;  // call: INVITE and 200 without bodies
  // call: the callees' server, when not the callers' (0: the same one).
  std::string callee_host;
  std::uint16_t callee_port = 0;
  std::string callee_domain;  // empty: --domain
  std::string mark_file;      // operations started while it exists are reported apart
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "sipload: %s\n"
               "usage: sipload --scenario register|call --transport udp|tcp --host H --port P\n"
               "  [--rate N|max] [--max-outstanding N] [--duration S] [--count N] [--users N]\n"
               "  [--first-user N] [--contacts N] [--domain D] [--user u{}] [--password pw{}]\n"
               "  [--timeout S] [--expires S] [--links N] [--hold-ms MS] [--challenge-always] [--quiet]\n"
               "  [--no-sdp] [--callee-host H] [--callee-port P] [--callee-domain D] [--mark-file PATH]\n",
               why);
  std::exit(2);
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage("missing value");
      return argv[++i];
    };
    if (a == "--scenario")
      o.scenario = value();
    else if (a == "--transport")
      o.transport = value();
    else if (a == "--host")
      o.host = value();
    else if (a == "--port")
      o.port = static_cast<std::uint16_t>(std::stoul(value()));
    else if (a == "--domain")
      o.domain = value();
    else if (a == "--user")
      o.user_pattern = value();
    else if (a == "--password")
      o.password_pattern = value();
    else if (a == "--users")
      o.users = static_cast<std::uint32_t>(std::stoul(value()));
    else if (a == "--first-user")
      o.first_user = static_cast<std::uint32_t>(std::stoul(value()));
    else if (a == "--contacts")
      o.contacts = static_cast<std::uint32_t>(std::stoul(value()));
    else if (a == "--rate") {
      const auto v = value();
      o.rate = v == "max" ? 0 : std::stod(v);
    } else if (a == "--max-outstanding")
      o.max_outstanding = static_cast<std::uint32_t>(std::stoul(value()));
    else if (a == "--duration")
      o.duration = std::stod(value());
    else if (a == "--count")
      o.count = std::stoull(value());
    else if (a == "--timeout")
      o.timeout = std::stod(value());
    else if (a == "--expires")
      o.expires = static_cast<std::uint32_t>(std::stoul(value()));
    else if (a == "--links")
      o.links = static_cast<std::uint32_t>(std::stoul(value()));
    else if (a == "--hold-ms")
      o.hold_ms = static_cast<std::uint32_t>(std::stoul(value()));
    else if (a == "--challenge-always")
      o.challenge_always = true;
    else if (a == "--quiet")
      o.quiet = true;
    else if (a == "--no-sdp")
      o.no_sdp = true;
    else if (a == "--callee-host")
      o.callee_host = value();
    else if (a == "--callee-port")
      o.callee_port = static_cast<std::uint16_t>(std::stoul(value()));
    else if (a == "--callee-domain")
      o.callee_domain = value();
    else if (a == "--mark-file")
      o.mark_file = value();
    else
      usage("unknown option");
  }
  if (o.scenario != "register" && o.scenario != "call") usage("--scenario must be register or call");
  if (o.transport != "udp" && o.transport != "tcp") usage("--transport must be udp or tcp");
  if (o.users == 0 || o.contacts == 0 || o.links == 0) usage("--users, --contacts and --links must be positive");
  if (o.scenario == "call" && o.users < 2) usage("call needs --users >= 2 (half callers, half callees)");
  if (o.callee_host.empty()) o.callee_host = o.host;
  if (o.callee_domain.empty()) o.callee_domain = o.domain;
  if ((o.callee_port != 0 || o.callee_domain != o.domain) && o.scenario != "call") {
    usage("--callee-port and --callee-domain are for --scenario call");
  }
  if (o.max_outstanding == 0) o.max_outstanding = o.rate > 0 ? 10000 : 100;
  return o;
}

std::string expand(const std::string& pattern, std::uint32_t n) {
  std::string out = pattern;
  const auto pos = out.find("{}");
  if (pos != std::string::npos) out.replace(pos, 2, std::to_string(n));
  return out;
}

enum class Phase : std::uint8_t { idle, reg, invite, hold, bye };

// One user agent: a caller or a registering phone. At most one operation at
// a time, so its nonce counts and CSeqs stay in order.
struct Ua {
  std::string user, password, contact_user, domain;
  std::uint32_t link = 0;
  std::string tag, cnonce, reg_call_id;
  std::string realm, ha1, nonce, opaque;
  std::uint32_t nc = 0;
  std::uint32_t cseq = 0;
  // The operation in flight.
  Phase phase = Phase::idle;
  bool prepare = false;   // a callee's registration before the load, not counted
  bool clearing = false;  // that registration's first step: Contact: *, Expires: 0
  bool auth_retried = false;
  bool marked = false;  // started while --mark-file existed
  std::uint32_t gen = 0;
  std::size_t busy_pos = 0;
  Clock::time_point start, deadline, next_send;
  Clock::duration interval{};
  std::string call_id, branch, last, ack, route, target, to;
  std::uint32_t callee = 0;
};

// A callee's view of one incoming call.
struct CalleeDialog {
  std::string ringing, ok;
  std::uint32_t link = 0;
  bool acked = false;
  Clock::time_point next_send, expire;
  Clock::duration interval{};
};

struct Stats {
  std::uint64_t attempted = 0, succeeded = 0, failed = 0, timeouts = 0, not_started = 0;
  std::uint64_t retransmissions = 0, send_errors = 0, unparsable = 0;
  std::map<int, std::uint64_t> failure_codes;
  std::map<int, std::string> failure_reasons;  // the first status line seen per code
  std::vector<std::uint32_t> latency_us;
  std::vector<std::uint32_t> marked_latency_us, unmarked_latency_us;  // with --mark-file
  std::vector<std::uint32_t> slowest_us_by_second;                    // with --mark-file; by start
  std::uint64_t marked_failed = 0;
};

constexpr std::string_view kSdpOffer =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";
constexpr std::string_view kSdpAnswer =
    "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 40002 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";

class Generator {
 public:
  Generator(asio::io_context& io, Options options)
      : io_(io), o_(std::move(options)), udp_(o_.transport == "udp"), ticker_(io), sweeper_(io) {}

  bool open() {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(o_.host, ec);
    if (ec) {
      std::fprintf(stderr, "sipload: bad --host %s\n", o_.host.c_str());
      return false;
    }
    const auto callee_address = asio::ip::make_address(o_.callee_host, ec);
    if (ec) {
      std::fprintf(stderr, "sipload: bad --callee-host %s\n", o_.callee_host.c_str());
      return false;
    }
    // Links [0, links) reach --host:--port; with --callee-port, links
    // [links, 2 * links) reach the callees' server.
    const std::uint32_t total_links = o_.callee_port ? 2 * o_.links : o_.links;
    for (std::uint32_t i = 0; i < total_links; ++i) {
      const bool to_callee_server = i >= o_.links;
      const auto server = to_callee_server ? callee_address : address;
      const std::uint16_t port = to_callee_server ? o_.callee_port : o_.port;
      if (udp_) {
        auto l = std::make_unique<UdpLink>(io_);
        l->remote = asio::ip::udp::endpoint(server, port);
        l->socket.open(l->remote.protocol());
        l->socket.bind(asio::ip::udp::endpoint(address, 0));
        l->socket.set_option(asio::socket_base::receive_buffer_size(8 << 20), ec);
        l->socket.set_option(asio::socket_base::send_buffer_size(8 << 20), ec);
        l->socket.non_blocking(true);
        l->host = l->socket.local_endpoint().address().to_string();
        l->port = l->socket.local_endpoint().port();
        udp_links_.push_back(std::move(l));
      } else {
        auto l = std::make_unique<TcpLink>(io_);
        l->socket.connect(asio::ip::tcp::endpoint(server, port), ec);
        if (ec) {
          std::fprintf(stderr, "sipload: cannot connect to %s:%u: %s\n", server.to_string().c_str(), port,
                       ec.message().c_str());
          return false;
        }
        l->socket.set_option(asio::ip::tcp::no_delay(true), ec);
        l->host = l->socket.local_endpoint().address().to_string();
        l->port = l->socket.local_endpoint().port();
        l->in.resize(1 << 20);
        tcp_links_.push_back(std::move(l));
      }
    }
    for (std::uint32_t i = 0; i < total_links; ++i) {
      if (udp_)
        receive_udp(i);
      else
        receive_tcp(i);
    }
    make_uas();
    return true;
  }

  // Registers the callees (call scenario), then runs the load.
  void run() {
    sweep();
    if (o_.scenario == "call") {
      preparing_ = true;
      prepare_next_ = 0;
      for (std::uint32_t i = 0; i < std::min<std::uint32_t>(200, callees_); ++i) prepare_one();
      if (callees_ == 0) start_load();
    } else {
      start_load();
    }
    io_.run();
  }

  // The p-th quantile of `lat` (sorted here), in ms.
  static double quantile_ms(std::vector<std::uint32_t> lat, double p) {
    if (lat.empty()) return 0;
    std::sort(lat.begin(), lat.end());
    const auto idx = std::min(lat.size() - 1, static_cast<std::size_t>(p * static_cast<double>(lat.size())));
    return static_cast<double>(lat[idx]) / 1000.0;
  }

  int report() const {
    auto lat = stats_.latency_us;
    std::sort(lat.begin(), lat.end());
    const auto pct = [&](double p) { return quantile_ms(lat, p); };
    const double elapsed = std::chrono::duration<double>(load_end_ - load_start_).count();
    const double window = std::max(1e-9, std::chrono::duration<double>(window_end_ - load_start_).count());
    const double fail_pct =
        stats_.attempted ? 100.0 * static_cast<double>(stats_.failed) / static_cast<double>(stats_.attempted) : 0.0;
    // With --count the run ends when the last operation does.
    const double rate = o_.count ? static_cast<double>(stats_.succeeded) / std::max(1e-9, elapsed)
                                 : static_cast<double>(succeeded_in_window_) / window;
    std::printf("scenario %s over %s to %s:%u, %u users, %s\n", o_.scenario.c_str(), o_.transport.c_str(),
                o_.host.c_str(), o_.port, o_.users,
                o_.rate > 0 ? ("rate " + std::to_string(o_.rate) + "/s").c_str()
                            : ("max, " + std::to_string(o_.max_outstanding) + " outstanding").c_str());
    std::printf("  attempted %llu, succeeded %llu, failed %llu (%.3f%%; %llu timeouts), not started %llu\n",
                static_cast<unsigned long long>(stats_.attempted), static_cast<unsigned long long>(stats_.succeeded),
                static_cast<unsigned long long>(stats_.failed), fail_pct,
                static_cast<unsigned long long>(stats_.timeouts), static_cast<unsigned long long>(stats_.not_started));
    std::printf("  achieved %.1f ops/s over %.2f s (%.2f s with drain); retransmissions %llu, send errors %llu\n", rate,
                window, elapsed, static_cast<unsigned long long>(stats_.retransmissions),
                static_cast<unsigned long long>(stats_.send_errors));
    std::printf("  latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n", pct(0.5), pct(0.9), pct(0.99),
                lat.empty() ? 0.0 : static_cast<double>(lat.back()) / 1000.0);
    if (!stats_.failure_codes.empty()) {
      std::printf("  failures by final response (0 = timeout, 1 = connection lost):");
      for (const auto& [code, n] : stats_.failure_codes) {
        std::printf(" %d:%llu", code, static_cast<unsigned long long>(n));
      }
      std::printf("\n");
      for (const auto& [code, line] : stats_.failure_reasons) std::printf("    e.g. %s\n", line.c_str());
    }
    if (prepare_failed_) std::printf("  callee registration failed for %u callees\n", prepare_failed_);
    if (!o_.mark_file.empty()) {
      std::printf("  started while %s existed: %zu succeeded, %llu failed, p99 %.2f ms; the others: p99 %.2f ms\n",
                  o_.mark_file.c_str(), stats_.marked_latency_us.size(),
                  static_cast<unsigned long long>(stats_.marked_failed), quantile_ms(stats_.marked_latency_us, 0.99),
                  quantile_ms(stats_.unmarked_latency_us, 0.99));
      std::printf("  slowest of each second [ms]:");
      for (const auto us : stats_.slowest_us_by_second) std::printf(" %.1f", us / 1000.0);
      std::printf("\n");
    }
    std::printf(
        "RESULT scenario=%s transport=%s attempted=%llu succeeded=%llu failed=%llu fail_pct=%.3f rate=%.1f "
        "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f window_s=%.3f not_started=%llu prepare_failed=%u "
        "generator_cpu_s=%.2f mark_n=%zu mark_failed=%llu mark_p99_ms=%.3f unmarked_p99_ms=%.3f\n",
        o_.scenario.c_str(), o_.transport.c_str(), static_cast<unsigned long long>(stats_.attempted),
        static_cast<unsigned long long>(stats_.succeeded), static_cast<unsigned long long>(stats_.failed), fail_pct,
        rate, pct(0.5), pct(0.9), pct(0.99), lat.empty() ? 0.0 : static_cast<double>(lat.back()) / 1000.0, window,
        static_cast<unsigned long long>(stats_.not_started), prepare_failed_, own_cpu_seconds(),
        stats_.marked_latency_us.size(), static_cast<unsigned long long>(stats_.marked_failed),
        quantile_ms(stats_.marked_latency_us, 0.99), quantile_ms(stats_.unmarked_latency_us, 0.99));
    std::fflush(stdout);
    return prepare_failed_ ? 1 : 0;
  }

  static double own_cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  }

 private:
  struct UdpLink {
    explicit UdpLink(asio::io_context& io) : socket(io) {}
    asio::ip::udp::socket socket;
    asio::ip::udp::endpoint remote, sender;
    std::vector<char> buf = std::vector<char>(65536);
    std::string host;
    std::uint16_t port = 0;
  };
  struct TcpLink {
    explicit TcpLink(asio::io_context& io) : socket(io) {}
    asio::ip::tcp::socket socket;
    std::string in;
    std::size_t begin = 0, end = 0;
    std::string out, writing;
    bool write_active = false, dead = false;
    std::string host;
    std::uint16_t port = 0;
  };

  const std::string& link_host(std::uint32_t l) const { return udp_ ? udp_links_[l]->host : tcp_links_[l]->host; }
  std::uint16_t link_port(std::uint32_t l) const { return udp_ ? udp_links_[l]->port : tcp_links_[l]->port; }

  // --- UAs ---------------------------------------------------------------

  void make_uas() {
    std::mt19937_64 rng(std::random_device{}());
    const auto hex = [&](int n) {
      static constexpr char kHex[] = "0123456789abcdef";
      std::string s;
      for (int i = 0; i < n; ++i) s += kHex[rng() & 0xF];
      return s;
    };
    run_id_ = hex(6);
    std::uint32_t count = o_.users * o_.contacts;
    if (o_.scenario == "call") {
      callers_ = o_.users / 2;
      callees_ = o_.users - callers_;
      count = o_.users;
    }
    uas_.resize(count);
    for (std::uint32_t i = 0; i < count; ++i) {
      Ua& ua = uas_[i];
      const std::uint32_t user = o_.scenario == "call" ? i : i % o_.users;
      const std::uint32_t k = o_.scenario == "call" ? 0 : i / o_.users;
      ua.user = expand(o_.user_pattern, o_.first_user + user);
      ua.password = expand(o_.password_pattern, o_.first_user + user);
      ua.contact_user = k == 0 ? ua.user : ua.user + "-" + std::to_string(k);
      const bool callee = o_.scenario == "call" && i >= callers_;
      ua.link = i % o_.links + (callee && o_.callee_port ? o_.links : 0);
      ua.domain = callee ? o_.callee_domain : o_.domain;
      ua.tag = hex(8);
      ua.cnonce = hex(16);
      ua.reg_call_id = std::string(1, 'r').append(std::to_string(i)).append(".").append(run_id_);
      if (o_.scenario == "register" || i < callers_) idle_.push_back(i);
      if (o_.scenario == "call" && i >= callers_) callee_by_user_[ua.user] = i;
    }
  }

  void mark_busy(std::uint32_t i) {
    uas_[i].busy_pos = busy_.size();
    busy_.push_back(i);
  }
  void mark_idle(std::uint32_t i) {
    Ua& ua = uas_[i];
    const std::uint32_t moved = busy_.back();
    busy_[ua.busy_pos] = moved;
    uas_[moved].busy_pos = ua.busy_pos;
    busy_.pop_back();
    ua.phase = Phase::idle;
    ua.last.clear();
    if (!ua.prepare) idle_.push_back(i);
  }

  void set_nonce(Ua& ua, std::string_view challenge) {
    const auto realm = digest_param(challenge, "realm");
    if (realm != ua.realm || ua.ha1.empty()) {
      ua.realm = std::string(realm);
      ua.ha1 = md5_hex(ua.user + ":" + ua.realm + ":" + ua.password);
    }
    ua.nonce = std::string(digest_param(challenge, "nonce"));
    ua.opaque = std::string(digest_param(challenge, "opaque"));
    ua.nc = 0;
  }

  std::string credentials(Ua& ua, std::string_view method, std::string_view uri) {
    ++ua.nc;
    return digest_authorization(
        DigestAnswer{ua.user, ua.realm, ua.nonce, ua.opaque, uri, method, ua.ha1, ua.cnonce, ua.nc});
  }

  void begin(std::uint32_t i, Phase phase) {
    Ua& ua = uas_[i];
    ua.phase = phase;
    ua.auth_retried = false;
    ++ua.gen;
    ua.start = Clock::now();
    ua.marked = marked(ua.start);
    ua.deadline = ua.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.timeout));
    mark_busy(i);
  }

  // Whether --mark-file exists, looked at most every 10 ms.
  bool marked(Clock::time_point now) {
    if (o_.mark_file.empty()) return false;
    if (now - mark_checked_ >= 10ms) {
      mark_checked_ = now;
      struct stat st {};
      mark_present_ = ::stat(o_.mark_file.c_str(), &st) == 0;
    }
    return mark_present_;
  }

  // Sends ua.last and arms the retransmission timer (UDP).
  void send_request(std::uint32_t i) {
    Ua& ua = uas_[i];
    send(ua.link, ua.last);
    ua.interval = 500ms;
    ua.next_send = udp_ ? Clock::now() + ua.interval : Clock::time_point::max();
  }

  void append_via(std::string& m, const Ua& ua, std::uint32_t i) {
    ua_branch_.assign("z9hG4bK")
        .append(run_id_)
        .append(".")
        .append(std::to_string(i))
        .append(".")
        .append(std::to_string(++branch_counter_));
    m.append("Via: SIP/2.0/").append(udp_ ? "UDP " : "TCP ").append(link_host(ua.link)).append(":");
    append_uint(m, link_port(ua.link));
    m.append(";branch=").append(ua_branch_).append(";rport\r\n");
  }

  void append_contact(std::string& m, std::string_view user, std::uint32_t link) {
    m.append("Contact: <sip:").append(user).append("@").append(link_host(link)).append(":");
    append_uint(m, link_port(link));
    m.append(";transport=").append(o_.transport).append(">\r\n");
  }

  void build_register(std::uint32_t i, bool with_auth, bool clear = false) {
    Ua& ua = uas_[i];
    const std::string uri = "sip:" + ua.domain;
    std::string& m = ua.last;
    m.clear();
    m.append("REGISTER ").append(uri).append(" SIP/2.0\r\n");
    append_via(m, ua, i);
    m.append("Max-Forwards: 70\r\nFrom: <sip:").append(ua.user).append("@").append(ua.domain);
    m.append(">;tag=").append(ua.tag).append("\r\nTo: <sip:").append(ua.user).append("@").append(ua.domain);
    m.append(">\r\nCall-ID: ").append(ua.reg_call_id).append("\r\nCSeq: ");
    append_uint(m, ++ua.cseq);
    m.append(" REGISTER\r\n");
    if (clear) {
      m.append("Contact: *\r\nExpires: 0\r\n");
    } else {
      append_contact(m, ua.contact_user, ua.link);
      m.append("Expires: ");
      append_uint(m, o_.expires);
      m.append("\r\n");
    }
    if (with_auth) m.append("Authorization: ").append(credentials(ua, "REGISTER", uri)).append("\r\n");
    m.append("Content-Length: 0\r\n\r\n");
  }

  void build_invite(std::uint32_t i, bool with_auth) {
    Ua& ua = uas_[i];
    const Ua& callee = uas_[ua.callee];
    const std::string uri = "sip:" + callee.user + "@" + callee.domain;
    std::string& m = ua.last;
    m.clear();
    m.append("INVITE ").append(uri).append(" SIP/2.0\r\n");
    append_via(m, ua, i);
    ua.branch = ua_branch_;
    m.append("Max-Forwards: 70\r\nFrom: <sip:").append(ua.user).append("@").append(ua.domain);
    m.append(">;tag=").append(ua.tag).append(".");
    append_uint(m, ua.gen);
    m.append("\r\nTo: <").append(uri).append(">\r\nCall-ID: ").append(ua.call_id).append("\r\nCSeq: ");
    append_uint(m, ++ua.cseq);
    m.append(" INVITE\r\n");
    append_contact(m, ua.user, ua.link);
    if (with_auth) m.append("Proxy-Authorization: ").append(credentials(ua, "INVITE", uri)).append("\r\n");
    if (o_.no_sdp) {
      m.append("Content-Length: 0\r\n\r\n");
      return;
    }
    m.append("Content-Type: application/sdp\r\nContent-Length: ");
    append_uint(m, kSdpOffer.size());
    m.append("\r\n\r\n").append(kSdpOffer);
  }

  // ACK for a non-2xx final response: same branch and Request-URI (§17.1.1.3).
  void send_hop_ack(std::uint32_t i, const SipMessage& r) {
    Ua& ua = uas_[i];
    const Ua& callee = uas_[ua.callee];
    std::string m;
    m.reserve(400);
    m.append("ACK sip:").append(callee.user).append("@").append(callee.domain).append(" SIP/2.0\r\n");
    m.append("Via: ").append(r.via.items[0]).append("\r\nMax-Forwards: 70\r\nFrom: ").append(r.from);
    m.append("\r\nTo: ").append(r.to).append("\r\nCall-ID: ").append(r.call_id).append("\r\nCSeq: ");
    append_uint(m, r.cseq);
    m.append(" ACK\r\nContent-Length: 0\r\n\r\n");
    send(ua.link, m);
  }

  // An in-dialog request (ACK or BYE for the 2xx) along the route set.
  std::string in_dialog(std::uint32_t i, std::string_view method, std::uint32_t cseq) {
    Ua& ua = uas_[i];
    std::string m;
    m.reserve(600);
    m.append(method).append(" ").append(ua.target).append(" SIP/2.0\r\n");
    append_via(m, ua, i);
    if (!ua.route.empty()) m.append("Route: ").append(ua.route).append("\r\n");
    m.append("Max-Forwards: 70\r\nFrom: <sip:").append(ua.user).append("@").append(ua.domain);
    m.append(">;tag=").append(ua.tag).append(".");
    append_uint(m, ua.gen);
    m.append("\r\nTo: ").append(ua.to).append("\r\nCall-ID: ").append(ua.call_id).append("\r\nCSeq: ");
    append_uint(m, cseq);
    m.append(" ").append(method).append("\r\nContent-Length: 0\r\n\r\n");
    return m;
  }

  // --- operations ----------------------------------------------------------

  bool start_one() {
    if (idle_.empty() || busy_.size() >= o_.max_outstanding) return false;
    if (o_.count && stats_.attempted >= o_.count) return false;
    const std::uint32_t i = idle_.front();
    idle_.pop_front();
    ++stats_.attempted;
    Ua& ua = uas_[i];
    const bool reuse = !ua.nonce.empty() && !o_.challenge_always;
    if (o_.scenario == "register") {
      begin(i, Phase::reg);
      build_register(i, reuse);
    } else {
      begin(i, Phase::invite);
      ua.callee = callers_ + (next_callee_++ % callees_);
      ua.call_id = std::string(1, 'k')
                       .append(std::to_string(i))
                       .append(".")
                       .append(std::to_string(ua.gen))
                       .append(".")
                       .append(run_id_);
      ua.route.clear();
      ua.ack.clear();
      build_invite(i, reuse);
    }
    send_request(i);
    return true;
  }

  void prepare_one() {
    if (prepare_next_ >= callees_) return;
    const std::uint32_t i = callers_ + prepare_next_++;
    uas_[i].prepare = true;
    uas_[i].clearing = true;  // bindings left by earlier runs would be forked to
    begin(i, Phase::reg);
    build_register(i, false, true);
    send_request(i);
  }

  void finish(std::uint32_t i, int failure_code) {
    Ua& ua = uas_[i];
    if (ua.prepare) {
      if (failure_code >= 0) {
        ++prepare_failed_;
        std::fprintf(stderr, "sipload: callee %s failed to register (%d)\n", ua.user.c_str(), failure_code);
      }
      mark_idle(i);
      if (++prepare_done_ == callees_) {
        preparing_ = false;
        start_load();
      } else {
        prepare_one();
      }
      return;
    }
    const auto now = Clock::now();
    if (failure_code < 0) {
      ++stats_.succeeded;
      if (now <= window_end_) ++succeeded_in_window_;
      const auto us =
          static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(now - ua.start).count());
      stats_.latency_us.push_back(us);
      if (!o_.mark_file.empty()) {
        (ua.marked ? stats_.marked_latency_us : stats_.unmarked_latency_us).push_back(us);
        const auto second =
            static_cast<std::size_t>(std::chrono::duration_cast<std::chrono::seconds>(ua.start - load_start_).count());
        auto& slowest = stats_.slowest_us_by_second;
        if (second < 3600) {
          if (slowest.size() <= second) slowest.resize(second + 1);
          slowest[second] = std::max(slowest[second], us);
        }
      }
    } else {
      ++stats_.failed;
      if (ua.marked) ++stats_.marked_failed;
      ++stats_.failure_codes[failure_code];
      if (failure_code == 0) ++stats_.timeouts;
      if (failure_code == 401 || failure_code == 407) ua.nonce.clear();
    }
    mark_idle(i);
    if (loading_ && o_.count && stats_.attempted >= o_.count) {
      end_load();
      return;
    }
    if (loading_ && o_.rate <= 0) {
      if (now < window_end_) start_one();
    }
    if (!loading_ && busy_.empty()) stop();
  }

  void start_load() {
    if (!o_.quiet && o_.scenario == "call") {
      std::fprintf(stderr, "sipload: %u callees registered (%u failed)\n", callees_ - prepare_failed_, prepare_failed_);
    }
    loading_ = true;
    load_start_ = Clock::now();
    window_end_ = load_start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.duration));
    if (o_.rate > 0) {
      started_by_ticker_ = 0;
      tick();
    } else {
      for (std::uint32_t k = 0; k < o_.max_outstanding; ++k) {
        if (!start_one()) break;
      }
    }
  }

  void end_load() {
    if (!loading_) return;
    loading_ = false;
    if (busy_.empty()) stop();
  }

  void stop() {
    load_end_ = Clock::now();
    ticker_.cancel();
    sweeper_.cancel();
    for (auto& l : tcp_links_) {
      boost::system::error_code ec;
      l->socket.close(ec);
    }
    for (auto& l : udp_links_) {
      boost::system::error_code ec;
      l->socket.close(ec);
    }
    io_.stop();
  }

  void tick() {
    const auto now = Clock::now();
    if (now >= window_end_ || (o_.count && stats_.attempted >= o_.count)) {
      end_load();
      return;
    }
    const double elapsed = std::chrono::duration<double>(now - load_start_).count();
    const auto due = static_cast<std::uint64_t>(elapsed * o_.rate);
    while (started_by_ticker_ < due) {
      ++started_by_ticker_;
      if (!start_one()) ++stats_.not_started;
    }
    ticker_.expires_after(1ms);
    ticker_.async_wait([this](boost::system::error_code ec) {
      if (!ec) tick();
    });
  }

  // Timeouts, retransmissions, held calls; every 20 ms.
  void sweep() {
    const auto now = Clock::now();
    for (std::size_t k = 0; k < busy_.size();) {
      const std::uint32_t i = busy_[k];
      Ua& ua = uas_[i];
      if (now >= ua.deadline) {
        finish(i, 0);  // moves another busy UA into slot k
        continue;
      }
      if (now >= ua.next_send) {
        if (ua.phase == Phase::hold) {
          ua.phase = Phase::bye;
          send_request(i);
        } else {
          ++stats_.retransmissions;
          send(ua.link, ua.last);
          ua.interval = std::min<Clock::duration>(ua.interval * 2, 4s);
          ua.next_send = now + ua.interval;
        }
      }
      ++k;
    }
    for (auto it = dialogs_.begin(); it != dialogs_.end();) {
      CalleeDialog& d = it->second;
      if (now >= d.expire) {
        it = dialogs_.erase(it);
        continue;
      }
      if (udp_ && !d.acked && now >= d.next_send) {
        ++stats_.retransmissions;
        send(d.link, d.ok);
        d.interval = std::min<Clock::duration>(d.interval * 2, 4s);
        d.next_send = now + d.interval;
      }
      ++it;
    }
    if (loading_ && o_.rate <= 0 && Clock::now() >= window_end_) end_load();
    if (!loading_ && !preparing_ && busy_.empty() && load_start_ != Clock::time_point{}) {
      stop();
      return;
    }
    sweeper_.expires_after(20ms);
    sweeper_.async_wait([this](boost::system::error_code ec) {
      if (!ec) sweep();
    });
  }

  // --- receiving -------------------------------------------------------------

  void on_message(std::string_view text, std::uint32_t link) {
    SipMessage m;
    if (!parse(text, m)) {
      ++stats_.unparsable;
      return;
    }
    if (m.response && m.status >= 300 && !stats_.failure_reasons.contains(m.status)) {
      stats_.failure_reasons[m.status] = std::string(text.substr(0, text.find("\r\n")));
    }
    if (m.response)
      on_response(m);
    else
      on_request(m, link);
  }

  // The UA index and generation a Call-ID of ours names ("r<i>.run",
  // "k<i>.<gen>.run"), or false.
  bool owner(std::string_view call_id, std::uint32_t& i, std::uint32_t& gen) const {
    if (call_id.size() < 2 || (call_id[0] != 'r' && call_id[0] != 'k')) return false;
    std::uint64_t v = 0;
    std::size_t p = 1;
    while (p < call_id.size() && call_id[p] >= '0' && call_id[p] <= '9')
      v = v * 10 + static_cast<std::uint64_t>(call_id[p++] - '0');
    if (v >= uas_.size()) return false;
    i = static_cast<std::uint32_t>(v);
    gen = 0;
    if (call_id[0] == 'k' && p < call_id.size() && call_id[p] == '.') {
      ++p;
      std::uint64_t g = 0;
      while (p < call_id.size() && call_id[p] >= '0' && call_id[p] <= '9')
        g = g * 10 + static_cast<std::uint64_t>(call_id[p++] - '0');
      gen = static_cast<std::uint32_t>(g);
    }
    return true;
  }

  void on_response(const SipMessage& r) {
    std::uint32_t i = 0, gen = 0;
    if (!owner(r.call_id, i, gen)) return;
    Ua& ua = uas_[i];
    if (ua.phase == Phase::idle) return;
    if (r.call_id[0] == 'r') {
      if (ua.phase != Phase::reg || r.cseq != ua.cseq || r.status < 200) return;
      if (r.status == 200 && ua.clearing) {
        ua.clearing = false;
        ua.auth_retried = false;
        build_register(i, true);
        return send_request(i);
      }
      if (r.status == 200) return finish(i, -1);
      if (r.status == 401 && !ua.auth_retried && !r.challenge.empty()) {
        ua.auth_retried = true;
        set_nonce(ua, r.challenge);
        build_register(i, true, ua.clearing);
        return send_request(i);
      }
      return finish(i, r.status);
    }
    if (gen != ua.gen) return;
    if (r.method == "INVITE") {
      if (r.cseq != ua.cseq && !(ua.phase != Phase::invite && r.status >= 200 && r.status < 300)) return;
      if (r.status < 200) {
        if (ua.phase == Phase::invite) ua.next_send = Clock::time_point::max();
        return;
      }
      if (r.status >= 300) {
        send_hop_ack(i, r);
        if (ua.phase != Phase::invite) return;
        if ((r.status == 407 || r.status == 401) && !ua.auth_retried && !r.challenge.empty()) {
          ua.auth_retried = true;
          set_nonce(ua, r.challenge);
          build_invite(i, true);
          return send_request(i);
        }
        return finish(i, r.status);
      }
      // 2xx: the dialog. A retransmitted 200 gets the same ACK again.
      if (ua.phase != Phase::invite) {
        if (!ua.ack.empty()) send(ua.link, ua.ack);
        return;
      }
      ua.to = std::string(r.to);
      ua.target = std::string(uri_of(r.contact));
      ua.route.clear();
      std::vector<std::string_view> routes;
      for (std::size_t k = 0; k < r.record_route.size; ++k) {
        std::string_view v = r.record_route.items[k];
        // Split "a, b" at commas outside <>.
        std::size_t from = 0;
        int depth = 0;
        for (std::size_t p = 0; p <= v.size(); ++p) {
          if (p == v.size() || (v[p] == ',' && depth == 0)) {
            auto part = v.substr(from, p - from);
            while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
            if (!part.empty()) routes.push_back(part);
            from = p + 1;
          } else if (v[p] == '<') {
            ++depth;
          } else if (v[p] == '>') {
            --depth;
          }
        }
      }
      for (auto it = routes.rbegin(); it != routes.rend(); ++it) {
        if (!ua.route.empty()) ua.route.append(", ");
        ua.route.append(*it);
      }
      if (ua.target.empty()) return finish(i, 299);  // no Contact in the 200
      ua.ack = in_dialog(i, "ACK", ua.cseq);
      send(ua.link, ua.ack);
      ua.last = in_dialog(i, "BYE", ++ua.cseq);
      if (o_.hold_ms > 0) {
        ua.phase = Phase::hold;
        ua.next_send = Clock::now() + std::chrono::milliseconds(o_.hold_ms);
      } else {
        ua.phase = Phase::bye;
        send_request(i);
      }
      return;
    }
    if (r.method == "BYE" && ua.phase == Phase::bye && r.cseq == ua.cseq && r.status >= 200) {
      return finish(i, r.status < 300 ? -1 : r.status);
    }
  }

  // Copies the headers a response must echo (§8.2.6.2).
  void response_head(std::string& m, int status, std::string_view reason, const SipMessage& q,
                     std::string_view to_tag) {
    m.append("SIP/2.0 ");
    append_uint(m, static_cast<std::uint64_t>(status));
    m.append(" ").append(reason).append("\r\n");
    for (std::size_t k = 0; k < q.via.size; ++k) m.append("Via: ").append(q.via.items[k]).append("\r\n");
    m.append("From: ").append(q.from).append("\r\nTo: ").append(q.to);
    if (!to_tag.empty() && tag_of(q.to).empty()) m.append(";tag=").append(to_tag);
    m.append("\r\nCall-ID: ").append(q.call_id).append("\r\nCSeq: ");
    append_uint(m, q.cseq);
    m.append(" ").append(q.method).append("\r\n");
  }

  void on_request(const SipMessage& q, std::uint32_t link) {
    if (q.method == "ACK") {
      if (auto it = dialogs_.find(std::string(q.call_id)); it != dialogs_.end()) it->second.acked = true;
      return;
    }
    if (q.method == "INVITE") {
      const std::string call_id(q.call_id);
      if (auto it = dialogs_.find(call_id); it != dialogs_.end()) {
        send(link, it->second.ringing);
        send(link, it->second.ok);
        return;
      }
      const std::string_view user = user_of(uri_of(q.request_uri.empty() ? q.to : q.request_uri));
      const std::string tag = std::string("cl").append(std::to_string(++tag_counter_));
      CalleeDialog d;
      d.link = link;
      response_head(d.ringing, 180, "Ringing", q, tag);
      d.ringing.append("Content-Length: 0\r\n\r\n");
      response_head(d.ok, 200, "OK", q, tag);
      for (std::size_t k = 0; k < q.record_route.size; ++k) {
        d.ok.append("Record-Route: ").append(q.record_route.items[k]).append("\r\n");
      }
      append_contact(d.ok, user, link);
      if (o_.no_sdp) {
        d.ok.append("Content-Length: 0\r\n\r\n");
      } else {
        d.ok.append("Content-Type: application/sdp\r\nContent-Length: ");
        append_uint(d.ok, kSdpAnswer.size());
        d.ok.append("\r\n\r\n").append(kSdpAnswer);
      }
      send(link, d.ringing);
      send(link, d.ok);
      const auto now = Clock::now();
      d.interval = 500ms;
      d.next_send = now + d.interval;
      d.expire = now + 32s;
      dialogs_.emplace(call_id, std::move(d));
      return;
    }
    // BYE, CANCEL, OPTIONS, anything else: 200.
    std::string m;
    m.reserve(400);
    response_head(m, 200, "OK", q, "cl0");
    m.append("Content-Length: 0\r\n\r\n");
    send(link, m);
    if (q.method == "BYE") dialogs_.erase(std::string(q.call_id));
  }

  // --- transports --------------------------------------------------------------

  void send(std::uint32_t link, std::string_view data) {
    if (udp_) {
      UdpLink& l = *udp_links_[link];
      boost::system::error_code ec;
      l.socket.send_to(asio::buffer(data.data(), data.size()), l.remote, 0, ec);
      if (ec) ++stats_.send_errors;
      return;
    }
    TcpLink& l = *tcp_links_[link];
    if (l.dead) {
      ++stats_.send_errors;
      return;
    }
    l.out.append(data);
    if (!l.write_active) write_tcp(link);
  }

  void write_tcp(std::uint32_t link) {
    TcpLink& l = *tcp_links_[link];
    l.write_active = true;
    l.writing.swap(l.out);
    l.out.clear();
    asio::async_write(l.socket, asio::buffer(l.writing), [this, link](boost::system::error_code ec, std::size_t) {
      TcpLink& t = *tcp_links_[link];
      t.write_active = false;
      t.writing.clear();
      if (ec) {
        lose(link, ec);
        return;
      }
      if (!t.out.empty()) write_tcp(link);
    });
  }

  void lose(std::uint32_t link, boost::system::error_code ec) {
    TcpLink& l = *tcp_links_[link];
    if (l.dead) return;
    l.dead = true;
    if (ec != asio::error::operation_aborted) {
      std::fprintf(stderr, "sipload: connection %u closed: %s\n", link, ec.message().c_str());
    }
  }

  void receive_udp(std::uint32_t link) {
    UdpLink& l = *udp_links_[link];
    l.socket.async_receive_from(asio::buffer(l.buf), l.sender,
                                [this, link](boost::system::error_code ec, std::size_t n) {
                                  if (ec == asio::error::operation_aborted) return;
                                  UdpLink& u = *udp_links_[link];
                                  if (!ec) on_message(std::string_view(u.buf.data(), n), link);
                                  // Drain what is already queued before waiting again.
                                  for (int k = 0; k < 64 && u.socket.is_open(); ++k) {
                                    boost::system::error_code e2;
                                    const std::size_t m = u.socket.receive_from(asio::buffer(u.buf), u.sender, 0, e2);
                                    if (e2) break;
                                    on_message(std::string_view(u.buf.data(), m), link);
                                  }
                                  if (u.socket.is_open()) receive_udp(link);
                                });
  }

  void receive_tcp(std::uint32_t link) {
    TcpLink& l = *tcp_links_[link];
    if (l.begin > 0 && (l.begin == l.end || l.end > l.in.size() / 2)) {
      std::copy(l.in.begin() + static_cast<std::ptrdiff_t>(l.begin), l.in.begin() + static_cast<std::ptrdiff_t>(l.end),
                l.in.begin());
      l.end -= l.begin;
      l.begin = 0;
    }
    if (l.end == l.in.size()) l.in.resize(l.in.size() * 2);
    l.socket.async_read_some(asio::buffer(l.in.data() + l.end, l.in.size() - l.end),
                             [this, link](boost::system::error_code ec, std::size_t n) {
                               TcpLink& t = *tcp_links_[link];
                               if (ec) {
                                 lose(link, ec);
                                 return;
                               }
                               t.end += n;
                               for (;;) {
                                 std::size_t skip = 0;
                                 const std::string_view avail(t.in.data() + t.begin, t.end - t.begin);
                                 const std::size_t len = frame_length(avail, skip);
                                 t.begin += skip;
                                 if (len == 0) break;
                                 on_message(std::string_view(t.in.data() + t.begin, len), link);
                                 t.begin += len;
                               }
                               receive_tcp(link);
                             });
  }

  asio::io_context& io_;
  Options o_;
  bool udp_;
  std::vector<std::unique_ptr<UdpLink>> udp_links_;
  std::vector<std::unique_ptr<TcpLink>> tcp_links_;
  std::vector<Ua> uas_;
  std::deque<std::uint32_t> idle_;
  std::vector<std::uint32_t> busy_;
  std::unordered_map<std::string, std::uint32_t> callee_by_user_;
  std::unordered_map<std::string, CalleeDialog> dialogs_;
  std::uint32_t callers_ = 0, callees_ = 0, next_callee_ = 0;
  std::uint32_t prepare_next_ = 0, prepare_done_ = 0, prepare_failed_ = 0;
  bool preparing_ = false, loading_ = false;
  std::string run_id_, ua_branch_;
  std::uint64_t branch_counter_ = 0, tag_counter_ = 0, started_by_ticker_ = 0, succeeded_in_window_ = 0;
  Clock::time_point load_start_{}, window_end_{}, load_end_{};
  Clock::time_point mark_checked_{};
  bool mark_present_ = false;
  asio::steady_timer ticker_, sweeper_;
  Stats stats_;
};

}  // namespace
}  // namespace sipload

int main(int argc, char** argv) {
  auto options = sipload::parse_options(argc, argv);
  asio::io_context io(1);
  sipload::Generator generator(io, std::move(options));
  try {
    if (!generator.open()) return 2;
    generator.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sipload: %s\n", e.what());
    return 2;
  }
  return generator.report();
}
