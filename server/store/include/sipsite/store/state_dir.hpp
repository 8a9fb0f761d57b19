#pragma once
// Files of a site's state directory, and the lock that tells a running
// daemon from a stopped one.

#include <sipsite/store/error.hpp>

#include <filesystem>
#include <optional>

namespace sipsite::store {

inline std::filesystem::path database_path(const std::filesystem::path& state_dir) { return state_dir / "sipsite.db"; }
inline std::filesystem::path default_key_path(const std::filesystem::path& state_dir) { return state_dir / "db.key"; }
inline std::filesystem::path lock_path(const std::filesystem::path& state_dir) { return state_dir / "sipsite.lock"; }

// An exclusive lock on STATE/sipsite.lock (flock, created 0600), held by the
// daemon for its lifetime and by `restore` while it replaces the database:
// so restore refuses while a daemon runs, and no daemon starts mid-restore.
// The kernel releases it when the process exits, however it exits.
class StateLock {
 public:
  // Errc::busy if another process holds it (never waits); Errc::io if the
  // lock file cannot be opened.
  static Result<StateLock> try_acquire(const std::filesystem::path& state_dir);

  StateLock(StateLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  StateLock& operator=(StateLock&& other) noexcept;
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;
  ~StateLock();

 private:
  explicit StateLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// The id of another process that has the database open, if any: every
// SQLite connection to a WAL database holds a shared lock on the "DMS" byte
// (offset 128) of its -shm file while open (https://sqlite.org/walformat.html).
// Our own process's locks are not seen. nullopt when no -shm file exists.
std::optional<long> database_user(const std::filesystem::path& db_path);

}  // namespace sipsite::store
