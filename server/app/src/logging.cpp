#include "logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <mutex>

namespace sipsite::app {

namespace {

constexpr std::array<std::string_view, 6> kModules = {"app", "federation", "media", "pki", "store", "trace"};

std::shared_ptr<spdlog::sinks::stderr_sink_mt> shared_sink() {
  static auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  return sink;
}

std::mutex g_mutex;  // guards g_spec and logger creation
LogSpec g_spec;

spdlog::level::level_enum level_for(const LogSpec& spec, std::string_view module) {
  for (const auto& [name, level] : spec.modules) {
    if (name == module) return level;
  }
  return spec.base;
}

std::optional<spdlog::level::level_enum> parse_level(std::string_view text) {
  static constexpr std::pair<std::string_view, spdlog::level::level_enum> kLevels[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug}, {"info", spdlog::level::info},
      {"warn", spdlog::level::warn},   {"error", spdlog::level::err},   {"off", spdlog::level::off}};
  for (const auto& [name, level] : kLevels) {
    if (text == name) return level;
  }
  return std::nullopt;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// True when stderr is the journal stream systemd set up for this service
// ($JOURNAL_STREAM is "DEVICE:INODE" of that stream; a child whose stderr was
// redirected inherits the variable but not the stream).
bool stderr_is_journal() {
  const char* env = std::getenv("JOURNAL_STREAM");
  if (env == nullptr) return false;
  const std::string_view text(env);
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::from_chars(text.data(), text.data() + colon, dev).ec != std::errc{}) return false;
  if (std::from_chars(text.data() + colon + 1, text.data() + text.size(), ino).ec != std::errc{}) return false;
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev && static_cast<unsigned long long>(st.st_ino) == ino;
}

// "%*": the syslog priority prefix journald reads from a stream ("<3>" error
// ... "<7>" debug), so `journalctl -p warning` works.
class SyslogPriorityFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    int priority = 6;
    switch (msg.level) {
      case spdlog::level::trace:
      case spdlog::level::debug: priority = 7; break;
      case spdlog::level::info: priority = 6; break;
      case spdlog::level::warn: priority = 4; break;
      case spdlog::level::err: priority = 3; break;
      case spdlog::level::critical: priority = 2; break;
      default: break;
    }
    const char text[3] = {'<', static_cast<char>('0' + priority), '>'};
    dest.append(text, text + 3);
  }
  std::unique_ptr<spdlog::custom_flag_formatter> clone() const override {
    return std::make_unique<SyslogPriorityFlag>();
  }
};

}  // namespace

std::span<const std::string_view> log_modules() { return kModules; }

std::pair<std::optional<LogSpec>, std::string> parse_log_spec(std::string_view text) {
  LogSpec spec;
  bool have_base = false;
  std::string_view rest = text;
  for (int items = 0; items < 64; ++items) {
    const auto comma = rest.find(',');
    const std::string_view item = trim(rest.substr(0, comma));
    std::string quoted(1, '\'');
    quoted.append(item).push_back('\'');
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      const auto level = parse_level(item);
      if (!level) return {std::nullopt, quoted + ": a level must be one of trace, debug, info, warn, error, off"};
      if (have_base) return {std::nullopt, quoted + ": only one level without a module"};
      spec.base = *level;
      have_base = true;
    } else {
      const std::string_view module = trim(item.substr(0, eq));
      const auto level = parse_level(trim(item.substr(eq + 1)));
      if (std::find(kModules.begin(), kModules.end(), module) == kModules.end()) {
        std::string error = quoted + ": unknown module (modules: ";
        for (std::size_t i = 0; i < kModules.size(); ++i) error.append(i == 0 ? "" : ", ").append(kModules[i]);
        return {std::nullopt, error + ")"};
      }
      if (!level) return {std::nullopt, quoted + ": a level must be one of trace, debug, info, warn, error, off"};
      for (const auto& [name, _] : spec.modules) {
        if (name == module) return {std::nullopt, quoted + ": module named twice"};
      }
      spec.modules.emplace_back(std::string(module), *level);
    }
    if (comma == std::string_view::npos) return {std::move(spec), {}};
    rest.remove_prefix(comma + 1);
  }
  return {std::nullopt, "too many items"};
}

bool init_logging(std::string_view text) {
  auto [spec, error] = parse_log_spec(text);
  if (!spec) return false;
  std::lock_guard lock(g_mutex);
  g_spec = std::move(*spec);
  if (stderr_is_journal()) {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<SyslogPriorityFlag>('*').set_pattern("%*%l %n: %v");
    shared_sink()->set_formatter(std::move(formatter));
  } else {
    shared_sink()->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %n: %v");
  }
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->set_level(level_for(g_spec, l->name())); });
  return true;
}

std::shared_ptr<spdlog::logger> logger(std::string_view module) {
  std::lock_guard lock(g_mutex);
  const std::string name(module);
  if (auto existing = spdlog::get(name)) return existing;
  auto created = std::make_shared<spdlog::logger>(name, shared_sink());
  created->set_level(level_for(g_spec, name));
  created->flush_on(spdlog::level::trace);
  spdlog::register_logger(created);
  return created;
}

}  // namespace sipsite::app
