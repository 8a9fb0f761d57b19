#pragma once
// Keeps the daemon's in-memory state (users, pinned peers, settings) in step
// with the database, off the io thread: a thread of its own, with its own
// connection, looks at PRAGMA data_version four times a second (well inside
// DESIGN.md's one second); when another connection committed, it reads the
// change log (migration 008) after the last seq it applied, reads only the
// rows named there, parses their certificates, builds the next pinned set
// (LiveStateMirror) and posts the result to the io thread, which swaps and
// applies it in O(changed). At start, or when the change log has a gap, it
// reads everything once (still on its thread).
//
// Thread safety: construct, start() and stop() on the io thread (or before
// it runs); `apply` is called on the io thread, but for the first load,
// which start() applies on the calling thread before it returns (so a site
// never answers SIP before its users and peers are known). catch_up() is
// for any other thread (the console's).

#include "live_state_mirror.hpp"

#include <sipsite/store/database.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace sipsite::app {

class LiveStateWatcher {
 public:
  using Apply = std::function<void(LiveStateUpdate)>;
  // `db`: this watcher's own connection. `domain`: this site's (users of
  // other domains are not kept).
  LiveStateWatcher(boost::asio::io_context& io, store::Database db, std::string domain, Apply apply,
                   std::chrono::milliseconds interval = std::chrono::milliseconds(250));
  ~LiveStateWatcher();
  LiveStateWatcher(const LiveStateWatcher&) = delete;
  LiveStateWatcher& operator=(const LiveStateWatcher&) = delete;

  // Loads everything and applies it before returning, then polls on its
  // own thread until stop().
  void start();
  void stop();
  // Blocks the calling thread (never the io thread) until every change
  // committed before the call has been applied on the io thread, or `bound`
  // has passed (false). The console calls it after its own writes, so that
  // "the password is changed" is true when the admin reads it.
  bool catch_up(std::chrono::milliseconds bound);

 private:
  void run();
  // One look at the database; an update when something changed.
  std::optional<LiveStateUpdate> poll();
  std::optional<LiveStateUpdate> load_everything();

  boost::asio::io_context& io_;
  store::Database db_;
  LiveStateMirror mirror_;
  Apply apply_;
  std::chrono::milliseconds interval_;
  std::int64_t data_version_ = -1;
  std::int64_t cursor_ = -1;  // last change-log seq applied; -1: nothing loaded yet
  std::mutex mutex_;
  std::condition_variable wake_;
  bool running_ = false;  // start() returned (catch_up() may run on another thread meanwhile)
  bool stopping_ = false;
  bool poked_ = false;
  // catch_up(): tickets asked for, and the highest whose look has been
  // applied on the io thread.
  std::uint64_t asked_ = 0;
  std::uint64_t applied_ = 0;
  std::condition_variable caught_up_;
  std::thread thread_;
};

}  // namespace sipsite::app
