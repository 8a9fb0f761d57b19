// StreamSession (server/transport/src/stream_session.hpp) over Beast's test
// stream: its writes, its limits, and every failure path, by failing the
// stream at its first, second, ... operation.

#include "stream_session.hpp"

#include <sipsite/asio/task_group.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/_experimental/test/fail_count.hpp>
#include <boost/beast/_experimental/test/stream.hpp>

#include <gtest/gtest.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace sipsite::transport::detail {
namespace {

namespace beast = boost::beast;
using TestStream = beast::test::stream;
using Session = StreamSession<TestStream>;
using namespace std::chrono_literals;

// A bound on io_context::run_for so a bug cannot hang the test; the
// assertions are on counts and contents, never on how long anything took.
constexpr auto kBound = 10s;

std::vector<std::string> messages() {
  std::vector<std::string> out;
  for (int i = 0; i < 6; ++i)
    out.push_back("message " + std::to_string(i) + std::string(static_cast<std::size_t>(5 + 3 * i), 'x') + "\r\n");
  return out;
}

// How many of `sent` arrived whole, in order, as the start of `received`
// (which must be a prefix of their concatenation).
std::size_t whole_messages(const std::vector<std::string>& sent, std::string_view received) {
  std::string all;
  for (const auto& m : sent) all += m;
  EXPECT_EQ(all.substr(0, received.size()), received) << "bytes arrived that were not sent, or out of order";
  std::size_t whole = 0;
  std::size_t at = 0;
  for (const auto& m : sent) {
    if (at + m.size() > received.size()) break;
    at += m.size();
    ++whole;
  }
  return whole;
}

// What the owners' readers do, reduced: read until the stream fails, then
// close the session.
boost::asio::awaitable<void> read_until_closed(std::shared_ptr<Session> session) {
  std::array<char, 64> buffer;
  while (!session->closed()) {
    auto [ec, n] = co_await session->stream().async_read_some(boost::asio::buffer(buffer), kTuple);
    if (ec) break;
  }
  session->close();
}

struct SessionRun {
  int closes = 0;
  CloseReport report;
  std::string received;  // what the peer got
  std::size_t still_active = 0;
};

// One session over a test stream that fails at operation `fail_at`
// (0-based: reads and writes both count); writes are cut into 7-byte
// pieces so each message takes several operations.
SessionRun run_with_failure_at(std::size_t fail_at, const std::vector<std::string>& to_send) {
  boost::asio::io_context io;
  beast::test::fail_count fc(fail_at);
  TestStream local(io, fc);
  TestStream remote(io);
  local.connect(remote);
  local.write_size(7);
  remote.write_size(3);
  SessionRun run;
  {
    async::TaskGroup tasks(io.get_executor(), "test");
    auto session = std::make_shared<Session>(std::move(local), StreamSessionSettings{}, [&run](const CloseReport& r) {
      ++run.closes;
      run.report = r;
    });
    session->start(tasks);
    tasks.spawn(read_until_closed(session));
    // The peer says something too, so reads complete and count as operations.
    boost::asio::write(remote, boost::asio::buffer(std::string("OPTIONS ping\r\n")));
    for (const auto& m : to_send) EXPECT_TRUE(session->enqueue(m));
    session->close_after_flush();
    io.run_for(kBound);  // returns as soon as every task has ended
    run.still_active = tasks.active();
  }
  run.received = remote.str();
  return run;
}

TEST(StreamSessionTest, FailingAtEachOperationClosesOnceAndReportsWhatWasNotSent) {
  const auto sent = messages();
  bool completed_without_failure = false;
  std::size_t fail_at = 0;
  for (; fail_at < 500 && !completed_without_failure; ++fail_at) {
    SCOPED_TRACE("failing at operation " + std::to_string(fail_at));
    const SessionRun run = run_with_failure_at(fail_at, sent);
    EXPECT_EQ(run.closes, 1);
    EXPECT_EQ(run.still_active, 0u);
    const std::size_t whole = whole_messages(sent, run.received);
    // Every message is either wholly delivered or reported as not sent.
    EXPECT_EQ(run.report.unsent_messages, sent.size() - whole);
    if (run.report.reason == CloseReason::flushed) {
      // The failure came after the last operation the session needed.
      EXPECT_EQ(run.report.unsent_messages, 0u);
      EXPECT_EQ(run.report.unsent_bytes, 0u);
      completed_without_failure = true;
    } else {
      EXPECT_TRUE(run.report.reason == CloseReason::write_failed || run.report.reason == CloseReason::requested)
          << to_string(run.report.reason);
      EXPECT_GT(run.report.unsent_messages, 0u);
    }
  }
  EXPECT_TRUE(completed_without_failure);
  // Six messages of at least 21 bytes in 7-byte writes, plus reads: the walk
  // went through many distinct failure points.
  EXPECT_GT(fail_at, 20u);
}

TEST(StreamSessionTest, QueuedMessagesGoOutInOneWrite) {
  boost::asio::io_context io;
  TestStream local(io);
  TestStream remote(io);
  local.connect(remote);
  async::TaskGroup tasks(io.get_executor(), "test");
  auto session = std::make_shared<Session>(std::move(local), StreamSessionSettings{});
  const auto sent = messages();
  std::string all;
  for (const auto& m : sent) {
    ASSERT_TRUE(session->enqueue(m));
    all += m;
  }
  session->start(tasks);
  session->close_after_flush();
  io.run_for(kBound);
  EXPECT_EQ(remote.str(), all);
  EXPECT_EQ(session->stream().nwrite(), 1u);  // six messages, one write operation
  EXPECT_TRUE(session->closed());
}

TEST(StreamSessionTest, AMessageBeyondTheQueueBoundIsRefusedAndClosesTheSession) {
  boost::asio::io_context io;
  TestStream local(io);
  TestStream remote(io);
  local.connect(remote);
  async::TaskGroup tasks(io.get_executor(), "test");
  std::optional<CloseReport> report;
  int closes = 0;
  auto session =
      std::make_shared<Session>(std::move(local), StreamSessionSettings{100, 30s}, [&](const CloseReport& r) {
        ++closes;
        report = r;
      });
  session->start(tasks);
  EXPECT_TRUE(session->enqueue(std::string(60, 'a')));
  EXPECT_EQ(session->queued_bytes(), 60u);
  EXPECT_FALSE(session->enqueue(std::string(60, 'b')));  // 120 > 100
  EXPECT_TRUE(session->closed());
  EXPECT_FALSE(session->enqueue("late"));
  io.run_for(kBound);
  EXPECT_EQ(closes, 1);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->reason, CloseReason::queue_full);
  EXPECT_EQ(report->unsent_messages, 1u);  // the one queued before the writer ran
  EXPECT_EQ(report->unsent_bytes, 60u);
  EXPECT_EQ(remote.str(), "");
}

