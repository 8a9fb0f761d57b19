#pragma once
// Retention: deletes every kind of data older than its window (see
// RetentionSettings) in small transactions, so a writer on another
// connection (the SIP core storing a CDR) waits at most one batch; then
// checkpoints the WAL with TRUNCATE. secure_delete (on for every
// connection, see database.cpp) has SQLite overwrite deleted content, and
// the checkpoint empties the WAL, so purged values are gone from the files,
// not merely unlinked. The database file does not shrink (no routine
// VACUUM: freed pages are zeroed and reused).
//
// Not thread-safe (one Database connection); run it on its own thread.

#include <sipsite/store/database.hpp>
#include <sipsite/store/retention_settings.hpp>

#include <functional>
#include <utility>

namespace sipsite::store {

struct PurgeReport {
  int cdrs = 0;
  int messages = 0;
  int signaling_log = 0;
  int audit = 0;
  int pending_requests = 0;
  bool checkpointed = false;  // the WAL was emptied
  bool complete = true;       // false: stopped at max_batches, more is left

  int total() const { return cdrs + messages + signaling_log + audit + pending_requests; }
};

struct PurgeLimits {
  int batch = 500;          // rows per transaction
  int max_batches = 10000;  // per kind and run: a bound, not a target
  // Asked before each batch; true stops the run early (complete = false),
  // e.g. when the daemon shuts down.
  std::function<bool()> stop_requested;
};

class Purger {
 public:
  explicit Purger(Database& db, PurgeLimits limits = {}) : db_(db), limits_(std::move(limits)) {}
  // Deletes what is older than the windows in the settings table, as of
  // `now` (Unix seconds: a clock the caller controls).
  Result<PurgeReport> run(std::int64_t now);
  // As run(), with explicit settings.
  Result<PurgeReport> run(std::int64_t now, const RetentionSettings& settings);

 private:
  Database& db_;
  PurgeLimits limits_;
};

}  // namespace sipsite::store
