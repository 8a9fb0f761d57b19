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
// it runs); `apply` is called on the io thread.

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

  // Loads everything (posted to the io thread like every update), then
  // polls until stop().
  void start();
  void stop();
  // Look now rather than at the next tick (after the daemon's own writes).
  void poke();

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
  bool stopping_ = false;
  bool poked_ = false;
  std::thread thread_;
};

}  // namespace sipsite::app
