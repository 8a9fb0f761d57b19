#pragma once
// One SQLCipher connection. Not thread-safe: each thread that needs the
// database opens its own connection (SQLite serialises writers across
// connections and processes; readers see committed data through WAL).

#include <sipsite/store/db_key.hpp>
#include <sipsite/store/error.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace sipsite::store {

// A prepared statement with positional parameters (1-based, as in SQLite).
class Statement {
 public:
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind(int index, std::nullopt_t);
  // NULL when empty.
  template <class T>
  Statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind(index, std::nullopt);
  }
  Statement& bind_blob(int index, std::string_view bytes);

  // true: a row is ready; false: done.
  Result<bool> step();
  std::string text(int column) const;
  std::int64_t integer(int column) const;
  bool is_null(int column) const;
  std::optional<std::int64_t> optional_integer(int column) const;
  std::optional<std::string> optional_text(int column) const;
  // A BLOB (or TEXT) column's bytes.
  std::string blob(int column) const;
  // Back to before the first step, parameters unbound: ready to run again.
  void reset();

 private:
  friend class Database;
  struct Finalize {
    void operator()(sqlite3_stmt* s) const;
  };
  Statement(sqlite3_stmt* s, sqlite3* db) : stmt_(s), db_(db) {}
  std::unique_ptr<sqlite3_stmt, Finalize> stmt_;
  sqlite3* db_;
};

enum class OpenMode {
  existing,  // the file must exist; never creates one
  create,    // the file must not exist; creates it (mode 0600)
};

class Database {
 public:
  // Opens (or creates) the database, checks the key, applies pending
  // migrations. A wrong key is Errc::wrong_key and leaves the file untouched.
  static Result<Database> open(const std::filesystem::path& path, const DbKey& key, OpenMode mode);
  // As open(), but migrates only up to `schema_version` (tests of upgrades).
  static Result<Database> open_at_version(const std::filesystem::path& path, const DbKey& key, OpenMode mode,
                                          int schema_version);

  Result<Statement> prepare(std::string_view sql);

  template <class... Args>
  Result<Statement> query(std::string_view sql, const Args&... args) {
    auto stmt = prepare(sql);
    if (stmt) bind_all(*stmt, 1, args...);
    return stmt;
  }

  // Runs a statement that returns no rows; returns the number of rows changed.
  template <class... Args>
  Result<int> execute(std::string_view sql, const Args&... args) {
    auto stmt = query(sql, args...);
    if (!stmt) return stmt.error();
    if (auto done = stmt->step(); !done) return done.error();
    return changes();
  }

  // As execute(), with the statement compiled once per connection and
  // kept: for statements a writer runs many times (call records).
  template <class... Args>
  Result<int> execute_cached(std::string_view sql, const Args&... args) {
    auto stmt = cached(sql);
    if (!stmt) return stmt.error();
    bind_all(**stmt, 1, args...);
    auto done = (*stmt)->step();
    (*stmt)->reset();
    if (!done) return done.error();
    return changes();
  }
  // The rowid of the latest INSERT on this connection.
  std::int64_t last_insert_rowid() const;

  // Runs several statements without parameters (migrations, pragmas).
  Result<void> execute_script(std::string_view sql);

  // BEGIN IMMEDIATE … COMMIT around `work`; ROLLBACK if it returns an error.
  // Called inside another transaction, a savepoint instead (rolled back on
  // error), so atomic repository calls compose.
  Result<void> transaction(const std::function<Result<void>()>& work);

  // Writes a consistent snapshot of this database to `out`, a new file
  // (mode 0600; Errc::already_exists if it exists) encrypted with `key`
  // and the same cipher settings: SQLite's online backup in one step, so
  // other connections keep reading and writing meanwhile (WAL). A failed
  // backup leaves no file behind.
  Result<void> backup_to(const std::filesystem::path& out, const DbKey& key);

  // PRAGMA wal_checkpoint(TRUNCATE): copies the WAL into the database file
  // and empties it. false when readers kept it from completing (not an
  // error: the next checkpoint finishes the job).
  Result<bool> checkpoint_truncate();

  // PRAGMA quick_check; Errc::corrupt with SQLite's words if not "ok".
  Result<void> quick_check();

  int schema_version();
  // Changes whenever another connection commits (PRAGMA data_version):
  // cheap polling for "did the CLI change something?".
  std::int64_t data_version();
  // Moves whenever what the daemon keeps in memory changes (users, peers and
  // their previous pins, settings, the site), from any connection; call
  // records, messages, logs and pending requests leave it alone (migration
  // 007). -1 if it cannot be read.
  std::int64_t live_state_generation();
  int changes() const;
  const std::filesystem::path& path() const { return path_; }

 private:
  struct Close {
    void operator()(sqlite3* db) const;
  };
  static Result<Database> open_and_migrate(const std::filesystem::path& path, const DbKey& key, OpenMode mode,
                                           int schema_version);
  Database(sqlite3* db, std::filesystem::path path) : db_(db), path_(std::move(path)) {}
  Error last_error(std::string_view what) const;
  // The statement for `sql`, prepared on first use and kept (reset after
  // each use by the caller).
  Result<Statement*> cached(std::string_view sql);

  static void bind_all(Statement&, int) {}
  template <class First, class... Rest>
  static void bind_all(Statement& s, int index, const First& first, const Rest&... rest) {
    s.bind(index, first);
    bind_all(s, index + 1, rest...);
  }

  std::unique_ptr<sqlite3, Close> db_;
  std::filesystem::path path_;
  // After db_: finalized before the connection closes.
  std::unique_ptr<std::map<std::string, Statement, std::less<>>> cache_ =
      std::make_unique<std::map<std::string, Statement, std::less<>>>();
};

// Reads every row of `stmt` with `read(const Statement&) -> T`.
template <class Read>
auto collect_rows(Result<Statement> stmt, Read read)
    -> Result<std::vector<decltype(read(std::declval<const Statement&>()))>> {
  using T = decltype(read(std::declval<const Statement&>()));
  if (!stmt) return stmt.error();
  std::vector<T> rows;
  while (true) {
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return rows;
    rows.push_back(read(*stmt));
  }
}

// Reads the first row of `stmt`, if any.
template <class Read>
auto first_row(Result<Statement> stmt, Read read)
    -> Result<std::optional<decltype(read(std::declval<const Statement&>()))>> {
  using T = decltype(read(std::declval<const Statement&>()));
  if (!stmt) return stmt.error();
  auto row = stmt->step();
  if (!row) return row.error();
  if (!*row) return std::optional<T>();
  return std::optional<T>(read(*stmt));
}

// The latest schema version this build knows (number of embedded migrations).
int latest_schema_version();

}  // namespace sipsite::store
