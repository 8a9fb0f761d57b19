// Federation links carrying SIP: two sites (listener + connector each, real
// OpenSSL mutual TLS with pinned self-signed certificates) on loopback, and
// a raw TLS peer presenting a pinned certificate for byte-level cases. One
// io_context run by the test thread with bounded waits (run_one_for until a
// condition holds or a deadline passes), as the daemon runs it.

#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/pinning.hpp>
#include <sipsite/sip/message/response.hpp>
#include <sipsite/sip/message/serializer.hpp>
#include <sipsite/transport/federation_connector.hpp>
#include <sipsite/transport/federation_links.hpp>
#include <sipsite/transport/federation_listener.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <openssl/ssl.h>

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sipsite::transport {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

std::string request(std::string_view method, std::string_view call_id, std::string_view from_domain = "beta.test") {
  return std::string(method) + " sip:bob@alpha.test SIP/2.0\r\n" + "Via: SIP/2.0/TLS 192.0.2.1:5062;branch=z9hG4bK" +
         std::string(call_id) +
         "\r\n"
         "Max-Forwards: 70\r\nFrom: <sip:alice@" +
         std::string(from_domain) + ">;tag=1\r\nTo: <sip:bob@alpha.test>\r\nCall-ID: " + std::string(call_id) +
         "\r\nCSeq: 1 " + std::string(method) + "\r\nContent-Length: 0\r\n\r\n";
}

// Records everything a site's transport reports; optionally answers each
// request with 200 on the link it came in on.
class Recorder final : public FederationHandler {
 public:
  struct Message {
    pki::Fingerprint peer;
    sip::Inbound inbound;
  };

  void on_refused(const pki::PeerIdentity& identity, const sip::Endpoint&) override {
    refused.push_back(identity.verdict);
  }
  void on_peer_connected(const pki::Certificate&, const sip::Endpoint&) override { ++connected; }
  void on_peer_disconnected(const pki::Fingerprint&) override { ++disconnected; }
  void on_link_up(const pki::Fingerprint& peer, sip::FlowId flow, const sip::Endpoint&) override {
    ups.emplace_back(peer, flow);
  }
  void on_link_down(const pki::Fingerprint& peer, sip::FlowId flow) override { downs.emplace_back(peer, flow); }
  void on_peer_message(const pki::Fingerprint& peer, sip::Inbound inbound) override {
    if (answer && links != nullptr && inbound.message.is_request()) {
      links->send(inbound.flow, sip::serialize(sip::make_response(inbound.message, 200, "OK")));
    }
    messages.push_back({peer, std::move(inbound)});
  }

  FederationLinks* links = nullptr;
  bool answer = false;
  std::vector<pki::PinVerdict> refused;
  int connected = 0;
  int disconnected = 0;
  std::vector<std::pair<pki::Fingerprint, sip::FlowId>> ups;
  std::vector<std::pair<pki::Fingerprint, sip::FlowId>> downs;
  std::deque<Message> messages;
};

struct Identity {
  explicit Identity(const std::string& name)
      : key(pki::PrivateKey::generate_p256().value()),
        cert(pki::Certificate::self_signed(key, pki::CertificateOptions::valid_for_days(name, 30)).value()),
        domain(name) {}
  pki::PrivateKey key;
  pki::Certificate cert;
  std::string domain;
};

// One site: its identity, pinned set, contexts, links, listener, connector.
struct Site {
  Site(asio::io_context& io, const std::string& domain, ConnectorSettings cs = {}, LinksSettings ls = {})
      : id(domain),
        verifier(id.cert.fingerprint()),
        server_ctx(pki::make_federation_server_context(id.cert, id.key, verifier).value()),
        client_ctx(pki::make_federation_client_context(id.cert, id.key, verifier).value()),
        links(id.cert.fingerprint(), verifier, ls) {
    recorder.links = &links;
    listener = std::make_unique<FederationListener>(io, server_ctx.get(), recorder, links, Limits{});
    EXPECT_TRUE(listener->listen(pki::HostPort{"127.0.0.1", 0}).has_value());
    connector = std::make_unique<FederationConnector>(
        io, client_ctx.get(), links, recorder, cs,
        [this](const pki::Fingerprint&, const PeerLink& link) { states.push_back(link.state); });
  }
  ~Site() {
    connector->stop();
    listener->stop();
  }

  pki::Fingerprint fp() const { return id.cert.fingerprint(); }
  void trust(const Site& other) {
    pki::PinnedSet pins = *verifier.snapshot();
    pins.insert_or_assign(other.fp(), other.id.domain);
    verifier.replace(pins);
  }
  void untrust_all() { verifier.replace({}); }
  void dial(const Site& other) {
    connector->set_targets({PeerTarget{other.fp(), other.id.domain, {"127.0.0.1", other.port()}}});
  }
  std::uint16_t port() const { return listener->local_endpoint().port; }
  std::optional<LinkState> state_of(const Site& other) const {
    const auto all = connector->links();
    auto it = all.find(other.fp());
    if (it == all.end()) return std::nullopt;
    return it->second.state;
  }
  std::vector<LinkInfo> links_to(const Site& other) const {
    auto snap = links.snapshot();
    auto it = snap.find(other.fp());
    return it == snap.end() ? std::vector<LinkInfo>{} : it->second;
  }

  Identity id;
  pki::PinVerifier verifier;
  pki::SslCtxPtr server_ctx;
  pki::SslCtxPtr client_ctx;
  FederationLinks links;
  Recorder recorder;
  std::unique_ptr<FederationListener> listener;
  std::unique_ptr<FederationConnector> connector;
  std::vector<LinkState> states;
};

// A TLS client presenting `site`'s certificate, for byte-level tests.
// GCC 12 misreports the coroutine frame's own operator new/delete pair as
// mismatched once run() is inlined into its caller (a false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
struct RawPeer {
  RawPeer(asio::io_context& io, SSL_CTX* ctx) : ssl(ctx), stream(io, ssl) { SSL_CTX_up_ref(ctx); }

  asio::awaitable<void> run(std::uint16_t port) {
    auto [cec] =
        co_await stream.next_layer().async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), kTuple);
    if (cec) {
      closed = true;
      co_return;
    }
    auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client, kTuple);
    if (hec) {
      closed = true;
      co_return;
    }
    ready = true;
    std::array<char, 4096> buffer;
    for (;;) {
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(buffer), kTuple);
      if (ec) break;
      received.append(buffer.data(), n);
    }
    closed = true;
  }
  asio::awaitable<void> write(std::string bytes) {
    auto [ec, n] = co_await asio::async_write(stream, asio::buffer(bytes), kTuple);
    ++writes_done;
    if (ec) write_failed = true;
  }

  asio::ssl::context ssl;
  asio::ssl::stream<tcp::socket> stream;
  std::string received;
  bool ready = false;
  bool closed = false;
  int writes_done = 0;
  bool write_failed = false;
};
#pragma GCC diagnostic pop

