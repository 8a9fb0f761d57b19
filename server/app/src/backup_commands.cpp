// backup, restore

#include "backup_commands.hpp"

#include <sipsite/store/audit_repository.hpp>
#include <sipsite/store/peer_repository.hpp>
#include <sipsite/store/site_repository.hpp>
#include <sipsite/store/state_dir.hpp>
#include <sipsite/store/user_repository.hpp>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <iostream>
#include <sys/stat.h>
#include <unistd.h>

namespace sipsite::app {

namespace {

const char* const kDbSuffixes[] = {"", "-wal", "-shm", "-journal"};

void remove_database_files(const std::filesystem::path& db) {
  std::error_code ec;
  for (const char* suffix : kDbSuffixes) std::filesystem::remove(db.string() + suffix, ec);
}

void sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Copies `from` to the new file `to` (mode 0600, O_EXCL), synced.
store::Result<void> copy_private(const std::filesystem::path& from, const std::filesystem::path& to) {
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return store::Error{store::Errc::io, "cannot read " + from.string() + ": " + std::strerror(errno)};
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) {
    const int err = errno;
    ::close(in);
    return store::Error{store::Errc::io, "cannot create " + to.string() + ": " + std::strerror(err)};
  }
  char buf[1 << 16];
  bool ok = true;
  while (true) {
    const ssize_t n = ::read(in, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      ok = false;
      break;
    }
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(out, buf + done, static_cast<std::size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        ok = false;
        break;
      }
      done += w;
    }
    if (!ok) break;
  }
  const int err = errno;
  ok = ok && ::fsync(out) == 0;
  ::close(in);
  ::close(out);
  if (!ok) return store::Error{store::Errc::io, "cannot copy " + from.string() + ": " + std::strerror(err)};
  return {};
}

std::string utc_stamp() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace

int cmd_backup(const GlobalOptions& g, const std::string& out_text) {
  if (out_text.empty()) return fail(kExitUsage, "--out needs a file name");
  const std::filesystem::path out(out_text);
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::symlink_status(out, ec))) {
    return fail(kExitRuntime, out.string() + " already exists; backup never overwrites a file");
  }
  auto site = open_site(g);
  if (!site) return fail(site.error());
  auto key = store::read_key_file(resolve_key_source(g).path);
  if (!key) return fail(key.error());
  if (auto r = site->db.backup_to(out, *key); !r) {
    return fail(kExitRuntime, "backup to " + out.string() + " failed: " + r.error().message);
  }
  (void)store::AuditRepository(site->db).append(cli_actor(), "local", "db.backup", out.string());
  std::cerr << "sipsite: backup of " << site->site.domain << " written to " << out.string()
            << " (encrypted with the database key: keep a copy of the key apart from the backup)" << std::endl;
  return kExitOk;
}

int cmd_restore(const GlobalOptions& g, const std::string& in_text) {
  if (in_text.empty()) return fail(kExitUsage, "--in needs a file name");
  const std::filesystem::path in(in_text);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(in, ec)) {
    return fail(kExitRuntime, "cannot read " + in.string() + ": not a file");
  }
  const auto db_path = store::database_path(g.state_dir);
  if (std::filesystem::exists(db_path, ec) && std::filesystem::equivalent(in, db_path, ec)) {
    return fail(kExitUsage, in.string() + " is the site's own database; give a backup file");
  }
  const KeySource key_source = resolve_key_source(g);
  if (key_source.is_default && !std::filesystem::exists(key_source.path, ec)) {
    return fail(kExitRuntime, "no database key at " + key_source.path.string() +
                                  ": put the key the backup was made with there (mode 0600) or pass --db-key-file");
  }
  auto key = store::read_key_file(key_source.path);
  if (!key) return fail(key.error());

  if (!std::filesystem::exists(g.state_dir, ec)) {
    std::filesystem::create_directories(g.state_dir, ec);
    if (ec) return fail(kExitRuntime, "cannot create state directory " + g.state_dir.string() + ": " + ec.message());
    ::chmod(g.state_dir.c_str(), 0700);
  }
  auto lock = store::StateLock::try_acquire(g.state_dir);
  if (!lock) {
    if (lock.error().code == store::Errc::busy)
      return fail(kExitRuntime, "refusing to restore: " + lock.error().message);
    return fail(lock.error());
  }

  // A daemon that does not hold the state lock (or any process) still has
  // the database open: replacing the file under it would lose its writes.
  if (auto pid = store::database_user(db_path)) {
    return fail(kExitRuntime, "refusing to restore: process " + std::to_string(*pid) + " has " + db_path.string() +
                                  " open (a running sipsite daemon?); stop it first");
  }

  // Check a private copy inside the state directory: the original backup
  // is never opened for writing, and the switch below is a rename.
  const std::filesystem::path staged = g.state_dir / "sipsite.db.restoring";
  remove_database_files(staged);
  if (auto c = copy_private(in, staged); !c) return fail(c.error());
  std::string domain;
  std::size_t users = 0, peers = 0;
  {
    auto db = store::Database::open(staged, *key, store::OpenMode::existing);
    const auto refuse = [&](const std::string& why) {
      remove_database_files(staged);
      return fail(kExitRuntime, "refusing to restore " + in.string() + ": " + why + "; nothing was changed");
    };
    if (!db) {
      if (db.error().code == store::Errc::wrong_key) {
        return refuse("the database key (" + key_source.path.string() +
                      ") does not open it: wrong key, or not a sipsite backup");
      }
      return refuse(db.error().message);
    }
    if (auto check = db->quick_check(); !check) return refuse(check.error().message);
    auto site = store::SiteRepository(*db).load();
    if (!site) return refuse("it is not a sipsite database (no site identity in it)");
    domain = site->domain;
    auto u = store::UserRepository(*db).list();
    auto p = store::PeerRepository(*db).list();
    if (!u || !p) return refuse("it is not a sipsite database");
    users = u->size();
    peers = p->size();
    if (auto a = store::AuditRepository(*db).append(cli_actor(), "local", "db.restore", in.string()); !a) {
      return refuse(a.error().message);
    }
    if (auto cp = db->checkpoint_truncate(); !cp) return refuse(cp.error().message);
  }  // closed: the staged copy is one self-contained file again

  std::string kept;
  if (std::filesystem::exists(db_path, ec)) {
    const std::filesystem::path before = g.state_dir / ("sipsite.db.before-restore-" + utc_stamp());
    for (const char* suffix : kDbSuffixes) {
      const std::string from = db_path.string() + suffix;
      if (!std::filesystem::exists(from, ec)) continue;
      std::filesystem::rename(from, before.string() + suffix, ec);
      if (ec) {
        return fail(kExitRuntime, "cannot move " + from + " aside: " + ec.message() + "; restore stopped");
      }
    }
    kept = before.string();
  }
  std::filesystem::rename(staged, db_path, ec);
  if (ec) return fail(kExitRuntime, "cannot move the restored database into place: " + ec.message());
  remove_database_files(staged);
  sync_directory(g.state_dir);

  std::cerr << "sipsite: restored " << domain << " (" << users << " users, " << peers << " peers) from " << in.string()
            << " into " << g.state_dir.string() << std::endl;
  if (!kept.empty()) std::cerr << "sipsite: the previous database is kept as " << kept << std::endl;
  return kExitOk;
}

}  // namespace sipsite::app
