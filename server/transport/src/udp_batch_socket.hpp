#pragma once
// A UDP socket read and written in batches: recvmmsg(2) takes every
// datagram waiting (up to kUdpBatch) in one system call after one readiness
// wake-up (Asio's async_wait), and sends queued during a batch leave
// together through sendmmsg(2). A busy socket then costs one wake-up and two
// system calls per batch instead of two per datagram.
//
// Threading: the io_context's thread only.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::transport::detail {

inline constexpr std::size_t kUdpBatch = 32;

class UdpBatchSocket : public std::enable_shared_from_this<UdpBatchSocket> {
 public:
  using udp = boost::asio::ip::udp;
  using OnDatagram = std::function<void(std::string_view bytes, const udp::endpoint& from)>;

  explicit UdpBatchSocket(boost::asio::io_context& io);
  ~UdpBatchSocket();
  UdpBatchSocket(const UdpBatchSocket&) = delete;
  UdpBatchSocket& operator=(const UdpBatchSocket&) = delete;

  udp::socket& socket() { return socket_; }

  // Reads what is waiting, without blocking: up to kUdpBatch datagrams,
  // each passed to `on_datagram`. Returns how many were read; fewer than
  // kUdpBatch means the socket's queue ran empty.
  std::size_t receive_batch(const OnDatagram& on_datagram);

  // Queues a datagram; queued datagrams leave at the next flush(), which is
  // posted on the io_context when the first one is queued.
  void send(const udp::endpoint& to, std::string bytes);
  // Sends everything queued (sendmmsg); if the socket's buffer is full,
  // waits until it is writable and goes on.
  void flush();

 private:
  struct Outgoing {
    udp::endpoint to;
    std::string bytes;
  };
  struct Buffers;

  boost::asio::io_context& io_;
  udp::socket socket_;
  std::unique_ptr<Buffers> in_;
  std::vector<Outgoing> outbox_;
  bool flush_posted_ = false;
  bool waiting_writable_ = false;
};

}  // namespace sipsite::transport::detail
