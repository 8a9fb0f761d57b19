#include "memory_return.hpp"

#include <malloc.h>

#include <algorithm>
#include <utility>

namespace sipsite::app {

MemoryReturn::MemoryReturn(boost::asio::io_context& io, std::function<std::size_t()> live,
                           std::function<void()> compact, std::chrono::milliseconds interval, std::size_t burst)
    : timer_(io), live_(std::move(live)), compact_(std::move(compact)), interval_(interval), burst_(burst) {}

void MemoryReturn::start() {
  stopped_ = false;
  schedule();
}

void MemoryReturn::stop() {
  stopped_ = true;
  timer_.cancel();
}

void MemoryReturn::schedule() {
  timer_.expires_after(interval_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    check();
    schedule();
  });
}

void return_free_memory() { malloc_trim(0); }

void MemoryReturn::check() {
  const std::size_t now = live_();
  peak_ = std::max(peak_, now);
  if (peak_ >= burst_ && now < peak_ / 2) {
    if (compact_) compact_();
    return_free_memory();
    peak_ = now;
  }
}

}  // namespace sipsite::app
