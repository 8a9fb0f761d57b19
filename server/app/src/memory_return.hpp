#pragma once
// Gives the allocator's free memory back to the kernel after a burst.
//
// Finished SIP transactions are freed one by one as their timers end, but
// glibc keeps freed chunks in its heap: after a burst of calls the process
// stays at its high-water mark (measured: 490 MB 40 s after 30 s of calls at
// the maximum rate). Every `interval`, when the live count of transactions
// has fallen below half of its peak since the last trim (and that peak was
// a real burst), malloc_trim(0) returns the free pages (docs/BENCHMARKS.md
// has the figures that chose it over pooling or fewer arenas: the SIP path
// is one thread, so it allocates from one arena).
//
// Before the trim, `compact` lets the SIP side shrink what std containers
// keep at their high-water mark (hash maps' bucket arrays) and the call
// records' worker drop its connection's page cache and trim its own arena.
//
// Threading: the io_context's thread (the SIP strand).

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <functional>

namespace sipsite::app {

// malloc_trim(0): every arena's free pages back to the kernel. For after a
// burst, or after a large transient read (the whole database at start-up).
void return_free_memory();

class MemoryReturn {
 public:
  // `live` reads the number of live transactions; `compact` shrinks what
  // the SIP side keeps after a burst (may be empty).
  MemoryReturn(boost::asio::io_context& io, std::function<std::size_t()> live, std::function<void()> compact,
               std::chrono::milliseconds interval = std::chrono::seconds(10), std::size_t burst = 5000);
  MemoryReturn(const MemoryReturn&) = delete;
  MemoryReturn& operator=(const MemoryReturn&) = delete;

  void start();
  void stop();

 private:
  void schedule();
  void check();

  boost::asio::steady_timer timer_;
  std::function<std::size_t()> live_;
  std::function<void()> compact_;
  std::chrono::milliseconds interval_;
  std::size_t burst_;
  std::size_t peak_ = 0;
  bool stopped_ = true;
};

}  // namespace sipsite::app
