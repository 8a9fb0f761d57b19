// SiteRecords on a real encrypted database: what the SIP strand queues is
// written by the records worker in its flushes, and a memory release after
// a burst (the connection drops its page cache, the worker trims its arena)
// between a call's events loses none of them.

#include "site_records.hpp"

#include <sipsite/store/cdr_repository.hpp>

#include "support/temp_dir.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>

namespace sipsite::app {
namespace {

TEST(SiteRecords, ReleasingMemoryBetweenACallsEventsLosesNone) {
  test::TempDir dir;
  const auto key = store::DbKey::generate().value();
  auto reader = store::Database::open(dir / "s.db", key, store::OpenMode::create).value();
  boost::asio::io_context io;
  SiteRecords records(io, store::Database::open(dir / "s.db", key, store::OpenMode::existing).value());
  // Runs the io_context (the flushes) until `done` holds, for at most 10 s.
  auto run_until = [&](const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_for(std::chrono::milliseconds(50));
    }
    return done();
  };
  auto only_record = [&]() -> std::optional<store::CdrRecord> {
    auto page = store::CdrRepository(reader).list({}, 0, 10);
    if (!page || page->items.size() != 1) return std::nullopt;
    return page->items.front();
  };

  records.call_started(sip::CallStart{.call_id = "call-1",
                                      .caller = "alice@alpha.example",
                                      .callee = "bob@alpha.example",
                                      .direction = sip::CallStart::Direction::local,
                                      .peer_domain = "",
                                      .source_ip = "192.0.2.10"});
  records.call_answered("call-1");
  ASSERT_TRUE(run_until([&] { return only_record().has_value(); })) << "the start is written by a flush";
  EXPECT_TRUE(only_record()->answered_at.has_value());
  EXPECT_FALSE(only_record()->ended_at.has_value());

  // Between the answer and the hang-up, the records' memory goes back: the
  // open call's record (kept by the worker) is still found and ended.
  records.release_memory();
  records.call_hung_up("call-1", "bob@alpha.example");
  ASSERT_TRUE(run_until([&] {
    auto r = only_record();
    return r && r->ended_at.has_value();
  })) << "the end is written by a flush after the release";
  records.release_memory();
  records.stop();

  auto page = store::CdrRepository(reader).list({}, 0, 10);
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(page->total, 1);
  EXPECT_EQ(page->items[0].caller_aor, "alice@alpha.example");
  EXPECT_EQ(page->items[0].callee_aor, "bob@alpha.example");
  EXPECT_EQ(page->items[0].final_status, 200);
  EXPECT_EQ(page->items[0].end_reason, "callee hung up");
}

}  // namespace
}  // namespace sipsite::app
