#include "live_state_watcher.hpp"

#include "logging.hpp"
#include "memory_return.hpp"

#include <sipsite/common/thread_role.hpp>
#include <sipsite/store/live_state_changes.hpp>
#include <sipsite/store/retention_settings.hpp>
#include <sipsite/store/unix_time.hpp>

#include <boost/asio/post.hpp>

#include <algorithm>

namespace sipsite::app {

namespace {

// More changes than this since the last look (a bulk import of a whole
// federation): reading everything once is cheaper than row by row.
constexpr std::size_t kMaxIncremental = 20000;

std::pair<std::string, std::string> split_user_key(const std::string& key) {
  const auto at = key.rfind('@');
  if (at == std::string::npos) return {key, ""};
  return {key.substr(0, at), key.substr(at + 1)};
}

}  // namespace

LiveStateWatcher::LiveStateWatcher(boost::asio::io_context& io, store::Database db, std::string domain, Apply apply,
                                   std::chrono::milliseconds interval)
    : io_(io), db_(std::move(db)), mirror_(std::move(domain)), apply_(std::move(apply)), interval_(interval) {}

LiveStateWatcher::~LiveStateWatcher() { stop(); }

void LiveStateWatcher::start() {
  if (thread_.joinable()) return;
  if (auto first = poll()) apply_(std::move(*first));
  thread_ = std::thread([this] { run(); });
  std::lock_guard lock(mutex_);
  running_ = true;
}

void LiveStateWatcher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  caught_up_.notify_all();  // a catch_up() waiting now would wait in vain
  if (thread_.joinable()) thread_.join();
}

bool LiveStateWatcher::catch_up(std::chrono::milliseconds bound) {
  std::unique_lock lock(mutex_);
  if (!running_ || stopping_) return false;
  const auto ticket = ++asked_;
  poked_ = true;
  wake_.notify_all();
  caught_up_.wait_for(lock, bound, [&] { return applied_ >= ticket || stopping_; });
  return applied_ >= ticket;
}

void LiveStateWatcher::run() {
  common::make_this_a_background_thread("sipsite-watcher");
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    poked_ = false;
    // Every ticket asked for by now is served by this look: its change was
    // committed before it was asked for.
    const auto serving = asked_;
    const bool awaited = serving > applied_;
    lock.unlock();
    if (auto update = poll()) {
      boost::asio::post(io_, [this, u = std::move(*update)]() mutable { apply_(std::move(u)); });
    }
    if (awaited) {
      // Posted after the update: it runs once the update is applied.
      boost::asio::post(io_, [this, serving] {
        {
          std::lock_guard done(mutex_);
          applied_ = std::max(applied_, serving);
        }
        caught_up_.notify_all();
      });
    }
    lock.lock();
    wake_.wait_for(lock, interval_, [this] { return stopping_ || poked_; });
  }
}

std::optional<LiveStateUpdate> LiveStateWatcher::load_everything() {
  auto log = logger("store");
  store::LiveStateChangeRepository changes(db_);
  // The cursor first: a change committed while everything is read is read
  // again next time (applying a row twice is harmless).
  auto latest = changes.latest();
  auto users = store::UserRepository(db_).list();
  auto peers = store::PeerRepository(db_).list();
  auto previous = store::PeerRepository(db_).list_previous_pins();
  if (!latest || !users || !peers || !previous) {
    log->error("cannot read the database: {}", (!latest  ? latest.error()
                                                : !users ? users.error()
                                                : !peers ? peers.error()
                                                         : previous.error())
                                                   .message);
    return std::nullopt;
  }
  std::optional<bool> signaling_log;
  if (auto on = store::RetentionSettingsRepository(db_).flag(store::setting_key::kSignalingLogEnabled)) {
    signaling_log = *on;
  }
  cursor_ = *latest;
  auto update = mirror_.load(*users, *peers, std::move(*previous), signaling_log, store::unix_now());
  // What was read for it is not needed again: the rows (freed on return)
  // and this connection's page cache (a few MB with 10,000 peers). Without
  // this, a site keeps about 0.5 KiB per peer more at rest (issue 18).
  users->clear();
  users->shrink_to_fit();
  peers->clear();
  peers->shrink_to_fit();
  if (auto shrunk = db_.execute("PRAGMA shrink_memory"); !shrunk) {
    log->warn("cannot shrink the live-state connection's cache: {}", shrunk.error().message);
  }
  return_free_memory();
  return update;
}

std::optional<LiveStateUpdate> LiveStateWatcher::poll() {
  const auto version = db_.data_version();
  if (cursor_ >= 0 && version == data_version_) return std::nullopt;
  data_version_ = version;
  if (cursor_ < 0) return load_everything();

  auto since = store::LiveStateChangeRepository(db_).since(cursor_, kMaxIncremental);
  if (!since) {
    logger("store")->error("cannot read the change log: {}", since.error().message);
    return std::nullopt;
  }
  if (!since->complete) {
    logger("store")->info("{} changes since the last look (or the change log was pruned past them); reading everything",
                          since->latest - cursor_);
    return load_everything();
  }
  if (since->changes.empty()) {
    cursor_ = since->latest;
    return std::nullopt;  // another connection committed something the daemon does not keep
  }
  ChangedRows rows;
  rows.rows = since->changes.size();
  bool settings = false;
  for (const auto& c : since->changes) {
    switch (c.kind) {
      case store::ChangeKind::peer: rows.peers.emplace(c.key, std::nullopt); break;
      case store::ChangeKind::user: rows.users.emplace(c.key, std::nullopt); break;
      case store::ChangeKind::pin: rows.previous_pins.emplace(); break;
      case store::ChangeKind::setting: settings = true; break;
      case store::ChangeKind::site: rows.site = true; break;
    }
  }
  store::PeerRepository peer_repo(db_);
  for (auto& [fp, row] : rows.peers) {
    auto found = peer_repo.find_by_fingerprint(fp);
    if (!found) {
      logger("store")->error("cannot read peer {}: {}", fp, found.error().message);
      return std::nullopt;  // the cursor stays: tried again at the next look
    }
    row = std::move(*found);
  }
  store::UserRepository user_repo(db_);
  for (auto& [key, row] : rows.users) {
    const auto [username, domain] = split_user_key(key);
    auto found = user_repo.find(username, domain);
    if (!found) {
      logger("store")->error("cannot read user {}: {}", key, found.error().message);
      return std::nullopt;
    }
    row = std::move(*found);
  }
  if (rows.previous_pins) {
    auto previous = peer_repo.list_previous_pins();
    if (!previous) {
      logger("store")->error("cannot read the previous pins: {}", previous.error().message);
      return std::nullopt;
    }
    rows.previous_pins = std::move(*previous);
  }
  if (settings) {
    if (auto on = store::RetentionSettingsRepository(db_).flag(store::setting_key::kSignalingLogEnabled)) {
      rows.signaling_log = *on;
    }
  }
  cursor_ = since->latest;
  return mirror_.apply(rows, store::unix_now());
}

}  // namespace sipsite::app
