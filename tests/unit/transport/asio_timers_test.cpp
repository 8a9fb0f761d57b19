// AsioTimers on a real io_context: one Asio timer serves every SIP timer.
// What is asserted is order and which callbacks run, never how long they
// took; each run of the context is bounded.

#include <sipsite/transport/asio_timers.hpp>

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sipsite::transport {
namespace {

using namespace std::chrono_literals;

// Runs the context until `done` or 5 s, whichever first.
template <typename Done>
void run_until(boost::asio::io_context& io, Done done) {
  for (int i = 0; i < 500 && !done(); ++i) {
    io.run_for(10ms);
    io.restart();
  }
}

TEST(AsioTimersTest, TimersFireInDeadlineOrderAndNeverFromInsideStart) {
  boost::asio::io_context io;
  AsioTimers timers(io);
  std::string fired;
  timers.start(30ms, [&] { fired += "c"; });
  timers.start(10ms, [&] { fired += "a"; });
  timers.start(20ms, [&] { fired += "b"; });
  timers.start(0ms, [&] { fired += "0"; });
  EXPECT_EQ(fired, "");  // never from inside start()
  EXPECT_EQ(timers.pending(), 4U);
  run_until(io, [&] { return fired.size() == 4; });
  EXPECT_EQ(fired, "0abc");
  EXPECT_EQ(timers.pending(), 0U);
}

TEST(AsioTimersTest, ACancelledTimerNeverRunsEvenWhenItWasTheEarliest) {
  boost::asio::io_context io;
  AsioTimers timers(io);
  std::string fired;
  const auto first = timers.start(5ms, [&] { fired += "first"; });
  timers.start(20ms, [&] { fired += "second"; });
  timers.cancel(first);
  timers.cancel(first);  // twice: a no-op
  timers.cancel(12345);  // unknown: a no-op
  EXPECT_EQ(timers.pending(), 1U);
  run_until(io, [&] { return !fired.empty(); });
  EXPECT_EQ(fired, "second");
}

TEST(AsioTimersTest, ACallbackMayStartAnEarlierTimerAndCancelALaterOne) {
  boost::asio::io_context io;
  AsioTimers timers(io);
  std::vector<std::string> fired;
  sip::TimerId later = 0;
  timers.start(5ms, [&] {
    fired.emplace_back("first");
    timers.start(0ms, [&] { fired.emplace_back("started by first"); });
    timers.cancel(later);
  });
  later = timers.start(15ms, [&] { fired.emplace_back("later"); });
  timers.start(25ms, [&] { fired.emplace_back("last"); });
  run_until(io, [&] { return fired.size() >= 3; });
  EXPECT_EQ(fired, (std::vector<std::string>{"first", "started by first", "last"}));
}

TEST(AsioTimersTest, DestroyedWithTimersPendingRunsNoneOfThem) {
  boost::asio::io_context io;
  bool ran = false;
  {
    AsioTimers timers(io);
    timers.start(1ms, [&] { ran = true; });
  }
  io.run_for(50ms);  // the aborted wait completes after the destructor
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace sipsite::transport
