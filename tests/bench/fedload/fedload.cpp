// fedload: the federation load harness (tests/bench/federation_scale.sh).
// One process, one thread, Boost.Asio. It plays N other sites at once:
//
//   fedload make --count N --out DIR [--domain-suffix fed.test]
//       N site identities (a P-256 key and a self-signed certificate each,
//       domain pNNNNN.SUFFIX). Writes DIR/identities.pem (certificate +
//       key, one identity after the other), DIR/bundle.pem (the
//       certificates only: what the site under test imports in bulk) and
//       DIR/peers.sql (the same peers as INSERTs into the peers table, for
//       a site whose code has no bulk import: the "before" figures).
//
//   fedload links --dir DIR --target HOST:PORT --site-domain D --links M
//                 [--first K] [--sip-links S] [--rate R] [--message-every X]
//                 [--duration SEC] [--keepalive SEC] [--settle SEC]
//                 [--event-at SEC --event-cmd CMD [--expect-closed I ...]]
//       M mutual-TLS links to the site, identities K..K+M-1 (each from its
//       own loopback source address: the site caps connections per IP),
//       CRLF keep-alives on every link, and R SIP requests a second spread
//       over the first S links (OPTIONS to the site; every X-th a MESSAGE to
//       sip:bench@D). At --event-at the command runs (sh -c, off the io
//       thread): the time from its start to the close of each link named by
//       --expect-closed is the revocation time; links closed that were not
//       expected count as collateral. Latency percentiles are reported for
//       the requests sent before the event and from the event's start to 2 s
//       after its end.
//
//   fedload handshakes --dir DIR --target HOST:PORT --index I --seconds T
//                      [--concurrency C] [--identities N] [--count K]
//                      [--sources S]
//       Full mutual-TLS handshakes with identity I (or identities I..I+N-1
//       in turn: a scan by N certificates), C at a time, for T seconds or
//       K handshakes, whichever ends first (connect, handshake, close),
//       from S loopback source addresses in turn (default C): handshakes
//       per second.
//
//   fedload listen --dir DIR --links M [--first K] [--port P]
//                  [--connect-timeout SEC] [--settle SEC] [--outage SEC]
//                  [--reconnect-timeout SEC]
//       The other direction: M sites that the site under test dials
//       (identities K..K+M-1, each listening on its own loopback address
//       127.3.x.y:P, as listen_address() numbers them), answering its
//       CRLF keep-alives. Prints "listening" once every listener is bound;
//       then records when each site was first dialled and connected, until
//       all M are connected (or --connect-timeout). After --settle s it
//       plays an outage of all M sites at once for --outage s (links
//       closed; every dial accepted and closed at once, counted), then
//       accepts again and records when each site is connected again (or
//       --reconnect-timeout). Times are wall-clock milliseconds since the
//       epoch (the caller subtracts the site's start), and the densest
//       100 ms of dials shows whether they came as a herd.
//
// The last output line is machine-readable: "RESULT key=value ...".
// Deliberately not sipsite's SIP parser (sipload's small reader): the
// harness must not share the server's bugs. Certificates come from
// sipsite_pki, which only wraps OpenSSL.

#include "../sipload/sip_text.hpp"

#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/pinning.hpp>
#include <sipsite/pki/private_key.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "fedload: " << why << " (see the comment at the top of tests/bench/fedload/fedload.cpp)\n";
  std::exit(2);
}

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// ---- identities -------------------------------------------------------------

struct Identity {
  std::string domain;
  sipsite::pki::Certificate cert;
  sipsite::pki::PrivateKey key;
};

std::string domain_of(std::size_t i, const std::string& suffix) {
  char name[32];
  std::snprintf(name, sizeof name, "p%05zu", i);
  return std::string(name) + "." + suffix;
}

