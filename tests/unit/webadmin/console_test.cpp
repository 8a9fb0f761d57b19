// The console's HTTPS server on loopback (port 0): TLS, keep-alive, size and
// time limits, the connection cap and a prompt stop() with clients attached.

#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/private_key.hpp>
#include <sipsite/store/admin_repository.hpp>
#include <sipsite/webadmin/console.hpp>
#include <sipsite/webadmin/password.hpp>

#include "support/temp_dir.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

namespace sipsite::webadmin {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using test::TempDir;

class NoLive final : public LiveState {
 public:
  std::string metrics() override { return {}; }
  std::optional<std::vector<Registration>> registrations() override { return std::vector<Registration>{}; }
  std::optional<std::vector<PeerLinkStatus>> peer_links() override { return std::vector<PeerLinkStatus>{}; }
};

class Client {
 public:
  // `from`: the client's own address (any of 127/8 is loopback).
  explicit Client(std::uint16_t port, const char* from = "127.0.0.1")
      : ctx_(asio::ssl::context::tls_client), stream_(io_, ctx_) {
    ctx_.set_verify_mode(asio::ssl::verify_none);  // the test pins nothing; the API tests do
    stream_.next_layer().open(tcp::v4());
    stream_.next_layer().bind(tcp::endpoint(asio::ip::make_address(from), 0));
    stream_.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  Response post_json(const std::string& target, const std::string& body) {
    Request req{http::verb::post, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    http::write(stream_, req);
    Response res;
    http::read(stream_, buffer_, res);
    return res;
  }
  boost::system::error_code handshake() {
    boost::system::error_code ec;
    stream_.handshake(asio::ssl::stream_base::client, ec);
    return ec;
  }
  Response get(const std::string& target, const std::string& extra_header = {}) {
    Request req{http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!extra_header.empty()) req.set("X-Extra", extra_header);
    http::write(stream_, req);
    Response res;
    http::read(stream_, buffer_, res);
    return res;
  }
  // Reads until the server closes; returns the error that ended the read.
  boost::system::error_code wait_closed() {
    Response res;
    boost::system::error_code ec;
    http::read(stream_, buffer_, res, ec);
    return ec;
  }
  asio::ssl::stream<tcp::socket>& stream() { return stream_; }

 private:
  asio::io_context io_;
  asio::ssl::context ctx_;
  asio::ssl::stream<tcp::socket> stream_;
  boost::beast::flat_buffer buffer_;
};

class ConsoleTest : public ::testing::Test {
 protected:
  void start(ServerLimits limits) {
    auto key = pki::PrivateKey::generate_p256().value();
    auto cert =
        pki::Certificate::self_signed(key, pki::CertificateOptions::valid_for_days("alpha.example", 30)).value();
    ConsoleSettings s;
    s.listen = {"127.0.0.1", 0};
    s.limits = limits;
    s.api.domain = "alpha.example";
    s.api.certificate_pem = cert.to_pem();
    auto db = store::Database::open(dir_ / "s.db", store::DbKey::generate().value(), store::OpenMode::create).value();
    store::AdminRepository(db).put({"admin", hash_password(kPassword).value(), false, 0}).value();
    console_.emplace(s, std::move(db), live_);
    ASSERT_FALSE(console_->start(cert, key));
    port_ = console_->local_address().port;
    ASSERT_NE(port_, 0);
  }

  static constexpr const char* kPassword = "a long console password";
  TempDir dir_;
  NoLive live_;
  std::optional<Console> console_;
  std::uint16_t port_ = 0;
};

TEST_F(ConsoleTest, ServesSeveralRequestsOnOneTlsConnection) {
  start({});
  Client c(port_);
  ASSERT_FALSE(c.handshake());
  for (int i = 0; i < 3; ++i) {
    auto res = c.get("/healthz");
    EXPECT_EQ(res.result(), http::status::ok);
    EXPECT_EQ(res.body(), "ok\n");
    EXPECT_TRUE(res.keep_alive());
  }
}

TEST_F(ConsoleTest, AnIdleConnectionIsClosedAfterTheHeaderTimeout) {
  ServerLimits limits;
  limits.header_timeout = 1s;
  start(limits);
  Client c(port_);
  ASSERT_FALSE(c.handshake());
  // Served and kept alive first: what closes it later is its idleness.
  auto res = c.get("/healthz");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_TRUE(res.keep_alive());
  // The server ends it: its end of the TCP connection, no answer, no reset.
  EXPECT_EQ(c.wait_closed(), asio::ssl::error::stream_truncated);
}

TEST_F(ConsoleTest, ASilentClientIsDroppedAfterTheHandshakeTimeout) {
  ServerLimits limits;
  limits.handshake_timeout = 1s;
  start(limits);
  Client c(port_);  // connects, never says hello
  boost::system::error_code ec;
  char byte;
  c.stream().next_layer().read_some(asio::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec);
}

TEST_F(ConsoleTest, OversizedHeaderIs431AndTheConnectionCloses) {
  ServerLimits limits;
  limits.header_limit = 1024;
  start(limits);
  Client c(port_);
  ASSERT_FALSE(c.handshake());
  auto res = c.get("/healthz", std::string(4096, 'x'));
  EXPECT_EQ(res.result(), http::status::request_header_fields_too_large);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_EQ(res["X-Frame-Options"], "DENY");
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(ConsoleTest, GarbageIs400) {
  start({});
  Client c(port_);
  ASSERT_FALSE(c.handshake());
  asio::write(c.stream(), asio::buffer(std::string("NOT HTTP AT ALL\r\n\r\n")));
  Response res;
  boost::beast::flat_buffer b;
  http::read(c.stream(), b, res);
  EXPECT_EQ(res.result(), http::status::bad_request);
}

TEST_F(ConsoleTest, ConnectionsBeyondTheCapAreClosedAtOnce) {
  ServerLimits limits;
  limits.max_connections = 2;
  limits.reserved_for_known = 0;
  start(limits);
  Client a(port_), b(port_);
  ASSERT_FALSE(a.handshake());
  ASSERT_FALSE(b.handshake());
  Client c(port_);
  EXPECT_TRUE(c.handshake());
  EXPECT_EQ(a.get("/healthz").result(), http::status::ok);
}

TEST_F(ConsoleTest, OneAddressCannotHoldTheWholeConsole) {
  ServerLimits limits;
  limits.max_connections_per_address = 3;
  start(limits);
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<Client>(port_, "127.0.0.9"));
    ASSERT_FALSE(idle.back()->handshake());
  }
  Client extra(port_, "127.0.0.9");
  EXPECT_TRUE(extra.handshake()) << "a fourth connection from one address was served";
  Client other(port_, "127.0.0.10");
  ASSERT_FALSE(other.handshake());
  EXPECT_EQ(other.get("/healthz").result(), http::status::ok);
}

TEST_F(ConsoleTest, TheLastConnectionsAreKeptForAddressesThatLoggedInBefore) {
  ServerLimits limits;
  limits.max_connections = 4;
  limits.reserved_for_known = 2;
  start(limits);
  Client admin(port_, "127.0.0.20");  // the admin's desk, logged in
  ASSERT_FALSE(admin.handshake());
  const auto r =
      admin.post_json("/api/v1/session", std::string(R"({"username":"admin","password":")") + kPassword + R"("})");
  ASSERT_EQ(r.result(), http::status::ok) << r.body();
  // A stranger takes the rest of the open share (two of four)...
  Client s1(port_, "127.0.0.31");
  ASSERT_FALSE(s1.handshake());
  Client s2(port_, "127.0.0.32");
  EXPECT_TRUE(s2.handshake()) << "a stranger got a reserved connection";
  // ...and the admin still gets another.
  Client again(port_, "127.0.0.20");
  ASSERT_FALSE(again.handshake());
  EXPECT_EQ(again.get("/healthz").result(), http::status::ok);
}

// Connected clients (one mid keep-alive, one that never asked anything) do
// not hold stop() up: it closes them and returns.
TEST_F(ConsoleTest, StopClosesTheConnectionsOfClientsStillConnected) {
  start({});
  Client a(port_), b(port_);
  ASSERT_FALSE(a.handshake());
  ASSERT_FALSE(b.handshake());
  EXPECT_EQ(a.get("/healthz").result(), http::status::ok);
  console_->stop();
  EXPECT_TRUE(a.wait_closed());
  EXPECT_TRUE(b.wait_closed());
  console_->stop();  // idempotent
}

TEST_F(ConsoleTest, ABusyPortIsAClearError) {
  start({});
  auto key = pki::PrivateKey::generate_p256().value();
  auto cert = pki::Certificate::self_signed(key, pki::CertificateOptions::valid_for_days("alpha.example", 30)).value();
  ConsoleSettings s;
  s.listen = {"127.0.0.1", port_};
  auto db = store::Database::open(dir_ / "t.db", store::DbKey::generate().value(), store::OpenMode::create).value();
  Console other(s, std::move(db), live_);
  auto failed = other.start(cert, key);
  ASSERT_TRUE(failed);
  EXPECT_NE(failed->find("cannot listen on admin/https 127.0.0.1:" + std::to_string(port_)), std::string::npos)
      << *failed;
}

}  // namespace
}  // namespace sipsite::webadmin
