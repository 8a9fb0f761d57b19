#include "logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>

#include <cstdlib>
#include <mutex>

namespace sipsite::app {

namespace {
std::shared_ptr<spdlog::sinks::stderr_sink_mt> shared_sink() {
  static auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  return sink;
}
spdlog::level::level_enum g_level = spdlog::level::info;
}  // namespace

bool init_logging(std::string_view level) {
  const auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") return false;
  g_level = parsed;
  // journald stamps each line itself ($JOURNAL_STREAM is set under systemd).
  const bool under_journald = std::getenv("JOURNAL_STREAM") != nullptr;
  shared_sink()->set_pattern(under_journald ? "%l %n: %v" : "%Y-%m-%dT%H:%M:%S.%e %l %n: %v");
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->set_level(g_level); });
  return true;
}

std::shared_ptr<spdlog::logger> logger(std::string_view module) {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  const std::string name(module);
  if (auto existing = spdlog::get(name)) return existing;
  auto created = std::make_shared<spdlog::logger>(name, shared_sink());
  created->set_level(g_level);
  created->flush_on(spdlog::level::trace);
  spdlog::register_logger(created);
  return created;
}

}  // namespace sipsite::app