// SQL text literal (PEM has no quotes, but be exact).
std::string sql_text(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

int cmd_make(std::size_t count, const std::string& out_dir, const std::string& suffix) {
  std::ofstream identities(out_dir + "/identities.pem");
  std::ofstream bundle(out_dir + "/bundle.pem");
  std::ofstream sql(out_dir + "/peers.sql");
  if (!identities || !bundle || !sql) usage("cannot write in " + out_dir);
  const auto now = std::time(nullptr);
  sql << "BEGIN;\n";
  for (std::size_t i = 0; i < count; ++i) {
    auto key = sipsite::pki::PrivateKey::generate_p256();
    if (!key) usage("cannot make a key");
    const std::string domain = domain_of(i, suffix);
    auto cert =
        sipsite::pki::Certificate::self_signed(*key, sipsite::pki::CertificateOptions::valid_for_days(domain, 30));
    if (!cert) usage("cannot make a certificate");
    const std::string pem = cert->to_pem();
    identities << pem << key->to_pem();
    bundle << pem;
    sql << "INSERT INTO peers (domain, fingerprint, certificate_pem, address, state, created_at, updated_at) VALUES ("
        << sql_text(domain) << ", " << sql_text(cert->fingerprint().to_string()) << ", " << sql_text(pem)
        << ", '', 'trusted', " << now << ", " << now << ");\n";
  }
  sql << "COMMIT;\n";
  std::cout << "RESULT identities=" << count << " dir=" << out_dir << std::endl;
  return 0;
}

// Reads DIR/identities.pem: certificate then key, repeated.
std::vector<Identity> load_identities(const std::string& dir, std::size_t first, std::size_t count) {
  std::ifstream in(dir + "/identities.pem");
  if (!in) usage("cannot read " + dir + "/identities.pem (run fedload make first)");
  std::vector<Identity> out;
  std::string line, block, cert_pem;
  std::size_t index = 0;
  while (std::getline(in, line) && out.size() < count) {
    block += line + "\n";
    if (line.rfind("-----END CERTIFICATE-----", 0) == 0) {
      cert_pem = std::move(block);
      block.clear();
    } else if (line.rfind("-----END PRIVATE KEY-----", 0) == 0) {
      if (index++ >= first) {
        auto cert = sipsite::pki::Certificate::from_pem(cert_pem);
        auto key = sipsite::pki::PrivateKey::from_pem(block);
        if (!cert || !key) usage("bad identity in " + dir);
        std::string domain = cert->domain();
        out.push_back({std::move(domain), std::move(*cert), std::move(*key)});
      }
      block.clear();
    }
  }
  if (out.size() < count)
    usage("only " + std::to_string(out.size()) + " identities from index " + std::to_string(first) + " in " + dir);
  return out;
}

// A client context presenting `id` that accepts whatever the site presents
// (the harness measures the site, it does not defend itself).
sipsite::pki::SslCtxPtr client_context(const Identity& id) {
  auto ctx = sipsite::pki::make_probe_client_context(id.cert, id.key);
  if (!ctx) usage("cannot make a TLS context");
  return std::move(*ctx);
}

tcp::endpoint parse_target(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) usage("--target must be HOST:PORT");
  return {asio::ip::make_address(text.substr(0, colon)), static_cast<std::uint16_t>(std::stoi(text.substr(colon + 1)))};
}

// A distinct loopback source address per link (127.2.x.y): the site caps
// connections per source IP, as it should.
asio::ip::address source_address(std::size_t i) {
  return asio::ip::make_address_v4(
      static_cast<std::uint32_t>((127u << 24) | (2u << 16) | ((i / 250) << 8) | (i % 250 + 1)));
}

// ---- links ------------------------------------------------------------------

struct Percentiles {
  std::size_t n = 0;
  double p50 = 0, p99 = 0, max = 0;
};

Percentiles percentiles(std::vector<double> v) {
  Percentiles p;
  p.n = v.size();
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  p.p50 = v[v.size() / 2];
  p.p99 = v[std::min(v.size() - 1, v.size() * 99 / 100)];
  p.max = v.back();
  return p;
}

struct Sample {
  Clock::time_point sent;
  double latency_ms;
};

class Link {
 public:
  // The stream takes ownership of an SSL made from the identity's context
  // (asio's own ssl::context would not present our certificate).
  Link(asio::io_context& io, sipsite::pki::SslCtxPtr ctx, std::size_t index, std::string domain)
      : ctx_(std::move(ctx)), stream_(io, SSL_new(ctx_.get())), index_(index), domain_(std::move(domain)) {}
  asio::ssl::stream<tcp::socket>& stream() { return stream_; }
  std::size_t index() const { return index_; }
  const std::string& domain() const { return domain_; }

  bool up = false;
  bool closed = false;
  bool closed_by_site = false;  // closed while the run was on (not by us at its end)
  Clock::time_point closed_at{};
  std::deque<std::string> queue;
  bool writing = false;
  std::string inbuf;
  std::uint64_t next_cseq = 1;

 private:
  sipsite::pki::SslCtxPtr ctx_;
  asio::ssl::stream<tcp::socket> stream_;
  std::size_t index_;
  std::string domain_;
};

