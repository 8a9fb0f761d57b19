#include <sipsite/store/database.hpp>

#include <sipsite/schema/migrations.hpp>

#include <openssl/crypto.h>
#include <sqlcipher/sqlite3.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace sipsite::store {

namespace {

Errc errc_of(int rc) {
  switch (rc & 0xFF) {
    case SQLITE_NOTADB: return Errc::wrong_key;
    case SQLITE_CORRUPT: return Errc::corrupt;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return Errc::busy;
    case SQLITE_CONSTRAINT: return Errc::duplicate;
    default: return Errc::io;
  }
}

// SQLCipher settings stated explicitly, so a database written by this build
// opens the same way with any later SQLCipher: cipher_compatibility is
// SQLCipher 4's switch to the 3.x format (SQLite ignores the pragma in 3.x),
// the others are the 3.x defaults made explicit.
constexpr std::string_view kCipherSettings =
    "PRAGMA cipher_compatibility = 3;"
    "PRAGMA cipher_page_size = 4096;"
    "PRAGMA kdf_iter = 64000;"
    "PRAGMA cipher_use_hmac = ON;";

// Connection settings: WAL so the daemon reads while the CLI writes; full
// sync so a committed change survives kill -9 and power loss; secure_delete
// so deleted rows are overwritten, not left in free pages.
constexpr std::string_view kConnectionSettings =
    "PRAGMA journal_mode = WAL;"
    "PRAGMA synchronous = FULL;"
    "PRAGMA secure_delete = ON;"
    "PRAGMA foreign_keys = ON;";

constexpr int kBusyTimeoutMs = 5000;

// Creates an empty file with mode 0600 for SQLite to fill; SQLite gives the
// WAL and shared-memory files the same mode.
Result<void> create_private_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error{errno == EEXIST ? Errc::already_exists : Errc::io,
                 "cannot create " + path.string() + ": " + std::strerror(errno)};
  }
  ::close(fd);
  return {};
}

}  // namespace

void Statement::Finalize::operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }

Statement& Statement::bind(int index, std::string_view text) {
  // An empty view may have no data pointer, which SQLite would bind as NULL.
  sqlite3_bind_text(stmt_.get(), index, text.data() != nullptr ? text.data() : "", static_cast<int>(text.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_.get(), index, value);
  return *this;
}

Result<bool> Statement::step() {
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Error{errc_of(sqlite3_extended_errcode(db_)), std::string("database: ") + sqlite3_errmsg(db_)};
}

std::string Statement::text(int column) const {
  const auto* p = sqlite3_column_text(stmt_.get(), column);
  const int n = sqlite3_column_bytes(stmt_.get(), column);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}

std::int64_t Statement::integer(int column) const { return sqlite3_column_int64(stmt_.get(), column); }

Statement& Statement::bind(int index, std::nullopt_t) {
  sqlite3_bind_null(stmt_.get(), index);
  return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
  // A zero-length blob, not NULL, for an empty body.
  if (bytes.empty()) {
    sqlite3_bind_zeroblob(stmt_.get(), index, 0);
  } else {
    sqlite3_bind_blob(stmt_.get(), index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  }
  return *this;
}

bool Statement::is_null(int column) const { return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL; }

std::optional<std::int64_t> Statement::optional_integer(int column) const {
  if (is_null(column)) return std::nullopt;
  return integer(column);
}

std::optional<std::string> Statement::optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}

std::string Statement::blob(int column) const {
  const auto* p = sqlite3_column_blob(stmt_.get(), column);
  const int n = sqlite3_column_bytes(stmt_.get(), column);
  return p ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}

void Statement::reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

void Database::Close::operator()(sqlite3* db) const { sqlite3_close_v2(db); }

Result<Statement*> Database::cached(std::string_view sql) {
  if (const auto it = cache_->find(sql); it != cache_->end()) return &it->second;
  auto stmt = prepare(sql);
  if (!stmt) return stmt.error();
  return &cache_->emplace(std::string(sql), std::move(*stmt)).first->second;
}

std::int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_.get()); }

Error Database::last_error(std::string_view what) const {
  return Error{errc_of(sqlite3_extended_errcode(db_.get())), std::string(what) + ": " + sqlite3_errmsg(db_.get())};
}

int latest_schema_version() { return static_cast<int>(schema::migrations().size()); }

Result<Database> Database::open(const std::filesystem::path& path, const DbKey& key, OpenMode mode) {
  return open_at_version(path, key, mode, latest_schema_version());
}

Result<Database> Database::open_at_version(const std::filesystem::path& path, const DbKey& key, OpenMode mode,
                                           int schema_version) {
  auto db = open_and_migrate(path, key, mode, schema_version);
  if (!db && mode == OpenMode::create && db.error().code != Errc::already_exists) {
    // Leave nothing half-made behind a failed create.
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path.string() + suffix, ec);
  }
  return db;
}

