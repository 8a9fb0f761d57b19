#include "sipsite/metrics/process_metrics.hpp"

#include "sipsite/metrics/exposition.hpp"

#include <unistd.h>

#include <charconv>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>
#include <vector>

namespace sipsite::metrics {

namespace {

std::optional<std::string> read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<std::uint64_t> to_u64(std::string_view s) {
  std::uint64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc{} || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// The fields of /proc/PID/stat after the command name (which is in
// parentheses and may itself hold spaces and parentheses): index 0 is
// field 3 (state) of proc(5).
std::vector<std::string_view> stat_fields(std::string_view text) {
  std::vector<std::string_view> out;
  const auto close = text.rfind(')');
  if (close == std::string_view::npos) return out;
  text.remove_prefix(close + 1);
  while (!text.empty()) {
    const auto start = text.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    text.remove_prefix(start);
    const auto end = text.find_first_of(" \n");
    out.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end);
  }
  return out;
}

std::optional<std::uint64_t> field(const std::vector<std::string_view>& fields, std::size_t number) {
  if (number < 3 || number - 3 >= fields.size()) return std::nullopt;
  return to_u64(fields[number - 3]);
}

std::optional<std::uint64_t> boot_time(const std::filesystem::path& stat) {
  const auto text = read_file(stat);
  if (!text) return std::nullopt;
  std::istringstream lines(*text);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("btime ")) return to_u64(std::string_view(line).substr(6));
  }
  return std::nullopt;
}

// The soft limit of "Max open files" in /proc/PID/limits.
std::optional<std::uint64_t> max_open_files(const std::filesystem::path& limits) {
  const auto text = read_file(limits);
  if (!text) return std::nullopt;
  std::istringstream lines(*text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("Max open files")) continue;
    std::istringstream words(line.substr(14));
    std::string soft;
    words >> soft;
    return to_u64(soft);
  }
  return std::nullopt;
}

std::optional<std::uint64_t> open_fds(const std::filesystem::path& dir) {
  std::error_code ec;
  std::uint64_t n = 0;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) ++n;
  if (ec) return std::nullopt;
  return n;
}

void gauge(std::string& out, std::string_view name, std::string_view type, std::string_view help,
           std::optional<double> v) {
  if (!v) return;
  family(out, name, type, help);
  sample(out, name, "", number(*v));
}

}  // namespace

std::string process_metrics(const ProcFiles& files) {
  std::string out;
  const long ticks = sysconf(_SC_CLK_TCK);
  const long page = sysconf(_SC_PAGESIZE);
  const auto stat_text = read_file(files.self / "stat");
  const auto fields = stat_text ? stat_fields(*stat_text) : std::vector<std::string_view>{};
  std::optional<double> cpu, start, rss, vsize;
  if (const auto u = field(fields, 14), s = field(fields, 15); u && s && ticks > 0) {
    cpu = static_cast<double>(*u + *s) / static_cast<double>(ticks);
  }
  if (const auto st = field(fields, 22), bt = boot_time(files.stat); st && bt && ticks > 0) {
    start = static_cast<double>(*bt) + static_cast<double>(*st) / static_cast<double>(ticks);
  }
  if (const auto v = field(fields, 23)) vsize = static_cast<double>(*v);
  if (const auto r = field(fields, 24); r && page > 0) rss = static_cast<double>(*r) * static_cast<double>(page);
  std::optional<double> fds, max_fds;
  if (const auto n = open_fds(files.self / "fd")) fds = static_cast<double>(*n);
  if (const auto n = max_open_files(files.self / "limits")) max_fds = static_cast<double>(*n);

  gauge(out, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", cpu);
  gauge(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", rss);
  gauge(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", vsize);
  gauge(out, "process_open_fds", "gauge", "Number of open file descriptors.", fds);
  gauge(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.", max_fds);
  gauge(out, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", start);
  return out;
}

}  // namespace sipsite::metrics
