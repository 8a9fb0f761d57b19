// libFuzzer target for the daemon's configuration file (TOML through
// toml++, then every key's validation in config.cpp). Bad input must be a
// ConfigError with a one-line message, never a crash or an escaping
// exception; an accepted configuration must be usable (listener ports in
// range, a media range that is a range). Any crash, sanitizer report or
// broken invariant (abort) is a bug.

#include "config.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

void check(bool invariant) {
  if (!invariant) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto config = sipsite::app::parse_config(text, "fuzz.toml");
  if (!config) {
    const auto& message = config.error().message;
    check(!message.empty());
    check(message.find('\n') == std::string_view::npos);
    return 0;
  }
  check(config->media_ports.first <= config->media_ports.last);
  check(!config->digest_algorithms.empty());
  return 0;
}