Result<Database> Database::open_and_migrate(const std::filesystem::path& path, const DbKey& key, OpenMode mode,
                                            int schema_version) {
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  if (mode == OpenMode::existing && !exists) {
    return Error{Errc::not_initialised,
                 "no site database at " + path.string() + " (run 'sipsite init' first, or check --state-dir)"};
  }
  if (mode == OpenMode::create) {
    if (auto created = create_private_file(path); !created) return created.error();
  }

  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  Database db(raw, path);
  if (rc != SQLITE_OK) return db.last_error("cannot open " + path.string());
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);

  std::string keying = "PRAGMA key = \"x'" + key.hex() + "'\";";
  auto keyed = db.execute_script(keying);
  OPENSSL_cleanse(keying.data(), keying.size());
  if (!keyed) return keyed.error();
  if (auto r = db.execute_script(kCipherSettings); !r) return r.error();

  // The first read decrypts page 1: this is where a wrong key shows.
  if (auto probe = db.execute_script("SELECT count(*) FROM sqlite_master;"); !probe) {
    if (probe.error().code == Errc::wrong_key) {
      return Error{Errc::wrong_key,
                   "the database key does not open " + path.string() + " (wrong key file, or not a sipsite database)"};
    }
    return probe.error();
  }
  if (auto r = db.execute_script(kConnectionSettings); !r) return r.error();

  const int current = db.schema_version();
  if (current > latest_schema_version()) {
    return Error{Errc::schema_too_new, "database schema version " + std::to_string(current) +
                                           " is newer than this sipsite understands (" +
                                           std::to_string(latest_schema_version()) + "); upgrade sipsite"};
  }
  if (current < schema_version) {
    auto migrated = db.transaction([&]() -> Result<void> {
      // Another process may have migrated while we waited for the lock.
      const auto migrations = schema::migrations();
      for (int v = db.schema_version(); v < schema_version; ++v) {
        const auto& m = migrations[static_cast<std::size_t>(v)];
        if (auto r = db.execute_script(m.contents); !r) {
          return Error{r.error().code, "migration " + std::string(m.name) + " failed: " + r.error().message};
        }
        if (auto r = db.execute_script("PRAGMA user_version = " + std::to_string(v + 1) + ";"); !r) return r;
      }
      return {};
    });
    if (!migrated) return migrated.error();
  }
  return db;
}

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) != SQLITE_OK) {
    return last_error("database");
  }
  return Statement(stmt, db_.get());
}

Result<void> Database::execute_script(std::string_view sql) {
  const std::string text(sql);
  if (sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return last_error("database");
  }
  return {};
}

Result<void> Database::transaction(const std::function<Result<void>()>& work) {
  if (sqlite3_get_autocommit(db_.get()) == 0) {
    // Inside another transaction: a savepoint, so a repository call that
    // is atomic on its own also composes into a caller's transaction.
    if (auto begin = execute_script("SAVEPOINT nested;"); !begin) return begin;
    auto result = work();
    if (!result) (void)execute_script("ROLLBACK TO nested;");
    if (auto release = execute_script("RELEASE nested;"); !release && result) return release;
    return result;
  }
  if (auto begin = execute_script("BEGIN IMMEDIATE;"); !begin) return begin;
  auto result = work();
  if (!result) {
    (void)execute_script("ROLLBACK;");
    return result;
  }
  if (auto commit = execute_script("COMMIT;"); !commit) {
    (void)execute_script("ROLLBACK;");
    return commit;
  }
  return {};
}

Result<void> Database::backup_to(const std::filesystem::path& out, const DbKey& key) {
  if (auto created = create_private_file(out); !created) return created.error();
  const auto remove_all = [&] {
    std::error_code ec;
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) std::filesystem::remove(out.string() + suffix, ec);
  };
  auto copied = [&]() -> Result<void> {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(out.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
    Database dest(raw, out);
    if (rc != SQLITE_OK) return dest.last_error("cannot open " + out.string());
    sqlite3_busy_timeout(raw, kBusyTimeoutMs);
    std::string keying = "PRAGMA key = \"x'" + key.hex() + "'\";";
    auto keyed = dest.execute_script(keying);
    OPENSSL_cleanse(keying.data(), keying.size());
    if (!keyed) return keyed.error();
    if (auto r = dest.execute_script(kCipherSettings); !r) return r.error();
    sqlite3_backup* backup = sqlite3_backup_init(raw, "main", db_.get(), "main");
    if (backup == nullptr) return dest.last_error("backup");
    // One step: the whole copy reads one snapshot of the source, so it is
    // consistent even while other connections commit (WAL lets them).
    const int step = sqlite3_backup_step(backup, -1);
    sqlite3_backup_finish(backup);
    if (step != SQLITE_DONE) {
      return Error{errc_of(step), std::string("backup: ") + sqlite3_errstr(step)};
    }
    if (auto check = dest.quick_check(); !check) return check.error();
    return {};
  }();
  if (!copied) {
    remove_all();
    return copied.error();
  }
  // The copy is closed (and synced by SQLite's full sync); make its
  // directory entry durable too.
  const int dir =
      ::open(out.parent_path().empty() ? "." : out.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return {};
}

Result<bool> Database::checkpoint_truncate() {
  auto row = first_row(prepare("PRAGMA wal_checkpoint(TRUNCATE);"), [](const Statement& s) { return s.integer(0); });
  if (!row) return row.error();
  return !*row || **row == 0;  // first column: 1 if it could not complete
}

Result<void> Database::quick_check() {
  auto rows = collect_rows(prepare("PRAGMA quick_check;"), [](const Statement& s) { return s.text(0); });
  if (!rows) return rows.error();
  if (rows->size() == 1 && rows->front() == "ok") return {};
  return Error{Errc::corrupt, "database check failed: " + (rows->empty() ? std::string("no answer") : rows->front())};
}

namespace {

// A statement (a pragma, a one-row query) that yields one integer; `fallback`
// if it cannot be read.
std::int64_t integer_of(Database& db, std::string_view pragma, std::int64_t fallback) {
  auto value = first_row(db.prepare(pragma), [](const Statement& s) { return s.integer(0); });
  return value && *value ? **value : fallback;
}

}  // namespace

int Database::schema_version() { return static_cast<int>(integer_of(*this, "PRAGMA user_version;", 0)); }

std::int64_t Database::data_version() { return integer_of(*this, "PRAGMA data_version;", -1); }

std::int64_t Database::live_state_generation() {
  return integer_of(*this, "SELECT generation FROM live_state_generation WHERE id = 1;", -1);
}

int Database::changes() const { return sqlite3_changes(db_.get()); }

}  // namespace sipsite::store