// A TLS server presenting `site`'s certificate that answers only when told.
struct RawServer {
  RawServer(asio::io_context& io, SSL_CTX* ctx)
      : ssl(ctx), acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), stream(io, ssl), go(io) {
    SSL_CTX_up_ref(ctx);
  }

  asio::awaitable<void> run() {
    auto [aec] = co_await acceptor.async_accept(stream.next_layer(), kTuple);
    if (aec) co_return;
    auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kTuple);
    if (hec) co_return;
    ready = true;
    go.expires_at(std::chrono::steady_clock::time_point::max());
    co_await go.async_wait(kTuple);
    co_await asio::async_write(stream, asio::buffer(std::string_view("\r\n")), kTuple);
    std::array<char, 512> buffer;
    for (;;) {
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(buffer), kTuple);
      if (ec) break;
    }
    closed = true;
  }
  std::uint16_t port() const { return acceptor.local_endpoint().port(); }

  asio::ssl::context ssl;
  tcp::acceptor acceptor;
  asio::ssl::stream<tcp::socket> stream;
  asio::steady_timer go;
  bool ready = false;
  bool closed = false;
};

class FederationLinksTest : public ::testing::Test {
 protected:
  // Runs the io_context until `done()` or 15 s have passed; returns done().
  bool run_until(const std::function<bool()>& done, std::chrono::seconds limit = 15s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      if (io_.stopped()) io_.restart();
      io_.run_one_for(50ms);
    }
    return done();
  }
  // Runs everything that is ready, and what becomes ready within `span`:
  // for checking that something does NOT happen (no assertion on timing).
  void run_for(std::chrono::milliseconds span) {
    if (io_.stopped()) io_.restart();
    io_.run_for(span);
  }

  void TearDown() override {
    // Stop the sites, then let every coroutine wind down before the sites
    // (which they reference) are destroyed.
    for (auto* s : {alpha_.get(), beta_.get()}) {
      if (s != nullptr) {
        s->connector->stop();
        s->listener->stop();
      }
    }
    for (auto& r : raw_) {
      boost::system::error_code ec;
      r->stream.next_layer().close(ec);
    }
    for (auto& srv : servers_) {
      boost::system::error_code ec;
      srv->acceptor.close(ec);
      srv->stream.next_layer().close(ec);
      srv->go.cancel();
    }
    run_for(300ms);
    raw_.clear();
    servers_.clear();
    alpha_.reset();
    beta_.reset();
    run_for(50ms);
  }

  void make_sites(ConnectorSettings cs = {}, LinksSettings ls = {}) {
    alpha_ = std::make_unique<Site>(io_, "alpha.test", cs, ls);
    beta_ = std::make_unique<Site>(io_, "beta.test", cs, ls);
    alpha_->trust(*beta_);
    beta_->trust(*alpha_);
  }
  Site& lower() { return alpha_->fp() < beta_->fp() ? *alpha_ : *beta_; }
  Site& higher() { return alpha_->fp() < beta_->fp() ? *beta_ : *alpha_; }

  RawPeer& raw_as(Site& who, Site& to) {
    raw_.push_back(std::make_unique<RawPeer>(io_, who.client_ctx.get()));
    RawPeer& r = *raw_.back();
    asio::co_spawn(io_, r.run(to.port()), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
    return r;
  }
  void write(RawPeer& r, std::string bytes) {
    const int before = r.writes_done;
    asio::co_spawn(io_, r.write(std::move(bytes)), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
    EXPECT_TRUE(run_until([&] { return r.writes_done > before; }));
  }

  asio::io_context io_;
  std::unique_ptr<Site> alpha_;
  std::unique_ptr<Site> beta_;
  std::vector<std::unique_ptr<RawPeer>> raw_;
  std::vector<std::unique_ptr<RawServer>> servers_;
};

TEST_F(FederationLinksTest, TwoSitesExchangeRequestsAndResponsesBothWaysOverOneLink) {
  make_sites();
  alpha_->recorder.answer = true;
  beta_->recorder.answer = true;
  beta_->dial(*alpha_);  // only beta knows alpha's address: its link serves both ways
  ASSERT_TRUE(run_until([&] {
    return beta_->state_of(*alpha_) == LinkState::connected && alpha_->links.size() == 1 && beta_->links.size() == 1;
  }));
  const auto a_flow = alpha_->links.flow_for(beta_->fp());
  const auto b_flow = beta_->links.flow_for(alpha_->fp());
  ASSERT_TRUE(a_flow && b_flow);
  EXPECT_TRUE(sip::is_federation_flow(*a_flow));
  EXPECT_TRUE(sip::is_federation_flow(*b_flow));
  EXPECT_EQ(alpha_->links_to(*beta_).at(0).direction, LinkDirection::inbound);
  EXPECT_EQ(beta_->links_to(*alpha_).at(0).direction, LinkDirection::outbound);
  EXPECT_EQ(alpha_->recorder.connected, 1);

  // beta -> alpha, answered by alpha on the same link.
  ASSERT_TRUE(beta_->links.send(*b_flow, request("MESSAGE", "b2a")));
  ASSERT_TRUE(run_until([&] { return !beta_->recorder.messages.empty(); }));
  ASSERT_EQ(alpha_->recorder.messages.size(), 1u);
  const auto& at_alpha = alpha_->recorder.messages.front();
  EXPECT_EQ(at_alpha.peer, beta_->fp());
  EXPECT_EQ(at_alpha.inbound.message.method(), "MESSAGE");
  EXPECT_EQ(at_alpha.inbound.flow, *a_flow);
  EXPECT_EQ(at_alpha.inbound.source.protocol, sip::Protocol::tls);
  EXPECT_EQ(at_alpha.inbound.source.host, "127.0.0.1");
  EXPECT_EQ(at_alpha.inbound.local.port, alpha_->port());
  const auto& back_at_beta = beta_->recorder.messages.front();
  EXPECT_EQ(back_at_beta.peer, alpha_->fp());
  EXPECT_TRUE(back_at_beta.inbound.message.is_response());
  EXPECT_EQ(back_at_beta.inbound.message.status_code(), 200);
  EXPECT_EQ(back_at_beta.inbound.flow, *b_flow);

  // alpha -> beta on the link beta dialled, answered by beta.
  ASSERT_TRUE(alpha_->links.send_to(beta_->fp(), request("OPTIONS", "a2b", "alpha.test")));
  ASSERT_TRUE(run_until([&] { return alpha_->recorder.messages.size() == 2; }));
  ASSERT_EQ(beta_->recorder.messages.size(), 2u);
  EXPECT_EQ(beta_->recorder.messages.back().inbound.message.method(), "OPTIONS");
  EXPECT_EQ(beta_->recorder.messages.back().peer, alpha_->fp());
  EXPECT_TRUE(alpha_->recorder.messages.back().inbound.message.is_response());
  EXPECT_EQ(alpha_->links.size(), 1u);
  EXPECT_EQ(beta_->links.size(), 1u);
  EXPECT_EQ(alpha_->recorder.ups.size(), 1u);
  EXPECT_EQ(beta_->recorder.ups.size(), 1u);
}

TEST_F(FederationLinksTest, KeepAlivesAreAnsweredAndMeasureTheRoundTrip) {
  ConnectorSettings cs;
  cs.keepalive = 1s;
  make_sites(cs);
  beta_->dial(*alpha_);
  ASSERT_TRUE(run_until([&] {
    const auto all = beta_->connector->links();
    auto it = all.find(alpha_->fp());
    return it != all.end() && it->second.state == LinkState::connected && it->second.rtt.count() >= 0;
  }));
  // Pings are not SIP: nothing reaches the handlers.
  EXPECT_TRUE(alpha_->recorder.messages.empty());
  EXPECT_TRUE(beta_->recorder.messages.empty());
}

TEST_F(FederationLinksTest, FramingAcrossReadsAndSeveralMessagesInOneWrite) {
  make_sites();
  RawPeer& r = raw_as(*beta_, *alpha_);
  ASSERT_TRUE(run_until([&] { return r.ready && alpha_->links.size() == 1; }));
  const std::string m = request("MESSAGE", "split");
  write(r, m.substr(0, 10));
  write(r, m.substr(10, 50));
  write(r, m.substr(60));
  ASSERT_TRUE(run_until([&] { return alpha_->recorder.messages.size() == 1; }));
  EXPECT_EQ(alpha_->recorder.messages.front().inbound.message.value("Call-ID").value_or(""), "split");
  write(r, request("OPTIONS", "two-1") + "\r\n\r\n" + request("OPTIONS", "two-2"));
  ASSERT_TRUE(run_until([&] { return alpha_->recorder.messages.size() == 3 && r.received == "\r\n"; }));
  EXPECT_EQ(alpha_->recorder.messages[1].inbound.message.value("Call-ID").value_or(""), "two-1");
  EXPECT_EQ(alpha_->recorder.messages[2].inbound.message.value("Call-ID").value_or(""), "two-2");
  EXPECT_EQ(alpha_->recorder.messages[2].peer, beta_->fp());
}

TEST_F(FederationLinksTest, MalformedRequestIsAnswered400OnTheLinkWhichStaysUp) {
  make_sites();
  RawPeer& r = raw_as(*beta_, *alpha_);
  ASSERT_TRUE(run_until([&] { return r.ready && alpha_->links.size() == 1; }));
  std::string bad = request("OPTIONS", "bad");
  bad.replace(0, bad.find(" SIP/2.0"), "OPTIONS <sip:bob@alpha.test>");  // a request-URI in brackets
  write(r, bad);
  ASSERT_TRUE(run_until([&] { return r.received.find("\r\n\r\n") != std::string::npos; }));
  EXPECT_EQ(r.received.rfind("SIP/2.0 400 ", 0), 0u) << r.received;
  EXPECT_NE(r.received.find("Call-ID: bad"), std::string::npos);
  EXPECT_TRUE(alpha_->recorder.messages.empty());
  EXPECT_EQ(alpha_->links.parse_errors(), 1u);
  // Still in sync: the next message gets through.
  write(r, request("MESSAGE", "after"));
  ASSERT_TRUE(run_until([&] { return alpha_->recorder.messages.size() == 1; }));
  EXPECT_FALSE(r.closed);
}

TEST_F(FederationLinksTest, OversizedMessageClosesTheLink) {
  make_sites();
  RawPeer& r = raw_as(*beta_, *alpha_);
  ASSERT_TRUE(run_until([&] { return r.ready && alpha_->links.size() == 1; }));
  std::string big = request("MESSAGE", "big");
  big.replace(big.find("Content-Length: 0"), 17, "Content-Length: 200000");
  write(r, big + std::string(70000, 'x'));
  ASSERT_TRUE(run_until([&] { return r.closed && alpha_->recorder.downs.size() == 1; }));
  EXPECT_EQ(alpha_->links.size(), 0u);
  EXPECT_TRUE(alpha_->recorder.messages.empty());
  EXPECT_FALSE(alpha_->links.flow_for(beta_->fp()).has_value());
}

TEST_F(FederationLinksTest, GarbageClosesTheLink) {
  make_sites();
  RawPeer& r = raw_as(*beta_, *alpha_);
  ASSERT_TRUE(run_until([&] { return r.ready && alpha_->links.size() == 1; }));
  write(r, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");  // no Content-Length: framing is lost
  ASSERT_TRUE(run_until([&] { return r.closed; }));
  ASSERT_TRUE(run_until([&] { return alpha_->links.size() == 0; }));
  EXPECT_TRUE(alpha_->recorder.messages.empty());
}

TEST_F(FederationLinksTest, SendOnAClosedFlowFallsBackToThePeersOtherLink) {
  make_sites();
  RawPeer& first = raw_as(*beta_, *alpha_);
  ASSERT_TRUE(run_until([&] { return first.ready && alpha_->links.size() == 1; }));
  const sip::FlowId old_flow = *alpha_->links.flow_for(beta_->fp());
  // beta's site comes back on a new connection (same direction): it
  // replaces the old one, which alpha closes.
  RawPeer& second = raw_as(*beta_, *alpha_);
  ASSERT_TRUE(run_until([&] { return second.ready && first.closed && alpha_->recorder.downs.size() == 1; }));
  EXPECT_EQ(alpha_->recorder.downs.front().second, old_flow);
  const auto new_flow = alpha_->links.flow_for(beta_->fp());
  ASSERT_TRUE(new_flow.has_value());
  EXPECT_NE(*new_flow, old_flow);
  // A transaction still holding the old flow: its message goes out on the new link.
  ASSERT_TRUE(alpha_->links.send(old_flow, request("MESSAGE", "moved", "alpha.test")));
  ASSERT_TRUE(run_until([&] { return second.received.find("Call-ID: moved") != std::string::npos; }));
  // A flow that never existed, or of a peer with no link: false.
  EXPECT_FALSE(alpha_->links.send(sip::kFederationFlowBit | 999999, "x"));
  EXPECT_FALSE(alpha_->links.send_to(alpha_->fp(), "x"));
}

TEST_F(FederationLinksTest, BothSitesDiallingEndWithOneCanonicalLinkAndMessagesFlow) {
  make_sites();
  alpha_->recorder.answer = true;
  beta_->recorder.answer = true;
  alpha_->dial(*beta_);
  beta_->dial(*alpha_);
  Site& lo = lower();
  Site& hi = higher();
  ASSERT_TRUE(run_until([&] {
    return lo.state_of(hi) == LinkState::connected && hi.state_of(lo) == LinkState::connected && lo.links.size() == 1 &&
           hi.links.size() == 1 && lo.links_to(hi).at(0).direction == LinkDirection::outbound &&
           hi.links_to(lo).at(0).direction == LinkDirection::inbound;
  }));
  const sip::FlowId lo_flow = *lo.links.flow_for(hi.fp());
  const sip::FlowId hi_flow = *hi.links.flow_for(lo.fp());
  EXPECT_TRUE(lo.links_to(hi).at(0).canonical);
  EXPECT_TRUE(hi.links_to(lo).at(0).canonical);
  // Longer than the connectors' first backoff: the higher site does not
  // dial while the canonical link is up, so nothing changes.
  run_for(2500ms);
  EXPECT_EQ(lo.links.size(), 1u);
  EXPECT_EQ(hi.links.size(), 1u);
  EXPECT_EQ(lo.links.flow_for(hi.fp()), lo_flow);
  EXPECT_EQ(hi.links.flow_for(lo.fp()), hi_flow);
  EXPECT_EQ(hi.state_of(lo), LinkState::connected);

  ASSERT_TRUE(lo.links.send(lo_flow, request("MESSAGE", "lo2hi")));
  ASSERT_TRUE(hi.links.send(hi_flow, request("MESSAGE", "hi2lo")));
  ASSERT_TRUE(run_until([&] { return lo.recorder.messages.size() == 2 && hi.recorder.messages.size() == 2; }));
  int requests = 0;
  for (auto* s : {&lo, &hi}) {
    for (const auto& m : s->recorder.messages) requests += m.inbound.message.is_request() ? 1 : 0;
  }
  EXPECT_EQ(requests, 2);
}

TEST_F(FederationLinksTest, HigherSiteResumesDiallingWhenTheCanonicalLinkGoes) {
  make_sites();
  Site& lo = lower();
  Site& hi = higher();
  lo.dial(hi);
  hi.dial(lo);
  ASSERT_TRUE(run_until([&] {
    return lo.state_of(hi) == LinkState::connected && hi.state_of(lo) == LinkState::connected && lo.links.size() == 1 &&
           hi.links.size() == 1 && hi.links.has_canonical_inbound(lo.fp());
  }));
  // The lower site forgets the higher one's address and drops its link: the
  // higher site dials, and its link is used both ways.
  lo.connector->set_targets({});
  ASSERT_TRUE(run_until([&] {
    const auto l = hi.links_to(lo);
    return hi.state_of(lo) == LinkState::connected && l.size() == 1 && l[0].direction == LinkDirection::outbound &&
           lo.links.size() == 1;
  }));
  EXPECT_EQ(lo.links_to(hi).at(0).direction, LinkDirection::inbound);
  ASSERT_TRUE(lo.links.send_to(hi.fp(), request("MESSAGE", "still")));
  ASSERT_TRUE(run_until([&] { return !hi.recorder.messages.empty(); }));
}

TEST_F(FederationLinksTest, ClosePeerDropsTheLinkAtOnceAndTheDialerSeesRefusedByPeer) {
  make_sites();
  beta_->dial(*alpha_);
  ASSERT_TRUE(run_until([&] { return beta_->state_of(*alpha_) == LinkState::connected && alpha_->links.size() == 1; }));
  const sip::FlowId flow = *alpha_->links.flow_for(beta_->fp());
  // Revocation at alpha: un-pin, close.
  alpha_->untrust_all();
  EXPECT_EQ(alpha_->links.close(beta_->fp()), 1u);
  EXPECT_FALSE(alpha_->links.flow_for(beta_->fp()).has_value());
  EXPECT_FALSE(alpha_->links.send(flow, request("MESSAGE", "late")));
  EXPECT_EQ(alpha_->links.size(), 0u);
  ASSERT_TRUE(run_until([&] { return beta_->state_of(*alpha_) == LinkState::refused_by_peer; }));
  EXPECT_EQ(beta_->links.size(), 0u);
  ASSERT_TRUE(run_until([&] { return !alpha_->recorder.refused.empty(); }));
  EXPECT_EQ(alpha_->recorder.refused.front(), pki::PinVerdict::unknown);
  EXPECT_EQ(alpha_->recorder.downs.size(), 1u);
}

TEST_F(FederationLinksTest, WriteQueueOverTheBoundClosesTheLink) {
  LinksSettings ls;
  ls.max_queued_bytes = 16 * 1024;
  make_sites({}, ls);
  RawPeer& r = raw_as(*beta_, *alpha_);
  ASSERT_TRUE(run_until([&] { return r.ready && alpha_->links.size() == 1; }));
  const sip::FlowId flow = *alpha_->links.flow_for(beta_->fp());
  // Queued synchronously, before the writer runs: the second overflows.
  EXPECT_TRUE(alpha_->links.send(flow, std::string(10 * 1024, 'a')));
  EXPECT_FALSE(alpha_->links.send(flow, std::string(10 * 1024, 'b')));
  EXPECT_EQ(alpha_->links.size(), 0u);
  ASSERT_TRUE(run_until([&] { return r.closed; }));
}

TEST_F(FederationLinksTest, FederationContextsNeverOfferResumption) {
  make_sites();
  RawPeer& r = raw_as(*beta_, *alpha_);
  ASSERT_TRUE(run_until([&] { return r.ready && alpha_->links.size() == 1; }));
  write(r, "\r\n\r\n");  // a round trip: any ticket would have arrived before the pong
  ASSERT_TRUE(run_until([&] { return r.received == "\r\n"; }));
  SSL_SESSION* session = SSL_get1_session(r.stream.native_handle());
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(SSL_SESSION_is_resumable(session), 0);
  // Offering it anyway on a new connection (as a revoked peer would) does
  // not resume, and without beta's pin the handshake is refused.
  alpha_->untrust_all();
  alpha_->links.close(beta_->fp());
  auto again = std::make_unique<RawPeer>(io_, beta_->client_ctx.get());
  SSL_set_session(again->stream.native_handle(), session);
  SSL_SESSION_free(session);
  RawPeer& second = *again;
  raw_.push_back(std::move(again));
  asio::co_spawn(io_, second.run(alpha_->port()), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  ASSERT_TRUE(run_until([&] { return second.closed; }));
  EXPECT_EQ(SSL_session_reused(second.stream.native_handle()), 0);
  EXPECT_EQ(alpha_->links.size(), 0u);
  EXPECT_TRUE(second.received.empty());
}

TEST_F(FederationLinksTest, PeerRevokedDuringTheHandshakeNeverBecomesALink) {
  make_sites();
  servers_.push_back(std::make_unique<RawServer>(io_, alpha_->server_ctx.get()));
  RawServer& alpha_raw = *servers_.back();
  asio::co_spawn(io_, alpha_raw.run(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  beta_->connector->set_targets({PeerTarget{alpha_->fp(), "alpha.test", {"127.0.0.1", alpha_raw.port()}}});
  // beta has checked alpha's certificate (the handshake is done on both
  // sides); alpha's first answer is still to come when beta revokes alpha.
  ASSERT_TRUE(run_until([&] { return alpha_raw.ready; }));
  beta_->untrust_all();
  alpha_raw.go.cancel();
  ASSERT_TRUE(run_until([&] { return alpha_raw.closed; }));
  EXPECT_EQ(beta_->links.size(), 0u);
  EXPECT_TRUE(beta_->recorder.ups.empty());
  EXPECT_NE(beta_->state_of(*alpha_), LinkState::connected);
}

}  // namespace
}  // namespace sipsite::transport
