#pragma once
// The input format of the fuzz targets that replay message sequences
// (core_fuzz, federation_fuzz): messages separated by "\n--\n", each led by
// one control byte whose meaning is the target's.

#include <cstdint>
#include <string_view>

namespace sipsite::fuzz {

// Calls step(control, message) for every non-empty message of `input`.
template <class Step>
void for_each_step(std::string_view input, Step&& step) {
  while (!input.empty()) {
    const auto cut = input.find("\n--\n");
    std::string_view chunk = input.substr(0, cut);
    input = cut == std::string_view::npos ? std::string_view{} : input.substr(cut + 4);
    if (chunk.empty()) continue;
    const auto control = static_cast<std::uint8_t>(chunk.front());
    chunk.remove_prefix(1);
    step(control, chunk);
  }
}

}  // namespace sipsite::fuzz