struct LinksOptions {
  std::string dir, target, site_domain;
  std::size_t links = 10, first = 0, sip_links = 0;
  double rate = 0;
  std::size_t message_every = 0;
  double duration = 10, keepalive = 20, settle = 0;
  double event_at = -1;
  std::string event_cmd;
  std::set<std::size_t> expect_closed;  // identity indexes
};

class LinksRun {
 public:
  LinksRun(asio::io_context& io, LinksOptions o) : io_(io), o_(std::move(o)), target_(parse_target(o_.target)) {}

  int run() {
    auto ids = load_identities(o_.dir, o_.first, o_.links);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      links_.push_back(std::make_unique<Link>(io_, client_context(ids[i]), o_.first + i, ids[i].domain));
    }
    ids.clear();
    start_ = Clock::now();
    for (auto& l : links_) asio::co_spawn(io_, connect(*l), asio::detached);
    asio::co_spawn(io_, drive(), asio::detached);
    io_.run();
    if (event_thread_.joinable()) event_thread_.join();
    return report();
  }

 private:
  asio::awaitable<void> connect(Link& l) {
    boost::system::error_code ec;
    auto& sock = l.stream().next_layer();
    sock.open(target_.protocol(), ec);
    if (!ec) sock.bind(tcp::endpoint(source_address(l.index()), 0), ec);
    if (!ec) co_await sock.async_connect(target_, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec)
      co_await l.stream().async_handshake(asio::ssl::stream_base::client,
                                          asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      ++failed_;
      if (failed_ <= 3) std::cerr << "fedload: link " << l.index() << ": " << ec.message() << "\n";
      l.closed = true;
      co_return;
    }
    l.up = true;
    ++up_;
    if (up_ == links_.size()) all_up_ = Clock::now();
    co_await read_loop(l);
  }

  asio::awaitable<void> read_loop(Link& l) {
    char buf[8192];
    for (;;) {
      boost::system::error_code ec;
      const std::size_t n =
          co_await l.stream().async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      l.inbuf.append(buf, n);
      for (;;) {
        std::size_t skip = 0;
        const std::size_t len = sipload::frame_length(l.inbuf, skip);
        if (len == 0) {
          if (skip > 0) l.inbuf.erase(0, skip);
          break;
        }
        on_message(l, std::string_view(l.inbuf).substr(skip, len));
        l.inbuf.erase(0, skip + len);
      }
    }
    l.up = false;
    if (!l.closed) {
      l.closed = true;
      l.closed_at = Clock::now();
      if (!stopping_) {
        l.closed_by_site = true;
        ++closed_during_run_;
      }
    }
  }

  void on_message(Link& l, std::string_view text) {
    sipload::SipMessage m;
    if (!sipload::parse(text, m)) return;
    if (!m.response) {
      // The site asks something of us (it should not, on an accepted link):
      // answer so it does not retransmit.
      ++requests_from_site_;
      return;
    }
    if (m.status < 200) return;
    const auto it = outstanding_.find(std::string(m.call_id));
    if (it == outstanding_.end()) return;
    const auto now = Clock::now();
    samples_.push_back({it->second, ms_between(it->second, now)});
    if (m.status >= 300) ++answered_error_;
    statuses_[m.status]++;
    outstanding_.erase(it);
    (void)l;
  }

  void send(Link& l, std::string bytes) {
    l.queue.push_back(std::move(bytes));
    if (!l.writing) asio::co_spawn(io_, write_loop(l), asio::detached);
  }

  asio::awaitable<void> write_loop(Link& l) {
    l.writing = true;
    while (!l.queue.empty() && l.up) {
      std::string bytes = std::move(l.queue.front());
      l.queue.pop_front();
      boost::system::error_code ec;
      co_await asio::async_write(l.stream(), asio::buffer(bytes), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
    }
    l.queue.clear();
    l.writing = false;
  }

  std::string request(Link& l, bool message, std::string& call_id) {
    const std::uint64_t n = ++sequence_;
    call_id = "fl" + std::to_string(n) + "@" + l.domain();
    const std::string uri = message ? "sip:bench@" + o_.site_domain : "sip:" + o_.site_domain;
    const char* method = message ? "MESSAGE" : "OPTIONS";
    const std::string body = message ? "fedload" : "";
    std::string s;
    s.reserve(512);
    s += method;
    s += " " + uri + " SIP/2.0\r\nVia: SIP/2.0/TLS " + l.domain() + ";branch=z9hG4bKfl" + std::to_string(n) +
         "\r\nMax-Forwards: 70\r\nFrom: <sip:load@" + l.domain() + ">;tag=t" + std::to_string(n) + "\r\nTo: <" + uri +
         ">\r\nCall-ID: " + call_id + "\r\nCSeq: " + std::to_string(l.next_cseq++) + " " + method + "\r\n";
    if (message) s += "Content-Type: text/plain\r\n";
    s += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return s;
  }

  // Ticks every 5 ms: sends the requests due, keep-alives, and runs the
  // event; stops after the duration (and waits up to 3 s for answers).
  asio::awaitable<void> drive() {
    asio::steady_timer timer(io_);
    // Links up first (bounded), then the measured period.
    const auto connect_deadline = Clock::now() + 60s;
    while (up_ + failed_ < links_.size() && Clock::now() < connect_deadline) {
      timer.expires_after(10ms);
      co_await timer.async_wait(asio::use_awaitable);
    }
    if (o_.settle > 0) {
      timer.expires_after(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.settle)));
      co_await timer.async_wait(asio::use_awaitable);
    }
    std::cerr << "fedload: " << up_ << " link(s) up, " << failed_ << " failed\n";
    measure_start_ = Clock::now();
    const auto end =
        measure_start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.duration));
    const auto keepalive = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.keepalive));
    auto next_keepalive = measure_start_ + keepalive;
    double credit = 0;
    std::size_t rr = 0;
    const std::size_t sip_links = std::min(o_.sip_links, links_.size());
    auto last = measure_start_;
    bool event_started = false;
    while (Clock::now() < end) {
      timer.expires_after(5ms);
      co_await timer.async_wait(asio::use_awaitable);
      const auto now = Clock::now();
      if (!event_started && o_.event_at >= 0 &&
          now >= measure_start_ +
                     std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.event_at))) {
        event_started = true;
        start_event();
      }
      credit += o_.rate * std::chrono::duration<double>(now - last).count();
      last = now;
      for (std::size_t tries = 0; credit >= 1 && sip_links > 0 && tries < 4 * sip_links; ++tries) {
        Link& l = *links_[rr++ % sip_links];
        if (!l.up || o_.expect_closed.count(l.index()) != 0) continue;  // the revoked link carries no load
        credit -= 1;
        std::string call_id;
        const bool message = o_.message_every > 0 && (sequence_ + 1) % o_.message_every == 0;
        auto bytes = request(l, message, call_id);
        outstanding_.emplace(call_id, Clock::now());
        ++sent_;
        send(l, std::move(bytes));
      }
      if (credit > 1) credit = 1;  // no catch-up bursts after a stall: the stall shows as latency
      if (now >= next_keepalive) {
        next_keepalive = now + keepalive;
        for (auto& l : links_) {
          if (l->up) send(*l, "\r\n\r\n");
        }
      }
    }
    timer.expires_after(3s);
    co_await timer.async_wait(asio::use_awaitable);
    while (event_running_) {  // the event command must finish
      timer.expires_after(50ms);
      co_await timer.async_wait(asio::use_awaitable);
    }
    stopping_ = true;
    for (auto& l : links_) {
      boost::system::error_code ignored;
      l->stream().next_layer().close(ignored);
    }
  }

  void start_event() {
    event_start_ = Clock::now();
    event_running_ = true;
    std::cerr << "fedload: event: " << o_.event_cmd << "\n";
    event_thread_ = std::thread([this] {
      const int rc = std::system(o_.event_cmd.c_str());
      const auto done = Clock::now();
      asio::post(io_, [this, rc, done] {
        event_rc_ = rc;
        event_end_ = done;
        event_running_ = false;
      });
    });
  }

  int report() {
    std::vector<double> before, around, all;
    const auto window_end = event_end_ + 2s;
    for (const auto& s : samples_) {
      all.push_back(s.latency_ms);
      if (o_.event_at < 0) continue;
      if (s.sent < event_start_) {
        before.push_back(s.latency_ms);
      } else if (s.sent <= window_end) {
        around.push_back(s.latency_ms);
      }
    }
    const auto pa = percentiles(all), pb = percentiles(before), pw = percentiles(around);
    double revoke_ms = -1;
    std::size_t expected_closed = 0, collateral = 0;
    for (const auto& l : links_) {
      const bool expected = o_.expect_closed.count(l->index()) != 0;
      if (expected && l->closed && l->closed_at >= event_start_) {
        ++expected_closed;
        revoke_ms = std::max(revoke_ms, ms_between(event_start_, l->closed_at));
      } else if (!expected && l->closed_by_site) {
        ++collateral;
      }
    }
    std::printf("links up %zu/%zu in %.0f ms, failed %zu\n", up_, links_.size(),
                all_up_ == Clock::time_point{} ? -1.0 : ms_between(start_, all_up_), failed_);
    std::printf("requests sent %zu answered %zu (errors %zu) lost %zu\n", sent_, samples_.size(), answered_error_,
                outstanding_.size());
    for (const auto& [status, n] : statuses_) std::printf("  status %d: %zu\n", status, n);
    std::printf("latency all: p50 %.2f p99 %.2f max %.2f ms (n=%zu)\n", pa.p50, pa.p99, pa.max, pa.n);
    if (o_.event_at >= 0) {
      std::printf("latency before event: p50 %.2f p99 %.2f max %.2f ms (n=%zu)\n", pb.p50, pb.p99, pb.max, pb.n);
      std::printf("latency event..+2s: p50 %.2f p99 %.2f max %.2f ms (n=%zu)\n", pw.p50, pw.p99, pw.max, pw.n);
      std::printf("event: exit %d, ran %.0f ms; expected links closed %zu/%zu, last after %.0f ms; collateral %zu\n",
                  event_rc_, ms_between(event_start_, event_end_), expected_closed, o_.expect_closed.size(), revoke_ms,
                  collateral);
    }
    std::printf(
        "RESULT links_up=%zu links=%zu connect_ms=%.0f failed=%zu sent=%zu answered=%zu errors=%zu lost=%zu "
        "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f before_p99_ms=%.2f event_p99_ms=%.2f event_max_ms=%.2f "
        "event_rc=%d event_ms=%.0f revoke_closed=%zu revoke_ms=%.0f collateral=%zu closed_unexpected=%zu\n",
        up_, links_.size(), all_up_ == Clock::time_point{} ? -1.0 : ms_between(start_, all_up_), failed_, sent_,
        samples_.size(), answered_error_, outstanding_.size(), pa.p50, pa.p99, pa.max, pb.p99, pw.p99, pw.max,
        event_rc_, o_.event_at >= 0 ? ms_between(event_start_, event_end_) : 0.0, expected_closed, revoke_ms,
        collateral, closed_during_run_);
    std::fflush(stdout);
    return 0;
  }

  asio::io_context& io_;
  LinksOptions o_;
  tcp::endpoint target_;
  std::vector<std::unique_ptr<Link>> links_;
  std::size_t up_ = 0, failed_ = 0, closed_during_run_ = 0, requests_from_site_ = 0;
  std::size_t sent_ = 0, answered_error_ = 0;
  std::uint64_t sequence_ = 0;
  std::unordered_map<std::string, Clock::time_point> outstanding_;
  std::vector<Sample> samples_;
  std::map<int, std::size_t> statuses_;
  Clock::time_point start_, all_up_{}, measure_start_, event_start_{}, event_end_{};
  bool stopping_ = false, event_running_ = false;
  int event_rc_ = 0;
  std::thread event_thread_;
};

