#include <sipsite/transport/asio_timers.hpp>

namespace sipsite::transport {

AsioTimers::~AsioTimers() {
  for (auto& [id, timer] : timers_) timer->cancel();
}

sip::TimerId AsioTimers::start(sip::Duration delay, std::function<void()> fn) {
  const sip::TimerId id = ++next_id_;
  auto timer = std::make_unique<boost::asio::steady_timer>(io_, delay);
  timer->async_wait([this, id, fn = std::move(fn)](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: the entry is already gone
    timers_.erase(id);
    fn();
  });
  timers_.emplace(id, std::move(timer));
  return id;
}

void AsioTimers::cancel(sip::TimerId id) {
  if (auto it = timers_.find(id); it != timers_.end()) {
    it->second->cancel();
    timers_.erase(it);
  }
}

}  // namespace sipsite::transport
