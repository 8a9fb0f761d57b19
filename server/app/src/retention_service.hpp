#pragma once
// The retention purge of the running daemon: Purger (server/store) once at
// start and then every hour, on a worker thread of its own with its own
// database connection, so the SIP and console threads never wait for it
// (each purge batch is a short transaction; see purger.hpp).
//
// Thread safety: construct, start() and stop() on the io_context's thread
// (or before it runs / after it stopped); run_once() from one thread at a
// time, not while started.

#include <sipsite/store/database.hpp>
#include <sipsite/store/purger.hpp>
#include <sipsite/store/unix_time.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>

namespace sipsite::app {

struct RetentionServiceSettings {
  std::chrono::seconds interval{std::chrono::hours(1)};
  store::PurgeLimits limits;
  // Unix seconds; tests substitute their own clock.
  std::function<std::int64_t()> now = store::unix_now;
};

class RetentionService {
 public:
  // `db` is this service's own connection (open_site(g)->db).
  explicit RetentionService(store::Database db, RetentionServiceSettings settings = {});
  ~RetentionService();
  RetentionService(const RetentionService&) = delete;
  RetentionService& operator=(const RetentionService&) = delete;

  // One purge as of `now`, on the calling thread; logs what it removed.
  store::Result<store::PurgeReport> run_once(std::int64_t now);

  // Purges now and then every `interval`: the timer runs on `io`, the purge
  // on the worker thread. A purge still running when the next is due is
  // not doubled.
  void start(boost::asio::io_context& io);
  // Cancels the timer, asks a running purge to stop after its current
  // batch, and waits for it.
  void stop();

 private:
  void arm();
  void purge_in_background();

  store::Database db_;
  RetentionServiceSettings settings_;
  boost::asio::thread_pool worker_{1};
  std::optional<boost::asio::steady_timer> timer_;
  std::atomic<bool> busy_{false};
  std::atomic<bool> stopping_{false};
};

}  // namespace sipsite::app
