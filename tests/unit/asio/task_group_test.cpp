#include <sipsite/asio/task_group.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace sipsite::async {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// A bound on io_context::run_for so a bug cannot hang the test; every
// assertion is on counts, not on how long anything took.
constexpr auto kBound = 10s;

// Waits "forever" (until cancelled), then counts that it got to run on.
asio::awaitable<void> wait_forever(int& woke) {
  asio::steady_timer timer(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  ++woke;
}

// Does `steps` turns through the io_context, counting each.
asio::awaitable<void> work(int steps, int& done) {
  for (int i = 0; i < steps; ++i) {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    ++done;
  }
}

asio::awaitable<void> throw_after_a_turn(std::string what) {
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  throw std::runtime_error(what);
}

struct Reported {
  std::vector<std::pair<std::string, std::string>> escapes;
};

class TaskGroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    set_escape_reporter([this](std::string_view component, std::string_view what) {
      reported.escapes.emplace_back(std::string(component), std::string(what));
    });
  }
  void TearDown() override { set_escape_reporter({}); }

  asio::io_context io;
  Reported reported;
};

TEST_F(TaskGroupTest, CancelEndsEveryTaskAndEachOnEndRunsOnce) {
  constexpr int kTasks = 50;
  TaskGroup group(io.get_executor(), "test");
  int woke = 0;
  int ended = 0;
  for (int i = 0; i < kTasks; ++i) group.spawn(wait_forever(woke), [&] { ++ended; });
  io.poll();  // every task is now waiting
  ASSERT_EQ(group.active(), static_cast<std::size_t>(kTasks));
  EXPECT_EQ(ended, 0);

  group.cancel();
  io.run_for(kBound);  // returns early once nothing is left to do

  EXPECT_EQ(group.active(), 0u);
  EXPECT_EQ(ended, kTasks);
  EXPECT_EQ(woke, kTasks);  // the aborted wait returned as a value; each task ran to its end
  EXPECT_EQ(group.escaped(), 0u);
  EXPECT_TRUE(reported.escapes.empty());
}

TEST_F(TaskGroupTest, AnEscapedExceptionIsReportedCountedAndTheOthersGoOn) {
  TaskGroup group(io.get_executor(), "test-component");
  const auto total_before = escaped_total();
  int done = 0;
  int ended = 0;
  for (int i = 0; i < 5; ++i) group.spawn(work(10, done), [&] { ++ended; });
  bool thrower_ended = false;
  group.spawn(throw_after_a_turn("boom"), [&] { thrower_ended = true; });

  io.run_for(kBound);

  EXPECT_TRUE(thrower_ended);
  EXPECT_EQ(done, 50);  // the other tasks did all their work
  EXPECT_EQ(ended, 5);
  EXPECT_EQ(group.active(), 0u);
  EXPECT_EQ(group.escaped(), 1u);
  EXPECT_EQ(escaped_total(), total_before + 1);
  ASSERT_EQ(reported.escapes.size(), 1u);
  EXPECT_EQ(reported.escapes[0].first, "test-component");
  EXPECT_EQ(reported.escapes[0].second, "boom");
}

TEST_F(TaskGroupTest, AbortAfterCancelIsNotAnEscapeButOtherExceptionsStillAre) {
  TaskGroup group(io.get_executor(), "test");
  // Awaits again after its wait was cancelled: Asio throws operation_aborted
  // at that co_await, which is the end cancel() asked for.
  auto awaits_again = []() -> asio::awaitable<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  };
  auto throws_when_woken = []() -> asio::awaitable<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    throw std::logic_error("a bug on the way out");
  };
  group.spawn(awaits_again());
  group.spawn(throws_when_woken());
  io.poll();
  group.cancel();
  io.run_for(kBound);

  EXPECT_EQ(group.active(), 0u);
  EXPECT_EQ(group.escaped(), 1u);
  ASSERT_EQ(reported.escapes.size(), 1u);
  EXPECT_EQ(reported.escapes[0].second, "a bug on the way out");
}

TEST_F(TaskGroupTest, NothingStartsAfterCancel) {
  TaskGroup group(io.get_executor(), "test");
  group.cancel();
  int done = 0;
  bool ended = false;
  group.spawn(work(3, done), [&] { ended = true; });
  EXPECT_TRUE(ended);
  io.run_for(kBound);
  EXPECT_EQ(done, 0);
  EXPECT_EQ(group.active(), 0u);
}

TEST_F(TaskGroupTest, JoinReportsWhetherEveryTaskEndedByTheDeadline) {
  TaskGroup group(io.get_executor(), "test");
  int woke = 0;
  for (int i = 0; i < 3; ++i) group.spawn(wait_forever(woke));
  std::optional<bool> before_cancel;
  std::optional<bool> after_cancel;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        before_cancel = co_await group.join(10ms);  // nobody cancels them: still running
        group.cancel();
        after_cancel = co_await group.join(kBound);  // returns as soon as the last one ends
      },
      asio::detached);
  io.run_for(2 * kBound);

  ASSERT_TRUE(before_cancel.has_value());
  ASSERT_TRUE(after_cancel.has_value());
  EXPECT_FALSE(*before_cancel);
  EXPECT_TRUE(*after_cancel);
  EXPECT_EQ(woke, 3);
  EXPECT_EQ(group.active(), 0u);
}

TEST_F(TaskGroupTest, TasksOutliveTheirGroupObjectSafely) {
  int done = 0;
  int ended = 0;
  {
    TaskGroup group(io.get_executor(), "test");
    group.spawn(work(5, done), [&] { ++ended; });
  }
  io.run_for(kBound);
  EXPECT_EQ(done, 5);
  EXPECT_EQ(ended, 1);
}

}  // namespace
}  // namespace sipsite::async
