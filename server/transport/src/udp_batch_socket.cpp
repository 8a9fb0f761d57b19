#include "udp_batch_socket.hpp"

#include <boost/asio/post.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace sipsite::transport::detail {

namespace {
constexpr std::size_t kMaxDatagram = 65535;
}  // namespace

// The receive side's memory: kUdpBatch slots of the largest datagram (2 MiB
// of address space; only the pages datagrams touch become resident).
struct UdpBatchSocket::Buffers {
  std::vector<char> data = std::vector<char>(kUdpBatch * kMaxDatagram);
  std::array<mmsghdr, kUdpBatch> headers{};
  std::array<iovec, kUdpBatch> iov{};
  std::array<sockaddr_storage, kUdpBatch> from{};
};

UdpBatchSocket::UdpBatchSocket(boost::asio::io_context& io) : io_(io), socket_(io), in_(std::make_unique<Buffers>()) {}

UdpBatchSocket::~UdpBatchSocket() = default;

std::size_t UdpBatchSocket::receive_batch(const OnDatagram& on_datagram) {
  Buffers& b = *in_;
  for (std::size_t i = 0; i < kUdpBatch; ++i) {
    b.iov[i] = iovec{b.data.data() + i * kMaxDatagram, kMaxDatagram};
    b.headers[i] = mmsghdr{};
    b.headers[i].msg_hdr.msg_iov = &b.iov[i];
    b.headers[i].msg_hdr.msg_iovlen = 1;
    b.headers[i].msg_hdr.msg_name = &b.from[i];
    b.headers[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
  }
  int n = 0;
  for (int errors = 0;; ++errors) {
    n = ::recvmmsg(socket_.native_handle(), b.headers.data(), kUdpBatch, MSG_DONTWAIT, nullptr);
    if (n >= 0) break;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errors == 8) return 0;
    // A queued socket error (on Linux, the ICMP error of an earlier send)
    // is reported once and consumed: the datagrams behind it are read on.
  }
  if (n == 0) return 0;
  for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
    udp::endpoint from;
    const auto len = static_cast<std::size_t>(b.headers[i].msg_hdr.msg_namelen);
    if (len == 0 || len > from.capacity()) continue;
    std::memcpy(from.data(), &b.from[i], len);
    from.resize(len);
    on_datagram(std::string_view(b.data.data() + i * kMaxDatagram, b.headers[i].msg_len), from);
    if (!socket_.is_open()) break;  // the handler stopped the transport
  }
  return static_cast<std::size_t>(n);
}

void UdpBatchSocket::send(const udp::endpoint& to, std::string bytes) {
  outbox_.push_back(Outgoing{to, std::move(bytes)});
  if (flush_posted_ || waiting_writable_) return;
  flush_posted_ = true;
  boost::asio::post(io_, [self = shared_from_this()] {
    self->flush_posted_ = false;
    self->flush();
  });
}

void UdpBatchSocket::flush() {
  if (waiting_writable_ || outbox_.empty()) return;
  if (!socket_.is_open()) {
    outbox_.clear();
    return;
  }
  std::array<mmsghdr, kUdpBatch> headers{};
  std::array<iovec, kUdpBatch> iov{};
  std::size_t sent = 0;
  while (sent < outbox_.size()) {
    const std::size_t n = std::min(kUdpBatch, outbox_.size() - sent);
    for (std::size_t i = 0; i < n; ++i) {
      Outgoing& o = outbox_[sent + i];
      iov[i] = iovec{o.bytes.data(), o.bytes.size()};
      headers[i] = mmsghdr{};
      headers[i].msg_hdr.msg_iov = &iov[i];
      headers[i].msg_hdr.msg_iovlen = 1;
      headers[i].msg_hdr.msg_name = o.to.data();
      headers[i].msg_hdr.msg_namelen = static_cast<socklen_t>(o.to.size());
    }
    const int r = ::sendmmsg(socket_.native_handle(), headers.data(), static_cast<unsigned>(n), MSG_DONTWAIT);
    if (r > 0) {
      sent += static_cast<std::size_t>(r);
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // The socket's send buffer is full: go on once it drains.
      outbox_.erase(outbox_.begin(), outbox_.begin() + static_cast<std::ptrdiff_t>(sent));
      waiting_writable_ = true;
      socket_.async_wait(udp::socket::wait_write, [self = shared_from_this()](const boost::system::error_code&) {
        self->waiting_writable_ = false;
        self->flush();
      });
      return;
    }
    // The first datagram failed (unreachable, too large, an ICMP error of an
    // earlier send): it is lost, as a datagram may be; the rest go on.
    ++sent;
  }
  outbox_.clear();
}

}  // namespace sipsite::transport::detail
