// SipTransport on loopback with real sockets (port 0), the io_context on its
// own thread as in the daemon, and plain blocking clients on the test side.

#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/tls_context.hpp>
#include <sipsite/sip/message/serializer.hpp>
#include <sipsite/transport/sip_transport.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

namespace sipsite::transport {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
using namespace std::chrono_literals;

std::string request(std::string_view method = "OPTIONS", std::string_view branch = "z9hG4bK1") {
  return std::string(method) + " sip:alpha.example SIP/2.0\r\n" +
         "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=" + std::string(branch) +
         "\r\n"
         "Max-Forwards: 70\r\nFrom: <sip:a@alpha.example>;tag=1\r\nTo: <sip:alpha.example>\r\n"
         "Call-ID: c1@192.0.2.1\r\nCSeq: 1 " +
         std::string(method) + "\r\nContent-Length: 0\r\n\r\n";
}

// Records what the transport delivers; optionally answers each request.
class Recorder final : public InboundHandler {
 public:
  void on_message(sip::Inbound inbound) override {
    if (echo && transport != nullptr) {
      transport->send(sip::Destination{inbound.source, inbound.flow}, "ECHO " + std::string(inbound.message.method()));
    }
    std::lock_guard lock(mutex_);
    messages_.push_back(std::move(inbound));
    cv_.notify_all();
  }
  void on_flow_closed(sip::FlowId flow) override {
    std::lock_guard lock(mutex_);
    closed_.push_back(flow);
    cv_.notify_all();
  }
  void on_send_failed(const sip::Destination&) override {
    std::lock_guard lock(mutex_);
    ++send_failures_;
    cv_.notify_all();
  }

  // Bounded waits: the test fails instead of hanging.
  sip::Inbound next_message() {
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, 10s, [&] { return !messages_.empty(); })) throw std::runtime_error("no message");
    auto m = std::move(messages_.front());
    messages_.pop_front();
    return m;
  }
  bool wait_closed(std::size_t n) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, 10s, [&] { return closed_.size() >= n; });
  }
  bool wait_send_failures(int n) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, 10s, [&] { return send_failures_ >= n; });
  }
  std::size_t message_count() {
    std::lock_guard lock(mutex_);
    return messages_.size();
  }

  bool echo = false;
  SipTransport* transport = nullptr;

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<sip::Inbound> messages_;
  std::vector<sip::FlowId> closed_;
  int send_failures_ = 0;
};