// ---- listen -----------------------------------------------------------------

// The address site i listens on (127.3.x.y): distinct from the links'
// source addresses, so both roles can run against one site.
asio::ip::address listen_address(std::size_t i) {
  return asio::ip::make_address_v4(
      static_cast<std::uint32_t>((127u << 24) | (3u << 16) | ((i / 250) << 8) | (i % 250 + 1)));
}

// A server context presenting `id` that accepts whatever client certificate
// the site presents (the harness measures the site's dialling, it does not
// defend itself), TLS 1.3 only, no tickets: as a real site's.
sipsite::pki::SslCtxPtr server_context(const Identity& id) {
  sipsite::pki::SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  SSL_CTX* c = ctx.get();
  if (c == nullptr || SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION) != 1 ||
      SSL_CTX_use_certificate(c, id.cert.native()) != 1 || SSL_CTX_use_PrivateKey(c, id.key.native()) != 1) {
    usage("cannot make a TLS server context");
  }
  SSL_CTX_set_num_tickets(c, 0);
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, [](int, X509_STORE_CTX*) { return 1; });
  SSL_CTX_set_session_id_context(c, reinterpret_cast<const unsigned char*>("fedload"), 7);
  return ctx;
}

std::int64_t epoch_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// The largest number of `times` inside any window of `width`.
std::size_t densest(std::vector<Clock::time_point> times, Clock::duration width) {
  std::sort(times.begin(), times.end());
  std::size_t best = 0;
  for (std::size_t lo = 0, hi = 0; hi < times.size(); ++hi) {
    while (times[hi] - times[lo] >= width) ++lo;
    best = std::max(best, hi - lo + 1);
  }
  return best;
}

