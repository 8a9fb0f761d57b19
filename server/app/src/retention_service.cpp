#include "retention_service.hpp"

#include "logging.hpp"

#include <sipsite/common/thread_role.hpp>

#include <boost/asio/post.hpp>

namespace sipsite::app {

RetentionService::RetentionService(store::Database db, RetentionServiceSettings settings)
    : db_(std::move(db)), settings_(std::move(settings)) {
  auto user_stop = std::move(settings_.limits.stop_requested);
  settings_.limits.stop_requested = [this, user_stop = std::move(user_stop)] {
    return stopping_.load() || (user_stop && user_stop());
  };
  boost::asio::post(worker_, [] { common::make_this_a_background_thread("sipsite-purge"); });
}

RetentionService::~RetentionService() { stop(); }

store::Result<store::PurgeReport> RetentionService::run_once(std::int64_t now) {
  auto log = logger("store");
  auto report = store::Purger(db_, settings_.limits).run(now);
  if (!report) {
    log->error("retention purge failed: {}", report.error().message);
    return report;
  }
  if (report->total() > 0 || !report->complete) {
    log->info(
        "retention purge: {} call records, {} stored messages, {} signaling log entries, {} audit entries, "
        "{} pending requests deleted{}",
        report->cdrs, report->messages, report->signaling_log, report->audit, report->pending_requests,
        report->complete ? "" : " (more left for the next run)");
  } else {
    log->debug("retention purge: nothing expired");
  }
  if (!report->checkpointed) log->debug("retention purge: WAL checkpoint deferred (readers active)");
  return report;
}

void RetentionService::start(boost::asio::io_context& io) {
  stopping_ = false;
  timer_.emplace(io);
  purge_in_background();
  arm();
}

void RetentionService::arm() {
  if (!timer_ || stopping_) return;
  timer_->expires_after(settings_.interval);
  timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    purge_in_background();
    arm();
  });
}

void RetentionService::purge_in_background() {
  if (busy_.exchange(true)) return;  // the previous purge is still running
  boost::asio::post(worker_, [this] {
    (void)run_once(settings_.now());
    busy_ = false;
  });
}

void RetentionService::stop() {
  stopping_ = true;
  if (timer_) timer_->cancel();
  worker_.join();
}

}  // namespace sipsite::app
