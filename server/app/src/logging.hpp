#pragma once
// Logging for the daemon: levelled lines on stderr, without timestamps when
// journald adds its own. Only server/app logs; libraries return errors.

#include <spdlog/spdlog.h>

#include <memory>
#include <string_view>

namespace sipsite::app {

// Returns false for an unknown level name.
bool init_logging(std::string_view level);
std::shared_ptr<spdlog::logger> logger(std::string_view module);

}  // namespace sipsite::app
