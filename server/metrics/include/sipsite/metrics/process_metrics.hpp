#pragma once
// The standard process_* metrics of Prometheus client libraries, read from
// Linux's /proc: process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds and
// process_start_time_seconds. A value that cannot be read is left out
// (never a made-up number, never an exception).

#include <filesystem>
#include <string>

namespace sipsite::metrics {

struct ProcFiles {
  std::filesystem::path self = "/proc/self";  // stat, fd/, limits
  std::filesystem::path stat = "/proc/stat";  // btime (boot time)
};

std::string process_metrics(const ProcFiles& files = {});

}  // namespace sipsite::metrics
