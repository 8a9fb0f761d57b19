#pragma once
// The SIP core's Clock and Timers on an Asio io_context. Callbacks run on
// that context's thread (the SIP strand: the context is run by one thread).
//
// One Asio timer for all of them: the core starts several timers per
// transaction and cancels most of them, and an Asio timer each (its own
// allocation, wait operation and, when cancelled, an aborted completion
// through the scheduler) was ~2.5 % of the SIP thread at the maximum call
// rate. Deadlines wait in an ordered map (a cancel removes its entry, so a
// long timer cancelled early holds no memory), and the Asio timer is armed
// for the earliest.

#include <sipsite/sip/io.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <map>
#include <memory>
#include <unordered_map>
#include <utility>

namespace sipsite::transport {

class AsioTimers final : public sip::Clock, public sip::Timers {
 public:
  explicit AsioTimers(boost::asio::io_context& io) : wake_(io) {}
  ~AsioTimers() override;
  AsioTimers(const AsioTimers&) = delete;
  AsioTimers& operator=(const AsioTimers&) = delete;

  sip::TimePoint now() const override { return std::chrono::steady_clock::now(); }
  sip::TimerId start(sip::Duration delay, std::function<void()> fn) override;
  void cancel(sip::TimerId id) override;
  // Timers started and neither fired nor cancelled.
  std::size_t pending() const { return pending_.size(); }
  // After a burst: the id map's emptied bucket array goes back.
  void compact();

 private:
  using Deadline = std::pair<sip::TimePoint, sip::TimerId>;  // ties fire in start order
  void arm();
  void fire_due();

  boost::asio::steady_timer wake_;
  sip::TimePoint armed_for_ = sip::TimePoint::max();
  sip::TimerId next_id_ = 0;
  std::map<Deadline, std::function<void()>> pending_;
  std::unordered_map<sip::TimerId, sip::TimePoint> deadline_of_;
  // Tells a completion that outlived this object (the io_context runs the
  // aborted wait after the destructor) not to touch it.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sipsite::transport
