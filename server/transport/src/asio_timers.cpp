#include <sipsite/transport/asio_timers.hpp>

#include <sipsite/common/hash_map.hpp>

namespace sipsite::transport {

AsioTimers::~AsioTimers() {
  *alive_ = false;
  wake_.cancel();
}

sip::TimerId AsioTimers::start(sip::Duration delay, std::function<void()> fn) {
  const sip::TimerId id = ++next_id_;
  const sip::TimePoint at = now() + delay;
  pending_.emplace(Deadline{at, id}, std::move(fn));
  deadline_of_.emplace(id, at);
  if (at < armed_for_) arm();
  return id;
}

void AsioTimers::cancel(sip::TimerId id) {
  const auto it = deadline_of_.find(id);
  if (it == deadline_of_.end()) return;  // fired, cancelled, or never started
  pending_.erase(Deadline{it->second, id});
  deadline_of_.erase(it);
  // A wait armed for it stays: it finds nothing due and arms for the next.
}

void AsioTimers::compact() { common::shrink_if_sparse(deadline_of_); }

void AsioTimers::arm() {
  if (pending_.empty()) {
    armed_for_ = sip::TimePoint::max();
    return;
  }
  armed_for_ = pending_.begin()->first.first;
  wake_.expires_at(armed_for_);  // cancels a wait for a later deadline
  wake_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive) return;  // re-armed, or destroyed
    armed_for_ = sip::TimePoint::max();
    fire_due();
  });
}

// Runs every timer whose deadline has passed, earliest first; a callback
// may start or cancel timers (the map is read afresh each time).
void AsioTimers::fire_due() {
  const sip::TimePoint t = now();
  while (!pending_.empty() && pending_.begin()->first.first <= t) {
    auto node = pending_.extract(pending_.begin());
    deadline_of_.erase(node.key().second);
    node.mapped()();
  }
  if (armed_for_ == sip::TimePoint::max()) arm();
}

}  // namespace sipsite::transport
