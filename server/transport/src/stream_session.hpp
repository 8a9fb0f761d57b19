#pragma once
// Private: the writing half and the lifetime of one stream connection — a
// LAN TCP/TLS connection (sip_transport.cpp) or a federation link
// (federation_links.cpp). Each of those keeps only what differs: its reader
// (handshake, framing, registration, keep-alive pings), its limits and its
// identity.
//
// A session owns:
//   - the outbox: messages queued by enqueue(), bounded by
//     max_queued_bytes (a peer that stopped reading must not grow our
//     memory): a message that would exceed it is refused and the
//     connection closed;
//   - the writer: one task that writes everything queued (up to
//     kMaxBuffersPerWrite messages) with one async_write of a buffer
//     sequence, so a burst costs one write, not one per message;
//   - the watchdog: one task that closes the connection when the reader's
//     deadline (idle, handshake, slowloris: set_deadline) passes, or when
//     one write takes longer than write_timeout;
//   - close(): idempotent; closes the socket at once (the reader's and the
//     writer's pending operations complete with an error and their tasks
//     end). When the writer has ended, on_close hears, once, why the
//     session closed and how many queued messages were not (wholly)
//     written.
//
// Threading: one io_context thread, like its owners.

#include <sipsite/asio/task_group.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/stream_traits.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "asio_util.hpp"

namespace sipsite::transport::detail {

struct StreamSessionSettings {
  // Bytes queued and not yet written; a message that would go beyond this
  // is refused and the connection closed.
  std::size_t max_queued_bytes = 4u << 20;
  // One write (of what was queued when it started) that takes longer than
  // this closes the connection: the peer stopped reading.
  std::chrono::steady_clock::duration write_timeout = std::chrono::seconds(30);
};

enum class CloseReason {
  requested,      // close() by the owner (reader ended, shutdown, revocation)
  flushed,        // close_after_flush(): everything queued was written
  write_failed,   // the stream refused a write
  write_timeout,  // a write took longer than write_timeout
  deadline,       // the reader's deadline (idle, handshake, message) passed
  queue_full,     // enqueue() beyond max_queued_bytes
};
std::string_view to_string(CloseReason r);

struct CloseReport {
  CloseReason reason = CloseReason::requested;
  std::size_t unsent_messages = 0;  // queued, not wholly written
  std::size_t unsent_bytes = 0;
};

// asio writes at most this many buffers per system call (IOV_MAX-bounded
// iovec of its own): one batch is one writev.
constexpr std::size_t kMaxBuffersPerWrite = 64;

// Closes the lowest layer of a stream (the TCP socket under TLS) without
// throwing; Beast's test stream closes with close().
template <class Stream>
void close_lowest_layer(Stream& stream) {
  auto& lowest = boost::beast::get_lowest_layer(stream);
  if constexpr (requires(boost::system::error_code & ec) { lowest.shutdown(tcp::socket::shutdown_both, ec); }) {
    boost::system::error_code ec;
    lowest.shutdown(tcp::socket::shutdown_both, ec);
    lowest.close(ec);
  } else {
    lowest.close();
  }
}

template <class Stream>
class StreamSession : public std::enable_shared_from_this<StreamSession<Stream>> {
 public:
  using Clock = std::chrono::steady_clock;
  using OnClose = std::function<void(const CloseReport&)>;

  StreamSession(Stream stream, StreamSessionSettings settings, OnClose on_close = {})
      : stream_(std::move(stream)),
        settings_(settings),
        on_close_(std::move(on_close)),
        wake_(stream_.get_executor()),
        watchdog_(stream_.get_executor()) {}

  StreamSession(const StreamSession&) = delete;
  StreamSession& operator=(const StreamSession&) = delete;

  Stream& stream() { return stream_; }

  // Spawns the writer and the watchdog in `tasks`. An exception escaping
  // either closes this session only.
  void start(async::TaskGroup& tasks) {
    auto self = this->shared_from_this();
    writer_started_ = true;
    tasks.spawn(run_writer(self), [self] {
      self->close(CloseReason::requested);
      self->report_closed();
    });
    tasks.spawn(run_watchdog(self), [self] { self->close(CloseReason::requested); });
  }

  // Queues `bytes` for the writer. False when closed or closing, or when
  // the queue would exceed max_queued_bytes (the session closes then).
  bool enqueue(std::string bytes) {
    if (closed_ || flush_then_close_) return false;
    if (queued_bytes_ + bytes.size() > settings_.max_queued_bytes) {
      close(CloseReason::queue_full);
      return false;
    }
    queued_bytes_ += bytes.size();
    outbox_.push_back(std::move(bytes));
    wake_.cancel_one();
    return true;
  }

