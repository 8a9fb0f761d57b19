#pragma once
// Logging for the daemon: levelled lines on stderr, one per event. Under
// systemd (stderr is the journal stream) lines carry no timestamp, since
// journald stamps them, and start with a syslog priority prefix ("<6>") so
// `journalctl -p` filters by level. Only server/app logs; libraries return
// errors.

#include <spdlog/spdlog.h>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sipsite::app {

// The modules that log (logger(name) names); a level spec may name these.
std::span<const std::string_view> log_modules();

// A level spec: "LEVEL" or "LEVEL,MODULE=LEVEL,..." or "MODULE=LEVEL,...",
// e.g. "info,federation=debug". LEVEL is trace, debug, info, warn, error or
// off; a module without its own level logs at the base level (info when the
// spec names none).
struct LogSpec {
  spdlog::level::level_enum base = spdlog::level::info;
  std::vector<std::pair<std::string, spdlog::level::level_enum>> modules;
};

// Returns the parsed spec, or a one-line error.
std::pair<std::optional<LogSpec>, std::string> parse_log_spec(std::string_view text);

// Returns false for a spec parse_log_spec refuses.
bool init_logging(std::string_view spec);
std::shared_ptr<spdlog::logger> logger(std::string_view module);

}  // namespace sipsite::app
