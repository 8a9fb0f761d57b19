#pragma once
// A Clock and Timers driven by hand: tests (and fuzzers) advance time and
// the due timers fire in deadline order. Not for production use.

#include "sipsite/sip/io.hpp"

#include <map>
#include <utility>

namespace sipsite::sip {

class ManualTimers final : public Clock, public Timers {
 public:
  TimePoint now() const override { return now_; }

  TimerId start(Duration delay, std::function<void()> fn) override {
    const TimerId id = ++next_id_;
    pending_.emplace(std::pair{now_ + delay, id}, std::move(fn));
    return id;
  }

  void cancel(TimerId id) override {
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (it->first.second == id) {
        pending_.erase(it);
        return;
      }
    }
  }

  // Moves time forward by `d`, firing every timer that falls due, in order
  // (timers started by a firing timer fire too if they fall due in `d`).
  void advance(Duration d) {
    const TimePoint target = now_ + d;
    while (!pending_.empty() && pending_.begin()->first.first <= target) {
      auto node = pending_.extract(pending_.begin());
      now_ = node.key().first;
      node.mapped()();
    }
    now_ = target;
  }

  std::size_t pending() const { return pending_.size(); }

 private:
  TimePoint now_{std::chrono::hours(1)};
  TimerId next_id_ = 0;
  std::map<std::pair<TimePoint, TimerId>, std::function<void()>> pending_;
};

}  // namespace sipsite::sip
