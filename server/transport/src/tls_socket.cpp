#include "tls_socket.hpp"

#include <boost/asio/ssl/error.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>

#include <sys/socket.h>

#include <cerrno>
#include <climits>
#include <new>

namespace sipsite::transport::detail {

namespace {

// OpenSSL's socket BIO writes with write(2): a peer that reset the
// connection would raise SIGPIPE and stop the daemon. This BIO is the same
// on send(2)/recv(2) with MSG_NOSIGNAL; its data is the descriptor (an int
// of its own, made by create and freed by destroy).
int descriptor(BIO* b) { return *static_cast<const int*>(BIO_get_data(b)); }

bool retryable(int e) { return e == EAGAIN || e == EWOULDBLOCK || e == EINTR; }

int socket_write(BIO* b, const char* data, int len) {
  BIO_clear_retry_flags(b);
  const ssize_t n = ::send(descriptor(b), data, static_cast<std::size_t>(len), MSG_NOSIGNAL);
  if (n < 0 && retryable(errno)) BIO_set_retry_write(b);
  return static_cast<int>(n);
}

int socket_read(BIO* b, char* data, int len) {
  BIO_clear_retry_flags(b);
  const ssize_t n = ::recv(descriptor(b), data, static_cast<std::size_t>(len), MSG_NOSIGNAL);
  if (n < 0 && retryable(errno)) BIO_set_retry_read(b);
  return static_cast<int>(n);
}

long socket_ctrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

int socket_create(BIO* b) {
  int* fd = new (std::nothrow) int(-1);  // no exception through OpenSSL's C frames
  if (fd == nullptr) return 0;
  BIO_set_data(b, fd);
  BIO_set_init(b, 1);
  return 1;
}

int socket_destroy(BIO* b) {
  delete static_cast<int*>(BIO_get_data(b));
  BIO_set_data(b, nullptr);
  return 1;
}

const BIO_METHOD* socket_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m =
        BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR, "sipsite nosignal socket");
    BIO_meth_set_write(m, socket_write);
    BIO_meth_set_read(m, socket_read);
    BIO_meth_set_ctrl(m, socket_ctrl);
    BIO_meth_set_create(m, socket_create);
    BIO_meth_set_destroy(m, socket_destroy);
    return m;
  }();
  return method;
}

}  // namespace

TlsSocket::TlsSocket(boost::asio::io_context& io, boost::asio::ssl::context& ctx)
    : TlsSocket(boost::asio::ip::tcp::socket(io), ctx) {}

TlsSocket::TlsSocket(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& ctx)
    : socket_(std::move(socket)), ssl_(SSL_new(ctx.native_handle())) {
  if (ssl_ != nullptr) {
    SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    // Read what the socket has (up to the record buffer), not a record's
    // 5-byte header and then its body: one recv(2) per batch, not two per
    // record.
    SSL_set_read_ahead(ssl_, 1);
  }
}

TlsSocket::TlsSocket(TlsSocket&& other) noexcept
    : socket_(std::move(other.socket_)), ssl_(std::exchange(other.ssl_, nullptr)) {}

TlsSocket::~TlsSocket() {
  if (ssl_ != nullptr) SSL_free(ssl_);  // the BIO does not own the descriptor
}

TlsSocket::Outcome TlsSocket::attempt(Handshake& h) {
  if (ssl_ == nullptr) return {Step::done, boost::asio::error::no_memory, 0};
  if (!attached()) {
    boost::system::error_code ec;
    socket_.non_blocking(true, ec);
    if (ec) return {Step::done, ec, 0};
    BIO* bio = BIO_new(socket_method());
    if (bio == nullptr) return {Step::done, boost::asio::error::no_memory, 0};
    *static_cast<int*>(BIO_get_data(bio)) = socket_.native_handle();
    SSL_set_bio(ssl_, bio, bio);  // one reference, owned by the SSL object
    if (h.type == boost::asio::ssl::stream_base::client) {
      SSL_set_connect_state(ssl_);
    } else {
      SSL_set_accept_state(ssl_);
    }
  }
  ERR_clear_error();
  const int r = SSL_do_handshake(ssl_);
  return r == 1 ? Outcome{Step::done, {}, 0} : failure(r);
}

TlsSocket::Outcome TlsSocket::attempt(Read& r) {
  if (r.into.size() == 0) return {Step::done, {}, 0};
  if (!attached()) return {Step::done, boost::asio::error::not_connected, 0};
  ERR_clear_error();
  const int n = SSL_read(ssl_, r.into.data(), static_cast<int>(std::min<std::size_t>(r.into.size(), INT_MAX)));
  return n > 0 ? Outcome{Step::done, {}, static_cast<std::size_t>(n)} : failure(n);
}

TlsSocket::Outcome TlsSocket::attempt(Write& w) {
  if (w.bytes.empty()) return {Step::done, {}, 0};
  if (!attached()) return {Step::done, boost::asio::error::not_connected, 0};
  ERR_clear_error();
  const int n = SSL_write(ssl_, w.bytes.data(), static_cast<int>(w.bytes.size()));
  return n > 0 ? Outcome{Step::done, {}, static_cast<std::size_t>(n)} : failure(n);
}

TlsSocket::Outcome TlsSocket::failure(int result) {
  const int saved_errno = errno;
  const int kind = SSL_get_error(ssl_, result);
  if (kind == SSL_ERROR_WANT_READ) return {Step::want_read, {}, 0};
  if (kind == SSL_ERROR_WANT_WRITE) return {Step::want_write, {}, 0};
  Outcome out{Step::done, {}, 0};
  const unsigned long first = ERR_peek_error();
  if (kind == SSL_ERROR_ZERO_RETURN) {
    out.ec = boost::asio::error::eof;  // the peer's close_notify
  } else if (kind == SSL_ERROR_SYSCALL && first == 0) {
    out.ec = saved_errno != 0 && result < 0 ? boost::system::error_code(saved_errno, boost::system::system_category())
                                            : boost::asio::ssl::error::stream_truncated;
  } else if (ERR_GET_REASON(first) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
    out.ec = boost::asio::ssl::error::stream_truncated;  // closed without close_notify
  } else {
    out.ec = first != 0 ? boost::system::error_code(static_cast<int>(first), boost::asio::error::get_ssl_category())
                        : boost::system::error_code(boost::asio::ssl::error::unexpected_result);
  }
  // The error queue is the thread's, shared by every connection on it.
  ERR_clear_error();
  return out;
}

}  // namespace sipsite::transport::detail