TEST(StreamSessionTest, APassedDeadlineClosesAWaitingSession) {
  boost::asio::io_context io;
  TestStream local(io);
  TestStream remote(io);
  local.connect(remote);
  async::TaskGroup tasks(io.get_executor(), "test");
  std::optional<CloseReport> report;
  auto session =
      std::make_shared<Session>(std::move(local), StreamSessionSettings{}, [&](const CloseReport& r) { report = r; });
  session->start(tasks);
  tasks.spawn(read_until_closed(session));  // would wait for the peer forever
  session->set_deadline(std::chrono::steady_clock::now());
  io.run_for(kBound);
  EXPECT_TRUE(session->closed());
  ASSERT_TRUE(report);
  EXPECT_EQ(report->reason, CloseReason::deadline);
  EXPECT_EQ(tasks.active(), 0u);
}

TEST(StreamSessionTest, CloseIsIdempotentAndReportsOnceEvenWithoutAWriter) {
  boost::asio::io_context io;
  TestStream local(io);
  int closes = 0;
  auto session = std::make_shared<Session>(std::move(local), StreamSessionSettings{}, [&](const CloseReport& r) {
    ++closes;
    EXPECT_EQ(r.unsent_messages, 1u);
  });
  ASSERT_TRUE(session->enqueue("never written"));
  session->close();
  session->close(CloseReason::write_failed);
  EXPECT_EQ(closes, 1);
  EXPECT_FALSE(session->enqueue("after close"));
}

TEST(StreamSessionTest, CancellingTheTaskGroupClosesTheSession) {
  boost::asio::io_context io;
  TestStream local(io);
  TestStream remote(io);
  local.connect(remote);
  async::TaskGroup tasks(io.get_executor(), "test");
  int closes = 0;
  auto session =
      std::make_shared<Session>(std::move(local), StreamSessionSettings{}, [&](const CloseReport&) { ++closes; });
  session->start(tasks);
  io.poll();  // the writer and the watchdog are waiting
  ASSERT_EQ(tasks.active(), 2u);
  tasks.cancel();
  io.run_for(kBound);
  EXPECT_EQ(tasks.active(), 0u);
  EXPECT_TRUE(session->closed());
  EXPECT_EQ(closes, 1);
}

TEST(StreamSessionTest, AWriteThePeerDoesNotTakeIsCutByTheWriteDeadline) {
  boost::asio::io_context io;
  // A loopback peer that never reads: 64 MiB cannot fit in the kernel's
  // socket buffers, so the write cannot complete.
  tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket peer(io);
  peer.connect(acceptor.local_endpoint());
  tcp::socket ours = acceptor.accept();
  async::TaskGroup tasks(io.get_executor(), "test");
  std::optional<CloseReport> report;
  auto session = std::make_shared<StreamSession<tcp::socket>>(std::move(ours), StreamSessionSettings{128u << 20, 200ms},
                                                              [&](const CloseReport& r) { report = r; });
  session->start(tasks);
  ASSERT_TRUE(session->enqueue(std::string(64u << 20, 'x')));
  io.run_for(kBound);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->reason, CloseReason::write_timeout);
  EXPECT_EQ(report->unsent_messages, 1u);
  EXPECT_EQ(tasks.active(), 0u);
}

}  // namespace
}  // namespace sipsite::transport::detail