  // No more enqueues; the writer closes the session once what is queued is
  // written (the deadline still applies: set_deadline for a grace period).
  void close_after_flush() {
    if (closed_ || flush_then_close_) return;
    flush_then_close_ = true;
    wake_.cancel_one();
  }

  // Idempotent. The first reason is the one reported.
  void close(CloseReason reason = CloseReason::requested) {
    if (closed_) return;
    closed_ = true;
    reason_ = reason;
    close_lowest_layer(stream_);
    wake_.cancel();
    watchdog_.cancel();
    if (!writer_started_) report_closed();
  }

  bool closed() const { return closed_; }
  // Closed, or closing once the outbox is written.
  bool closing() const { return closed_ || flush_then_close_; }
  std::size_t queued_bytes() const { return queued_bytes_; }

  // The reader's deadline: the watchdog closes the session when it passes.
  void set_deadline(Clock::time_point deadline) {
    deadline_ = deadline;
    if (deadline_ < armed_) watchdog_.cancel();  // re-arms at the earlier time
  }
  Clock::time_point deadline() const { return deadline_; }

 private:
  static boost::asio::awaitable<void> run_writer(std::shared_ptr<StreamSession> s) {
    std::vector<boost::asio::const_buffer> batch;
    while (!s->closed_) {
      if (s->outbox_.empty()) {
        if (s->flush_then_close_) {
          s->close(CloseReason::flushed);
          break;
        }
        s->wake_.expires_at(Clock::time_point::max());
        co_await s->wake_.async_wait(kTuple);
        continue;
      }
      batch.clear();
      const std::size_t count = std::min(s->outbox_.size(), kMaxBuffersPerWrite);
      for (std::size_t i = 0; i < count; ++i) batch.push_back(boost::asio::buffer(s->outbox_[i]));
      s->write_deadline_ = Clock::now() + s->settings_.write_timeout;
      if (s->write_deadline_ < s->armed_) s->watchdog_.cancel();
      auto [ec, written] = co_await boost::asio::async_write(s->stream_, batch, kTuple);
      s->write_deadline_ = Clock::time_point::max();
      s->drop_written(written);
      if (ec) {
        s->close(CloseReason::write_failed);
        break;
      }
    }
  }

  static boost::asio::awaitable<void> run_watchdog(std::shared_ptr<StreamSession> s) {
    while (!s->closed_) {
      s->armed_ = std::min(s->deadline_, s->write_deadline_);
      s->watchdog_.expires_at(s->armed_);
      co_await s->watchdog_.async_wait(kTuple);
      s->armed_ = Clock::time_point::max();
      if (s->closed_) break;
      const auto now = Clock::now();
      if (now >= s->write_deadline_) {
        s->close(CloseReason::write_timeout);
      } else if (now >= s->deadline_) {
        s->close(CloseReason::deadline);
      }
    }
  }

  // Takes the messages wholly covered by `written` bytes off the outbox.
  void drop_written(std::size_t written) {
    while (!outbox_.empty() && outbox_.front().size() <= written) {
      written -= outbox_.front().size();
      queued_bytes_ -= outbox_.front().size();
      outbox_.pop_front();
    }
  }

  // Once the writer has ended (nothing refers to the outbox any more).
  void report_closed() {
    if (reported_) return;
    reported_ = true;
    CloseReport report{reason_, outbox_.size(), queued_bytes_};
    outbox_.clear();
    queued_bytes_ = 0;
    if (on_close_) on_close_(report);
  }

  Stream stream_;
  StreamSessionSettings settings_;
  OnClose on_close_;
  boost::asio::steady_timer wake_;      // tells the writer the outbox has data
  boost::asio::steady_timer watchdog_;  // the earlier of the two deadlines
  Clock::time_point deadline_ = Clock::time_point::max();
  Clock::time_point write_deadline_ = Clock::time_point::max();
  Clock::time_point armed_ = Clock::time_point::max();  // what the watchdog waits for
  std::deque<std::string> outbox_;
  std::size_t queued_bytes_ = 0;
  CloseReason reason_ = CloseReason::requested;
  bool closed_ = false;
  bool flush_then_close_ = false;
  bool writer_started_ = false;
  bool reported_ = false;
};

extern template class StreamSession<tcp::socket>;
extern template class StreamSession<TlsStream>;

}  // namespace sipsite::transport::detail
