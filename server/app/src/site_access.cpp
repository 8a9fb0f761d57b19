#include "site_access.hpp"

#include <sipsite/store/state_dir.hpp>

#include <cstdlib>
#include <ctime>
#include <iostream>
#include <pwd.h>
#include <unistd.h>

namespace sipsite::app {

std::filesystem::path default_state_dir() {
  return ::geteuid() == 0 ? std::filesystem::path("/var/lib/sipsite") : std::filesystem::path("sipsite-state");
}

KeySource resolve_key_source(const GlobalOptions& options) {
  if (const char* creds = std::getenv("CREDENTIALS_DIRECTORY"); creds != nullptr && *creds != '\0') {
    const auto credential = std::filesystem::path(creds) / "sipsite-db-key";
    std::error_code ec;
    if (std::filesystem::exists(credential, ec)) return {credential, false};
  }
  if (options.db_key_file) return {*options.db_key_file, false};
  return {store::default_key_path(options.state_dir), true};
}

std::optional<std::filesystem::path> resolve_config_path(const GlobalOptions& options) {
  if (options.config_file) return options.config_file;
  const auto in_state = options.state_dir / "sipsite.toml";
  std::error_code ec;
  if (std::filesystem::exists(in_state, ec)) return in_state;
  return std::nullopt;
}

int fail(int exit_code, std::string_view message) {
  std::cerr << "sipsite: " << message << std::endl;
  return exit_code;
}

int fail(const store::Error& error) { return fail(kExitRuntime, error.message); }

store::Result<OpenSite> open_site(const GlobalOptions& options) {
  const auto db_path = store::database_path(options.state_dir);
  std::error_code ec;
  if (!std::filesystem::exists(db_path, ec)) {
    return store::Error{store::Errc::not_initialised, "no site in " + options.state_dir.string() +
                                                          " (run 'sipsite init --domain DOMAIN' first, or pass "
                                                          "--state-dir)"};
  }
  auto key = store::read_key_file(resolve_key_source(options).path);
  if (!key) return key.error();
  auto db = store::Database::open(db_path, *key, store::OpenMode::existing);
  if (!db) return db.error();
  auto site = store::SiteRepository(*db).load();
  if (!site) return site.error();
  return OpenSite{std::move(*db), std::move(*site)};
}

std::string cli_actor() {
  const passwd* pw = ::getpwuid(::geteuid());
  return "cli:" + (pw != nullptr ? std::string(pw->pw_name) : std::to_string(::geteuid()));
}

}  // namespace sipsite::app