struct ListenOptions {
  std::string dir;
  std::size_t links = 10, first = 0;
  std::uint16_t port = 5061;
  double connect_timeout = 60, settle = 5, outage = 20, reconnect_timeout = 120;
};

class ListenRun {
  enum class Phase { start, settled, outage, reconnect, done };
  struct Site {
    sipsite::pki::SslCtxPtr ctx;
    std::unique_ptr<tcp::acceptor> acceptor;
    std::vector<std::shared_ptr<asio::ssl::stream<tcp::socket>>> open;
    std::shared_ptr<asio::ssl::stream<tcp::socket>> connected;  // the link counted as up
    std::size_t outage_dials = 0;
  };

 public:
  ListenRun(asio::io_context& io, ListenOptions o) : io_(io), o_(std::move(o)) {}

  int run() {
    const auto ids = load_identities(o_.dir, o_.first, o_.links);
    sites_.resize(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
      Site& s = sites_[i];
      s.ctx = server_context(ids[i]);
      s.acceptor = std::make_unique<tcp::acceptor>(io_);
      const tcp::endpoint at(listen_address(o_.first + i), o_.port);
      boost::system::error_code ec;
      s.acceptor->open(at.protocol(), ec);
      if (!ec) s.acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec) s.acceptor->bind(at, ec);
      if (!ec) s.acceptor->listen(asio::socket_base::max_listen_connections, ec);
      if (ec)
        usage("cannot listen on " + at.address().to_string() + ":" + std::to_string(at.port()) + ": " + ec.message());
      asio::co_spawn(io_, accept_loop(i), asio::detached);
    }
    std::cout << "listening " << sites_.size() << std::endl;
    asio::co_spawn(io_, drive(), asio::detached);
    io_.run();
    return report();
  }

 private:
  static Clock::duration seconds(double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  }

  asio::awaitable<void> accept_loop(std::size_t i) {
    Site& s = sites_[i];
    while (phase_ != Phase::done) {
      auto stream = std::make_shared<asio::ssl::stream<tcp::socket>>(io_, SSL_new(s.ctx.get()));
      boost::system::error_code ec;
      co_await s.acceptor->async_accept(stream->next_layer(), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      const auto now = Clock::now();
      if (phase_ == Phase::outage) {  // down: the dial is counted and dropped
        outage_dials_.push_back(now);
        ++s.outage_dials;
        stream->next_layer().close(ec);
        continue;
      }
      (phase_ == Phase::start ? first_dials_ : reconnect_dials_).push_back(now);
      asio::co_spawn(io_, serve(i, stream), asio::detached);
    }
  }

  asio::awaitable<void> serve(std::size_t i, std::shared_ptr<asio::ssl::stream<tcp::socket>> stream) {
    Site& s = sites_[i];
    boost::system::error_code ec;
    co_await stream->async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      ++failed_handshakes_;
      co_return;
    }
    s.open.push_back(stream);
    char buf[4096];
    std::string pending;
    for (;;) {
      const std::size_t n =
          co_await stream->async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      pending.append(buf, n);
      // Keep-alive pings (a double CRLF) get their pong (RFC 5626 §3.5.1);
      // the site registers the link at this first answer.
      std::size_t at;
      bool pong = false;
      while ((at = pending.find("\r\n\r\n")) != std::string::npos) {
        pending.erase(0, at + 4);
        pong = true;
      }
      if (pending.size() > 65536) pending.clear();
      if (pong) {
        static const char crlf[] = "\r\n";
        co_await asio::async_write(*stream, asio::buffer(crlf, 2), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
        if (!s.connected) on_connected(s, stream);
      }
    }
    if (s.connected == stream) {
      s.connected.reset();
      --connected_;
    }
    std::erase(s.open, stream);
  }

  void on_connected(Site& s, std::shared_ptr<asio::ssl::stream<tcp::socket>> stream) {
    s.connected = std::move(stream);
    ++connected_;
    if (phase_ == Phase::start && connected_ == sites_.size()) all_connected_ = std::chrono::system_clock::now();
    if (phase_ == Phase::reconnect && connected_ == sites_.size()) all_reconnected_ = Clock::now();
  }

  asio::awaitable<void> wait_until(std::function<bool()> done, double limit_s) {
    asio::steady_timer timer(io_);
    const auto deadline = Clock::now() + seconds(limit_s);
    while (!done() && Clock::now() < deadline) {
      timer.expires_after(10ms);
      co_await timer.async_wait(asio::use_awaitable);
    }
  }

  asio::awaitable<void> drive() {
    co_await wait_until([this] { return connected_ == sites_.size(); }, o_.connect_timeout);
    start_connected_ = connected_;
    std::cerr << "fedload: " << connected_ << " of " << sites_.size() << " sites connected\n";
    phase_ = Phase::settled;
    asio::steady_timer timer(io_);
    timer.expires_after(seconds(o_.settle));
    co_await timer.async_wait(asio::use_awaitable);
    if (o_.outage > 0) {
      // Every site goes down at once: its links closed, its dials dropped.
      phase_ = Phase::outage;
      for (auto& s : sites_) {
        for (auto& stream : s.open) {
          boost::system::error_code ignored;
          stream->next_layer().close(ignored);
        }
        if (s.connected) --connected_;
        s.connected.reset();
      }
      std::cerr << "fedload: outage for " << o_.outage << " s\n";
      timer.expires_after(seconds(o_.outage));
      co_await timer.async_wait(asio::use_awaitable);
      phase_ = Phase::reconnect;
      outage_end_ = Clock::now();
      co_await wait_until([this] { return connected_ == sites_.size(); }, o_.reconnect_timeout);
      reconnected_ = connected_;
    }
    phase_ = Phase::done;
    for (auto& s : sites_) {
      boost::system::error_code ignored;
      s.acceptor->close(ignored);
      for (auto& stream : s.open) stream->next_layer().close(ignored);
    }
  }

  int report() {
    std::size_t most_outage_dials = 0;
    for (const auto& s : sites_) most_outage_dials = std::max(most_outage_dials, s.outage_dials);
    const auto first_dial =
        first_dials_.empty() ? Clock::time_point{} : *std::min_element(first_dials_.begin(), first_dials_.end());
    const auto last_dial =
        first_dials_.empty() ? Clock::time_point{} : *std::max_element(first_dials_.begin(), first_dials_.end());
    // Wall-clock time of the first dial (for the caller's subtraction).
    const auto first_dial_wall =
        std::chrono::system_clock::now() -
        std::chrono::duration_cast<std::chrono::system_clock::duration>(Clock::now() - first_dial);
    std::printf(
        "RESULT sites=%zu connected=%zu first_dial_epoch_ms=%lld all_connected_epoch_ms=%lld dial_span_ms=%.0f "
        "dials=%zu max_dials_100ms=%zu failed_handshakes=%zu outage_dials=%zu outage_dials_per_site_max=%zu "
        "outage_max_dials_100ms=%zu reconnected=%zu reconnect_ms=%.0f reconnect_dials=%zu "
        "reconnect_max_dials_100ms=%zu\n",
        sites_.size(), start_connected_,
        first_dials_.empty() ? -1LL : static_cast<long long>(epoch_ms(first_dial_wall)),
        all_connected_ == std::chrono::system_clock::time_point{} ? -1LL
                                                                  : static_cast<long long>(epoch_ms(all_connected_)),
        first_dials_.empty() ? -1.0 : ms_between(first_dial, last_dial), first_dials_.size(),
        densest(first_dials_, 100ms), failed_handshakes_, outage_dials_.size(), most_outage_dials,
        densest(outage_dials_, 100ms), reconnected_,
        all_reconnected_ == Clock::time_point{} ? -1.0 : ms_between(outage_end_, all_reconnected_),
        reconnect_dials_.size(), densest(reconnect_dials_, 100ms));
    std::fflush(stdout);
    return 0;
  }

  asio::io_context& io_;
  ListenOptions o_;
  std::vector<Site> sites_;
  Phase phase_ = Phase::start;
  std::size_t connected_ = 0, start_connected_ = 0, reconnected_ = 0, failed_handshakes_ = 0;
  std::vector<Clock::time_point> first_dials_, outage_dials_, reconnect_dials_;
  std::chrono::system_clock::time_point all_connected_{};
  Clock::time_point outage_end_{}, all_reconnected_{};
};

