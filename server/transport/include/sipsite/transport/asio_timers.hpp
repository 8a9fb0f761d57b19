#pragma once
// The SIP core's Clock and Timers on an Asio io_context. Callbacks run on
// that context's thread (the SIP strand: the context is run by one thread).

#include <sipsite/sip/io.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <unordered_map>

namespace sipsite::transport {

class AsioTimers final : public sip::Clock, public sip::Timers {
 public:
  explicit AsioTimers(boost::asio::io_context& io) : io_(io) {}
  ~AsioTimers() override;

  sip::TimePoint now() const override { return std::chrono::steady_clock::now(); }
  sip::TimerId start(sip::Duration delay, std::function<void()> fn) override;
  void cancel(sip::TimerId id) override;
  std::size_t pending() const { return timers_.size(); }

 private:
  boost::asio::io_context& io_;
  sip::TimerId next_id_ = 0;
  std::unordered_map<sip::TimerId, std::unique_ptr<boost::asio::steady_timer>> timers_;
};

}  // namespace sipsite::transport
