// TlsSocket (server/transport/src/tls_socket.hpp), OpenSSL driven on the
// socket itself, against itself and against asio::ssl::stream over real
// loopback connections: what a batch of buffers becomes, how the peer's
// close_notify, an abrupt close and a reset are reported (a reset must not
// raise SIGPIPE: this process would die), and that nothing touches OpenSSL
// or the descriptor once the socket is closed.

#include "tls_socket.hpp"

#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/private_key.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace sipsite::transport::detail {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// One self-signed identity for both ends; the test is about the driver,
// not about pinning (which federation_links_test covers).
asio::ssl::context make_context() {
  static const auto key = pki::PrivateKey::generate_p256().value();
  static const auto cert =
      pki::Certificate::self_signed(key, pki::CertificateOptions::valid_for_days("tls.example", 1)).value();
  asio::ssl::context ctx(asio::ssl::context::tls);
  const std::string cert_pem = cert.to_pem();
  const std::string key_pem = key.to_pem();
  ctx.use_certificate(asio::buffer(cert_pem), asio::ssl::context::pem);
  ctx.use_private_key(asio::buffer(key_pem), asio::ssl::context::pem);
  ctx.set_verify_mode(asio::ssl::verify_none);
  return ctx;
}

// A handshake that must succeed, on either kind of stream.
template <class Stream>
asio::awaitable<void> handshake(Stream& stream, asio::ssl::stream_base::handshake_type type) {
  auto [ec] = co_await stream.async_handshake(type, kTuple);
  EXPECT_FALSE(ec) << ec.message();
}

class TlsSocketTest : public ::testing::Test {
 protected:
  // A connected pair of TCP sockets on loopback.
  std::pair<tcp::socket, tcp::socket> connected_pair() {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    tcp::socket client(io);
    client.connect(acceptor.local_endpoint());
    tcp::socket server = acceptor.accept();
    return {std::move(client), std::move(server)};
  }

  // Runs the io_context until `done()` (at most 20 s): no test hangs.
  void run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(done()) << "the exchange did not finish in 20 s";
  }

  asio::io_context io;
  asio::ssl::context ctx = make_context();
};

TEST_F(TlsSocketTest, ABatchOfManyBuffersArrivesWholeAndInOrderBothWays) {
  auto [c, s] = connected_pair();
  TlsSocket client(std::move(c), ctx);
  TlsSocket server(std::move(s), ctx);
  // 200 messages of 1,000 bytes, each with its own content: 12 records.
  std::vector<std::string> messages;
  std::string expected;
  for (int i = 0; i < 200; ++i) {
    messages.push_back(std::string(1000, static_cast<char>('a' + i % 26)) + std::to_string(i));
    expected += messages.back();
  }
  std::string got_by_server;
  std::string got_by_client;
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await handshake(server, asio::ssl::stream_base::server);
        std::array<char, 4096> buffer{};
        while (got_by_server.size() < expected.size()) {
          auto [ec, n] = co_await server.async_read_some(asio::buffer(buffer), kTuple);
          if (ec) break;
          got_by_server.append(buffer.data(), n);
        }
        auto [wec, written] = co_await asio::async_write(server, asio::buffer(got_by_server), kTuple);
        EXPECT_FALSE(wec) << wec.message();
        EXPECT_EQ(written, expected.size());
      },
      asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await handshake(client, asio::ssl::stream_base::client);
        std::vector<asio::const_buffer> batch;
        for (const auto& m : messages) batch.push_back(asio::buffer(m));
        auto [wec, written] = co_await asio::async_write(client, batch, kTuple);
        EXPECT_FALSE(wec) << wec.message();
        EXPECT_EQ(written, expected.size());
        std::array<char, 4096> buffer{};
        while (got_by_client.size() < expected.size()) {
          auto [ec, n] = co_await client.async_read_some(asio::buffer(buffer), kTuple);
          if (ec) break;
          got_by_client.append(buffer.data(), n);
        }
        done = true;
      },
      asio::detached);
  run_until([&] { return done; });
  EXPECT_EQ(got_by_server, expected);
  EXPECT_EQ(got_by_client, expected);
}