// ---- handshakes -------------------------------------------------------------

struct HandshakeOptions {
  std::size_t index = 0;
  double seconds = 5;
  std::size_t concurrency = 1;
  std::size_t identities = 1;
  std::size_t count = 0;    // 0: until `seconds`
  std::size_t sources = 0;  // 0: `concurrency`
};

int cmd_handshakes(const std::string& dir, const std::string& target_text, HandshakeOptions o) {
  if (o.concurrency == 0 || o.identities == 0) usage("--concurrency and --identities must be at least 1");
  if (o.sources == 0) o.sources = o.concurrency;
  const auto ids = load_identities(dir, o.index, o.identities);
  std::vector<sipsite::pki::SslCtxPtr> contexts;
  contexts.reserve(ids.size());
  for (const auto& id : ids) contexts.push_back(client_context(id));
  const auto target = parse_target(target_text);
  asio::io_context io;
  std::size_t started = 0, done = 0, failed = 0;
  const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  for (std::size_t c = 0; c < o.concurrency; ++c) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          while (Clock::now() < end && (o.count == 0 || started < o.count)) {
            const std::size_t n = started++;
            asio::ssl::stream<tcp::socket> s(io, SSL_new(contexts[n % contexts.size()].get()));
            boost::system::error_code ec;
            auto& sock = s.next_layer();
            sock.open(target.protocol(), ec);
            if (!ec) sock.bind(tcp::endpoint(source_address(n % o.sources), 0), ec);
            if (!ec) co_await sock.async_connect(target, asio::redirect_error(asio::use_awaitable, ec));
            if (!ec)
              co_await s.async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
            // TLS 1.3: the server's verdict on our certificate arrives after
            // the client's handshake completes; read once to see it.
            if (!ec) {
              const char ping[] = "\r\n\r\n";
              co_await asio::async_write(s, asio::buffer(ping, 4), asio::redirect_error(asio::use_awaitable, ec));
            }
            ++(ec ? failed : done);
            if (ec && failed <= 3) std::cerr << "fedload: handshake: " << ec.message() << "\n";
            sock.close(ec);
          }
        },
        asio::detached);
  }
  const auto start = Clock::now();
  io.run();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("RESULT handshakes=%zu failed=%zu seconds=%.2f rate=%.1f\n", done, failed, elapsed, done / elapsed);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) usage("a command: make, links, listen or handshakes");
  const std::string command = argv[1];
  std::map<std::string, std::vector<std::string>> args;
  for (int i = 2; i < argc; ++i) {
    std::string name = argv[i];
    if (name.rfind("--", 0) != 0 || i + 1 >= argc) usage("bad argument " + name);
    args[name.substr(2)].push_back(argv[++i]);
  }
  auto one = [&](const std::string& n, const std::string& fallback) {
    auto it = args.find(n);
    return it == args.end() ? fallback : it->second.back();
  };
  auto need = [&](const std::string& n) {
    auto it = args.find(n);
    if (it == args.end()) usage("--" + n + " is required");
    return it->second.back();
  };
  try {
    if (command == "make") {
      return cmd_make(std::stoul(need("count")), need("out"), one("domain-suffix", "fed.test"));
    }
    if (command == "handshakes") {
      HandshakeOptions o;
      o.index = std::stoul(one("index", "0"));
      o.seconds = std::stod(one("seconds", "5"));
      o.concurrency = std::stoul(one("concurrency", "1"));
      o.identities = std::stoul(one("identities", "1"));
      o.count = std::stoul(one("count", "0"));
      o.sources = std::stoul(one("sources", "0"));
      return cmd_handshakes(need("dir"), need("target"), o);
    }
    if (command == "listen") {
      ListenOptions o;
      o.dir = need("dir");
      o.links = std::stoul(one("links", "10"));
      o.first = std::stoul(one("first", "0"));
      o.port = static_cast<std::uint16_t>(std::stoul(one("port", "5061")));
      o.connect_timeout = std::stod(one("connect-timeout", "60"));
      o.settle = std::stod(one("settle", "5"));
      o.outage = std::stod(one("outage", "20"));
      o.reconnect_timeout = std::stod(one("reconnect-timeout", "120"));
      asio::io_context io;
      return ListenRun(io, std::move(o)).run();
    }
    if (command == "links") {
      LinksOptions o;
      o.dir = need("dir");
      o.target = need("target");
      o.site_domain = need("site-domain");
      o.links = std::stoul(one("links", "10"));
      o.first = std::stoul(one("first", "0"));
      o.sip_links = std::stoul(one("sip-links", std::to_string(o.links)));
      o.rate = std::stod(one("rate", "0"));
      o.message_every = std::stoul(one("message-every", "0"));
      o.duration = std::stod(one("duration", "10"));
      o.keepalive = std::stod(one("keepalive", "20"));
      o.settle = std::stod(one("settle", "0"));
      o.event_at = std::stod(one("event-at", "-1"));
      o.event_cmd = one("event-cmd", "");
      if (o.event_at >= 0 && o.event_cmd.empty()) usage("--event-at needs --event-cmd");
      for (const auto& v : args["expect-closed"]) o.expect_closed.insert(std::stoul(v));
      asio::io_context io;
      return LinksRun(io, std::move(o)).run();
    }
  } catch (const std::exception& e) {
    usage(std::string("bad number: ") + e.what());
  }
  usage("unknown command " + command);
}
