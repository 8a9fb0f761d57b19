#pragma once
// Private: a TLS connection that OpenSSL drives on the TCP socket itself
// (a BIO on the non-blocking socket), for the LAN's TLS connections and
// the federation links.
//
// Why not asio::ssl::stream: it keeps, for the connection's whole life, two
// 17 KiB buffers of its own and a BIO pair with two more, about 68 KiB that
// nothing can release; with 1,000 idle federation links that was most of
// the site's memory (issue 18: 89 KiB per idle link against 50). Here the
// record buffers are OpenSSL's own, which SSL_MODE_RELEASE_BUFFERS frees
// while a connection is idle, and nothing sits between OpenSSL and the
// kernel.
//
// Each operation tries OpenSSL first and waits for the socket only when
// OpenSSL says it must (WANT_READ / WANT_WRITE), then tries again: the same
// contract as asio::ssl::stream (one read and one write may be outstanding
// at once; a handshake alone). A write takes up to one record (16 KiB) of
// its buffer sequence, copied into one buffer, so that queued messages go
// out in one record and one system call (SSL_MODE_ENABLE_PARTIAL_WRITE: it
// reports what that record carried).
//
// After close() of the socket (next_layer()), every operation fails at once
// with bad_descriptor and none touches OpenSSL again: the closed socket's
// descriptor number may already belong to another connection.
//
// Threading: one io_context thread, like its owners.

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream_base.hpp>

#include <openssl/ssl.h>

#include <cstddef>
#include <string>
#include <utility>

namespace sipsite::transport::detail {

class TlsSocket {
 public:
  using executor_type = boost::asio::ip::tcp::socket::executor_type;
  using next_layer_type = boost::asio::ip::tcp::socket;
  using lowest_layer_type = boost::asio::ip::tcp::socket::lowest_layer_type;

  // The SSL object takes its own reference to the context's SSL_CTX.
  TlsSocket(boost::asio::io_context& io, boost::asio::ssl::context& ctx);
  TlsSocket(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& ctx);
  TlsSocket(TlsSocket&& other) noexcept;
  TlsSocket& operator=(TlsSocket&&) = delete;
  TlsSocket(const TlsSocket&) = delete;
  TlsSocket& operator=(const TlsSocket&) = delete;
  ~TlsSocket();

  executor_type get_executor() { return socket_.get_executor(); }
  next_layer_type& next_layer() { return socket_; }
  lowest_layer_type& lowest_layer() { return socket_.lowest_layer(); }
  SSL* native_handle() { return ssl_; }

  // Signature void(error_code).
  template <class Token>
  auto async_handshake(boost::asio::ssl::stream_base::handshake_type type, Token&& token) {
    return boost::asio::async_compose<Token, void(boost::system::error_code)>(Op<Handshake>{*this, Handshake{type}},
                                                                              token, socket_);
  }

  // Signature void(error_code, std::size_t): at least one byte, or an error
  // (eof after the peer's close_notify, stream_truncated without one).
  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    boost::asio::mutable_buffer first;
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it) {
      if (boost::asio::buffer_size(*it) > 0) {
        first = *it;
        break;
      }
    }
    return boost::asio::async_compose<Token, void(boost::system::error_code, std::size_t)>(Op<Read>{*this, Read{first}},
                                                                                           token, socket_);
  }

  // Signature void(error_code, std::size_t): the bytes of `buffers` (from
  // its start) that went out, at most one record's worth.
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    Write w;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers) && w.bytes.size() < kRecord; ++it) {
      const boost::asio::const_buffer b = *it;
      const std::size_t take = std::min(b.size(), kRecord - w.bytes.size());
      w.bytes.append(static_cast<const char*>(b.data()), take);
    }
    return boost::asio::async_compose<Token, void(boost::system::error_code, std::size_t)>(
        Op<Write>{*this, std::move(w)}, token, socket_);
  }

 private:
  static constexpr std::size_t kRecord = 16384;  // TLS's largest record

  // One OpenSSL call's outcome: done (with a result), or wait for the
  // socket to be readable or writable and call again.
  enum class Step { done, want_read, want_write };
  struct Outcome {
    Step step = Step::done;
    boost::system::error_code ec;
    std::size_t bytes = 0;
  };

  struct Handshake {
    boost::asio::ssl::stream_base::handshake_type type;
  };
  struct Read {
    boost::asio::mutable_buffer into;
  };
  struct Write {
    std::string bytes;
  };

  Outcome attempt(Handshake& h);
  Outcome attempt(Read& r);
  Outcome attempt(Write& w);
  // Classifies `result` of an SSL_* call that did not succeed.
  Outcome failure(int result);

  template <class What>
  struct Op {
    TlsSocket& socket;
    What what;
    bool started = false;
    Outcome result{};

    template <class Self>
    void operator()(Self& self, boost::system::error_code wait_error = {}) {
      if (started && result.step == Step::done) return finish(self);  // the posted completion
      const bool first = !started;
      started = true;
      if (wait_error) {
        result = Outcome{Step::done, wait_error, 0};
      } else if (!socket.socket_.is_open()) {
        result = Outcome{Step::done, boost::asio::error::bad_descriptor, 0};
      } else {
        result = socket.attempt(what);
      }
      switch (result.step) {
        case Step::want_read:
          socket.socket_.async_wait(boost::asio::ip::tcp::socket::wait_read, std::move(self));
          return;
        case Step::want_write:
          socket.socket_.async_wait(boost::asio::ip::tcp::socket::wait_write, std::move(self));
          return;
        case Step::done:
          // Never complete inside the initiating call: post it instead.
          if (first) {
            boost::asio::post(socket.socket_.get_executor(), std::move(self));
            return;
          }
          return finish(self);
      }
    }

    template <class Self>
    void finish(Self& self) {
      if constexpr (std::is_same_v<What, Handshake>) {
        self.complete(result.ec);
      } else {
        self.complete(result.ec, result.bytes);
      }
    }
  };

  // The socket's BIO is attached at the handshake (the socket is open by then).
  bool attached() const { return ssl_ != nullptr && SSL_get_rbio(ssl_) != nullptr; }

  boost::asio::ip::tcp::socket socket_;
  SSL* ssl_ = nullptr;
};

}  // namespace sipsite::transport::detail
