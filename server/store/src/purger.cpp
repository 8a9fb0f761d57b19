#include <sipsite/store/audit_repository.hpp>
#include <sipsite/store/cdr_repository.hpp>
#include <sipsite/store/message_repository.hpp>
#include <sipsite/store/pending_repository.hpp>
#include <sipsite/store/purger.hpp>
#include <sipsite/store/signaling_log_repository.hpp>

#include <functional>

namespace sipsite::store {

namespace {

constexpr std::int64_t kDay = 24 * 60 * 60;

}  // namespace

Result<PurgeReport> Purger::run(std::int64_t now) {
  auto settings = RetentionSettingsRepository(db_).load();
  if (!settings) return settings.error();
  return run(now, *settings);
}

Result<PurgeReport> Purger::run(std::int64_t now, const RetentionSettings& s) {
  PurgeReport report;
  // One kind: batches of limits_.batch rows, each its own transaction
  // (autocommit), until a batch comes back short.
  const auto purge = [&](const std::function<Result<int>(int)>& batch, int& count) -> Result<void> {
    for (int i = 0; i < limits_.max_batches; ++i) {
      if (limits_.stop_requested && limits_.stop_requested()) break;
      auto n = batch(limits_.batch);
      if (!n) return n.error();
      count += *n;
      if (*n < limits_.batch) return {};
    }
    report.complete = false;
    return {};
  };
  if (auto r = purge([&](int b) { return CdrRepository(db_).purge_before(now - s.cdr_days * kDay, b); }, report.cdrs);
      !r) {
    return r.error();
  }
  if (auto r = purge([&](int b) { return MessageRepository(db_).purge_before(now - s.message_days * kDay, b); },
                     report.messages);
      !r) {
    return r.error();
  }
  if (auto r =
          purge([&](int b) { return SignalingLogRepository(db_).purge_before(now - s.signaling_log_days * kDay, b); },
                report.signaling_log);
      !r) {
    return r.error();
  }
  if (auto r =
          purge([&](int b) { return AuditRepository(db_).purge_before(now - s.audit_days * kDay, b); }, report.audit);
      !r) {
    return r.error();
  }
  // Pending requests are capped (PendingRepository::kDefaultCap): one statement.
  auto pending = PendingRepository(db_).purge_older_than(now - s.pending_request_days * kDay);
  if (!pending) return pending.error();
  report.pending_requests = *pending;

  auto checkpoint = db_.checkpoint_truncate();
  if (!checkpoint) return checkpoint.error();
  report.checkpointed = *checkpoint;
  return report;
}

}  // namespace sipsite::store