class TransportTest : public ::testing::Test {
 protected:
  void start(Limits limits = {}) {
    auto key = pki::PrivateKey::generate_p256().value();
    cert_ = pki::Certificate::self_signed(key, pki::CertificateOptions::valid_for_days("alpha.example", 10)).value();
    tls_ = pki::make_lan_server_context(*cert_, key).value();
    transport_ = std::make_unique<SipTransport>(io_, limits, recorder_, counters_, tls_.get());
    recorder_.transport = transport_.get();
    Listeners l;
    l.udp = {{"127.0.0.1", 0}};
    l.tcp = {{"127.0.0.1", 0}};
    l.tls = {{"127.0.0.1", 0}};
    ASSERT_TRUE(transport_->listen(l));
    for (const auto& ep : transport_->local_endpoints()) ports_[static_cast<int>(ep.protocol)] = ep.port;
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    if (transport_) asio::post(io_, [this] { transport_->stop(); });
    work_.reset();
    if (thread_.joinable()) thread_.join();
  }
  std::uint16_t port(sip::Protocol p) const { return ports_[static_cast<int>(p)]; }
  // Runs `fn` on the transport's thread and waits for it.
  template <class Fn>
  void on_io(Fn fn) {
    std::promise<void> done;
    asio::post(io_, [&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }

  tcp::socket connect_tcp() {
    tcp::socket s(client_io_);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port(sip::Protocol::tcp)));
    set_timeout(s.native_handle());
    return s;
  }
  static void set_timeout(int fd) {
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  static std::string read_some(tcp::socket& s) {
    std::array<char, 4096> buf;
    boost::system::error_code ec;
    const std::size_t n = s.read_some(asio::buffer(buf), ec);
    return ec ? std::string() : std::string(buf.data(), n);
  }
  // True when the peer closed (EOF) within the socket's timeout.
  static bool peer_closed(tcp::socket& s) {
    std::array<char, 256> buf;
    boost::system::error_code ec;
    for (int i = 0; i < 100; ++i) {
      s.read_some(asio::buffer(buf), ec);
      if (ec == asio::error::eof || ec == asio::error::connection_reset) return true;
      if (ec) return false;
    }
    return false;
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  asio::io_context client_io_;
  Recorder recorder_;
  sip::Counters counters_;
  std::optional<pki::Certificate> cert_;
  pki::SslCtxPtr tls_;
  std::unique_ptr<SipTransport> transport_;
  std::thread thread_;
  std::array<std::uint16_t, 3> ports_{};
};

TEST_F(TransportTest, UdpDeliversMessagesWithTheirRealSource) {
  start();
  udp::socket client(client_io_, udp::endpoint(udp::v4(), 0));
  set_timeout(client.native_handle());
  client.send_to(asio::buffer(request()), udp::endpoint(asio::ip::make_address("127.0.0.1"), port(sip::Protocol::udp)));
  const sip::Inbound in = recorder_.next_message();
  EXPECT_EQ(in.message.method(), "OPTIONS");
  EXPECT_EQ(in.source.protocol, sip::Protocol::udp);
  EXPECT_EQ(in.source.host, "127.0.0.1");
  EXPECT_EQ(in.source.port, client.local_endpoint().port());
  EXPECT_EQ(in.flow, 0u);
  EXPECT_EQ(in.local.port, port(sip::Protocol::udp));
}

// A burst that waits in the socket's queue while the io thread is busy:
// more datagrams than one wake-up reads (4 batches of 32), and nothing
// after them. Every one is delivered, in order, and answered (the answers
// leave in batches too), with no later datagram needed to wake the reader.
TEST_F(TransportTest, UdpBurstIsReadToTheEndAndAnswered) {
  start();
  recorder_.echo = true;
  constexpr int kBurst = 200;
  std::promise<void> release;
  auto released = release.get_future().share();
  asio::post(io_, [released] { released.wait(); });  // the io thread is busy
  udp::socket client(client_io_, udp::endpoint(udp::v4(), 0));
  set_timeout(client.native_handle());
  client.set_option(asio::socket_base::receive_buffer_size(1 << 20));  // holds every answer
  const udp::endpoint server(asio::ip::make_address("127.0.0.1"), port(sip::Protocol::udp));
  for (int i = 0; i < kBurst; ++i) {
    client.send_to(asio::buffer(request("OPTIONS", "z9hG4bK" + std::to_string(i))), server);
  }
  release.set_value();
  for (int i = 0; i < kBurst; ++i) {
    const sip::Inbound in = recorder_.next_message();
    ASSERT_EQ(in.message.value(sip::HeaderId::via).value_or(""),
              "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK" + std::to_string(i));
  }
  std::array<char, 256> buf;
  udp::endpoint from;
  for (int i = 0; i < kBurst; ++i) {
    const std::size_t n = client.receive_from(asio::buffer(buf), from);
    ASSERT_EQ(std::string(buf.data(), n), "ECHO OPTIONS") << i;
  }
}

TEST_F(TransportTest, UdpGarbageGetsA400AndTheTransportKeepsServing) {
  start();
  recorder_.echo = true;
  udp::socket client(client_io_, udp::endpoint(udp::v4(), 0));
  set_timeout(client.native_handle());
  const udp::endpoint server(asio::ip::make_address("127.0.0.1"), port(sip::Protocol::udp));
  std::string bad = request();  // claims a body it does not carry
  bad.replace(bad.find("Content-Length: 0"), 17, "Content-Length: 50");
  client.send_to(asio::buffer(bad), server);
  std::array<char, 4096> buf;
  udp::endpoint from;
  const std::size_t n = client.receive_from(asio::buffer(buf), from);
  EXPECT_EQ(std::string(buf.data(), n).rfind("SIP/2.0 400 ", 0), 0u) << "[" << std::string(buf.data(), n) << "]";
  // A NUL, a maximal datagram of junk, a bare keep-alive: none gets through.
  for (const std::string& junk : {std::string(1, '\0'), std::string(65507, 'x'), std::string("\r\n\r\n")}) {
    client.send_to(asio::buffer(junk), server);
  }
  client.send_to(asio::buffer(request()), server);
  const std::size_t m = client.receive_from(asio::buffer(buf), from);
  EXPECT_EQ(std::string(buf.data(), m), "ECHO OPTIONS");
  EXPECT_NE(counters_.prometheus().find("sipsite_sip_parse_errors_total 3"), std::string::npos);
}

TEST_F(TransportTest, TcpFramesSeveralMessagesAnswersPingsAndRepliesOnTheFlow) {
  start();
  recorder_.echo = true;
  tcp::socket s = connect_tcp();
  asio::write(s, asio::buffer(request("OPTIONS", "z9hG4bKa") + "\r\n\r\n" + request("MESSAGE", "z9hG4bKb")));
  const sip::Inbound first = recorder_.next_message();
  const sip::Inbound second = recorder_.next_message();
  EXPECT_EQ(first.message.method(), "OPTIONS");
  EXPECT_EQ(second.message.method(), "MESSAGE");
  EXPECT_NE(first.flow, 0u);
  EXPECT_EQ(first.flow, second.flow);
  EXPECT_EQ(first.source.protocol, sip::Protocol::tcp);
  std::string got;
  for (int i = 0; i < 10 && got.size() < std::string("ECHO OPTIONS\r\nECHO MESSAGE").size(); ++i) got += read_some(s);
  EXPECT_EQ(got, "ECHO OPTIONS\r\nECHO MESSAGE");
}

TEST_F(TransportTest, TcpByteAtATimeStillFrames) {
  start();
  tcp::socket s = connect_tcp();
  for (char c : request()) {
    asio::write(s, asio::buffer(&c, 1));
  }
  EXPECT_EQ(recorder_.next_message().message.method(), "OPTIONS");
}

TEST_F(TransportTest, TcpLostFramingIsAnsweredThenClosed) {
  start();
  tcp::socket s = connect_tcp();
  std::string no_length = request();
  no_length.erase(no_length.find("Content-Length: 0\r\n"), 19);
  asio::write(s, asio::buffer(no_length));
  const std::string reply = read_some(s);
  EXPECT_EQ(reply.rfind("SIP/2.0 400 ", 0), 0u) << reply;
  EXPECT_TRUE(peer_closed(s));
  EXPECT_TRUE(recorder_.wait_closed(1));
  EXPECT_EQ(recorder_.message_count(), 0u);
}

TEST_F(TransportTest, PerIpConnectionCapRefusesTheExtraConnection) {
  Limits limits;
  limits.max_connections_per_ip = 2;
  start(limits);
  tcp::socket a = connect_tcp();
  tcp::socket b = connect_tcp();
  asio::write(a, asio::buffer(request()));
  asio::write(b, asio::buffer(request()));
  recorder_.next_message();
  recorder_.next_message();
  tcp::socket c = connect_tcp();
  EXPECT_TRUE(peer_closed(c));
  EXPECT_NE(counters_.prometheus().find("sipsite_sip_connections_refused_total 1"), std::string::npos);
  // The admitted ones still work.
  asio::write(a, asio::buffer(request("MESSAGE")));
  EXPECT_EQ(recorder_.next_message().message.method(), "MESSAGE");
}

TEST_F(TransportTest, IdleConnectionsAreClosed) {
  Limits limits;
  limits.idle_timeout = 1s;
  start(limits);
  tcp::socket s = connect_tcp();
  asio::write(s, asio::buffer(request()));
  recorder_.next_message();
  EXPECT_TRUE(peer_closed(s));
  EXPECT_TRUE(recorder_.wait_closed(1));
}

TEST_F(TransportTest, SendToATcpEndpointWithoutAFlowOpensAConnection) {
  start();
  tcp::acceptor phone(client_io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const std::uint16_t phone_port = phone.local_endpoint().port();
  on_io([&] { transport_->send(sip::Destination{{sip::Protocol::tcp, "127.0.0.1", phone_port}, 0}, request()); });
  tcp::socket accepted = phone.accept();
  set_timeout(accepted.native_handle());
  EXPECT_EQ(read_some(accepted), request());
  on_io([&] { EXPECT_EQ(transport_->connection_count(), 1u); });
}

TEST_F(TransportTest, SendFailuresAreReported) {
  start();
  on_io([&] {
    transport_->send(sip::Destination{{sip::Protocol::tls, "127.0.0.1", 9}, 0}, request());
    transport_->send(sip::Destination{{sip::Protocol::udp, "not-an-ip", 9}, 0}, request());
  });
  EXPECT_TRUE(recorder_.wait_send_failures(2));
}

TEST_F(TransportTest, APhoneThatStopsReadingIsClosedAndTheSendsReportedFailed) {
  Limits limits;
  limits.max_queued_bytes = 64 * 1024;
  start(limits);
  tcp::socket s = connect_tcp();
  asio::write(s, asio::buffer(request()));
  const sip::Inbound in = recorder_.next_message();
  // All in one turn of the transport's thread, so nothing is written in
  // between: the fifth 16 KiB message is over the bound.
  on_io([&] {
    for (int i = 0; i < 8; ++i) transport_->send(sip::Destination{in.source, in.flow}, std::string(16 * 1024, 'x'));
  });
  EXPECT_TRUE(recorder_.wait_send_failures(4));  // the refused one and the three after it
  EXPECT_TRUE(recorder_.wait_closed(1));
  EXPECT_TRUE(peer_closed(s));
}

TEST_F(TransportTest, TlsPresentsTheSiteCertificateAndCarriesSip) {
  start();
  recorder_.echo = true;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_verify_mode(asio::ssl::verify_none);
  asio::ssl::stream<tcp::socket> s(client_io_, ctx);
  s.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port(sip::Protocol::tls)));
  set_timeout(s.next_layer().native_handle());
  s.handshake(asio::ssl::stream_base::client);
  X509* peer = SSL_get1_peer_certificate(s.native_handle());
  ASSERT_NE(peer, nullptr);
  EXPECT_EQ(pki::Certificate::from_native(peer).fingerprint(), cert_->fingerprint());
  X509_free(peer);
  EXPECT_GE(SSL_version(s.native_handle()), TLS1_2_VERSION);
  asio::write(s, asio::buffer(request()));
  const sip::Inbound in = recorder_.next_message();
  EXPECT_EQ(in.source.protocol, sip::Protocol::tls);
  std::array<char, 256> buf;
  const std::size_t n = s.read_some(asio::buffer(buf));
  EXPECT_EQ(std::string(buf.data(), n), "ECHO OPTIONS");
}

TEST_F(TransportTest, TlsHandshakeTimeoutClosesSilentClients) {
  Limits limits;
  limits.handshake_timeout = 1s;
  start(limits);
  tcp::socket s(client_io_);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port(sip::Protocol::tls)));
  set_timeout(s.native_handle());
  EXPECT_TRUE(peer_closed(s));
}

TEST_F(TransportTest, ListenFailureNamesTheListener) {
  start();
  SipTransport second(io_, {}, recorder_, counters_, nullptr);
  Listeners l;
  l.udp = {{"127.0.0.1", port(sip::Protocol::udp)}};
  auto r = second.listen(l);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("sip/udp 127.0.0.1:"), std::string::npos) << r.error().message;
  Listeners tls_without_context;
  tls_without_context.tls = {{"127.0.0.1", 0}};
  EXPECT_FALSE(second.listen(tls_without_context));
}

}  // namespace
}  // namespace sipsite::transport
