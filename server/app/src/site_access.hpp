#pragma once
// What every command needs: the global options, the state directory and key
// file they resolve to, the opened database, and the one-line error helpers
// that give DESIGN.md's exit codes (0 ok, 1 runtime error, 2 bad usage).

#include <sipsite/pki/certificate.hpp>
#include <sipsite/store/database.hpp>
#include <sipsite/store/site_repository.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace sipsite::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntime = 1;
inline constexpr int kExitUsage = 2;

struct GlobalOptions {
  std::filesystem::path state_dir;
  std::optional<std::filesystem::path> db_key_file;
  std::optional<std::filesystem::path> config_file;
  std::string log_level;  // empty: from config, else "info"
};

// /var/lib/sipsite when root, else ./sipsite-state.
std::filesystem::path default_state_dir();

// Where the database key comes from, in order: the systemd credential
// $CREDENTIALS_DIRECTORY/sipsite-db-key, --db-key-file, STATE/db.key.
struct KeySource {
  std::filesystem::path path;
  bool is_default;  // STATE/db.key, which init creates and --force replaces
};
KeySource resolve_key_source(const GlobalOptions& options);

// The config file to read: --config, else STATE/sipsite.toml if present.
std::optional<std::filesystem::path> resolve_config_path(const GlobalOptions& options);

// Prints "sipsite: <message>" as one line on stderr and returns the code.
int fail(int exit_code, std::string_view message);
int fail(const store::Error& error);  // store errors are runtime errors

// Opens an existing site database and loads its identity.
struct OpenSite {
  store::Database db;
  store::SiteRecord site;
};
store::Result<OpenSite> open_site(const GlobalOptions& options);

// "cli:<login name>" for the audit log.
std::string cli_actor();

using pki::iso8601;

}  // namespace sipsite::app