TEST_F(TlsSocketTest, ThePeersCloseNotifyIsEofAndAnAbruptCloseIsTruncated) {
  for (const bool polite : {true, false}) {
    auto [c, s] = connected_pair();
    TlsSocket client(std::move(c), ctx);
    asio::ssl::stream<tcp::socket> peer(std::move(s), ctx);
    std::optional<boost::system::error_code> read_error;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          co_await handshake(peer, asio::ssl::stream_base::server);
          if (polite) {
            co_await peer.async_shutdown(kTuple);  // close_notify (then waits for ours: never comes)
          } else {
            peer.next_layer().close();
          }
        },
        asio::detached);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          co_await handshake(client, asio::ssl::stream_base::client);
          std::array<char, 64> buffer{};
          auto [ec, n] = co_await client.async_read_some(asio::buffer(buffer), kTuple);
          EXPECT_EQ(n, 0u);
          read_error = ec;
        },
        asio::detached);
    run_until([&] { return read_error.has_value(); });
    ASSERT_TRUE(read_error.has_value());
    if (polite) {
      EXPECT_EQ(*read_error, asio::error::eof) << read_error->message();
    } else {
      EXPECT_EQ(*read_error, asio::ssl::error::stream_truncated) << read_error->message();
    }
    client.next_layer().close();
    peer.next_layer().close();
    io.restart();
    io.run_for(std::chrono::milliseconds(100));  // the peer's pending shutdown ends
  }
}

TEST_F(TlsSocketTest, APeerThatResetsFailsTheWritesWithoutASignal) {
  auto [c, s] = connected_pair();
  TlsSocket client(std::move(c), ctx);
  asio::ssl::stream<tcp::socket> peer(std::move(s), ctx);
  std::optional<boost::system::error_code> write_error;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await handshake(peer, asio::ssl::stream_base::server);
        // A reset: SO_LINGER 0, then close.
        peer.next_layer().set_option(tcp::socket::linger(true, 0));
        peer.next_layer().close();
      },
      asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await handshake(client, asio::ssl::stream_base::client);
        // The reader hears of the reset first (it takes the socket's error);
        // a write after that gets EPIPE, which write(2) would turn into a
        // SIGPIPE.
        std::array<char, 64> buffer{};
        auto [rec, rn] = co_await client.async_read_some(asio::buffer(buffer), kTuple);
        EXPECT_TRUE(rec);
        const std::string chunk(16384, 'x');
        // Bounded: the reset is seen within a few writes (at most 64 MB).
        for (int i = 0; i < 4096; ++i) {
          auto [ec, n] = co_await asio::async_write(client, asio::buffer(chunk), kTuple);
          if (ec) {
            write_error = ec;
            break;
          }
        }
      },
      asio::detached);
  run_until([&] { return write_error.has_value(); });
  ASSERT_TRUE(write_error.has_value()) << "64 MB written to a peer that reset";
  EXPECT_EQ(*write_error, asio::error::broken_pipe) << write_error->message();
}

TEST_F(TlsSocketTest, AfterCloseEveryOperationFailsAtOnceWithoutTouchingTheDescriptor) {
  auto [c, s] = connected_pair();
  TlsSocket client(std::move(c), ctx);
  TlsSocket server(std::move(s), ctx);
  bool up = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> { (void)co_await server.async_handshake(asio::ssl::stream_base::server, kTuple); },
      asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await handshake(client, asio::ssl::stream_base::client);
        up = true;
      },
      asio::detached);
  run_until([&] { return up; });

  client.next_layer().close();
  // The descriptor number is free now; a new socket may get it. Nothing of
  // the closed connection may reach that socket.
  auto [other_client, other_server] = connected_pair();
  std::vector<boost::system::error_code> errors;
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        std::array<char, 64> buffer{};
        auto [rec, rn] = co_await client.async_read_some(asio::buffer(buffer), kTuple);
        errors.push_back(rec);
        auto [wec, wn] = co_await client.async_write_some(asio::buffer(std::string("INVITE")), kTuple);
        errors.push_back(wec);
        EXPECT_EQ(rn + wn, 0u);
        done = true;
      },
      asio::detached);
  run_until([&] { return done; });
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0], asio::error::bad_descriptor);
  EXPECT_EQ(errors[1], asio::error::bad_descriptor);
  other_client.non_blocking(true);
  other_server.non_blocking(true);
  std::array<char, 16> none{};
  boost::system::error_code ec;
  EXPECT_EQ(other_server.read_some(asio::buffer(none), ec), 0u);
  EXPECT_EQ(ec, asio::error::would_block) << "nothing was written to the socket that reused the descriptor";
  EXPECT_EQ(other_client.read_some(asio::buffer(none), ec), 0u);
  EXPECT_EQ(ec, asio::error::would_block);
}

}  // namespace
}  // namespace sipsite::transport::detail
