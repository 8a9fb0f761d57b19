#include "sipsite/metrics/process_metrics.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace sipsite::metrics {
namespace {

namespace fs = std::filesystem;

class ProcessMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sipsite-proc-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / "self" / "fd");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const fs::path& p, const std::string& text) { std::ofstream(dir_ / p) << text; }
  ProcFiles files() const { return {dir_ / "self", dir_ / "stat"}; }

  fs::path dir_;
};

// A made-up process: field 14 utime, 15 stime, 22 starttime (clock ticks),
// 23 vsize (bytes), 24 rss (pages). The command name holds a space and a
// parenthesis, as a process may name itself.
constexpr const char* kStat =
    "4242 (sip site) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 150 0 0 20 0 3 0 12345 104857600 2560 "
    "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";

TEST_F(ProcessMetricsTest, ReadsTheStandardValuesFromProc) {
  write("self/stat", kStat);
  write("stat", "cpu  1 2 3\nbtime 1700000000\nprocesses 9\n");
  write("self/limits",
        "Limit                     Soft Limit           Hard Limit           Units     \n"
        "Max open files            1024                 524288               files     \n");
  for (const char* fd : {"0", "1", "2", "7"}) write(fs::path("self/fd") / fd, "");
  const std::string out = process_metrics(files());
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  const auto value = [&](const std::string& name) {
    const auto at = out.find("\n" + name + " ");
    EXPECT_NE(at, std::string::npos) << name << " missing in\n" << out;
    return at == std::string::npos ? -1.0 : std::stod(out.substr(at + name.size() + 2));
  };
  EXPECT_DOUBLE_EQ(value("process_cpu_seconds_total"), 400 / ticks);
  EXPECT_DOUBLE_EQ(value("process_start_time_seconds"), 1700000000 + 12345 / ticks);
  EXPECT_DOUBLE_EQ(value("process_virtual_memory_bytes"), 104857600);
  EXPECT_DOUBLE_EQ(value("process_resident_memory_bytes"), 2560 * page);
  EXPECT_DOUBLE_EQ(value("process_open_fds"), 4);
  EXPECT_DOUBLE_EQ(value("process_max_fds"), 1024);
  EXPECT_NE(out.find("# TYPE process_cpu_seconds_total counter\n"), std::string::npos);
  EXPECT_NE(out.find("# TYPE process_open_fds gauge\n"), std::string::npos);
}

TEST_F(ProcessMetricsTest, WhatCannotBeReadIsLeftOutNotInvented) {
  write("self/stat", "garbage without a parenthesis\n");
  write("self/limits", "Max open files            unlimited            unlimited            files\n");
  fs::remove_all(dir_ / "self" / "fd");
  EXPECT_EQ(process_metrics(files()), "");
}

TEST(ProcessMetrics, TheRealProcessHasEveryFamily) {
  const std::string out = process_metrics();
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
                           "process_open_fds", "process_max_fds", "process_start_time_seconds"}) {
    EXPECT_NE(out.find(std::string("\n") + name + " "), std::string::npos) << name << " missing in\n" << out;
  }
}

}  // namespace
}  // namespace sipsite::metrics
