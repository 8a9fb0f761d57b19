#pragma once
// ASCII case rules (SIP tokens, host names, HTTP fields, hex). Locale-free on
// purpose: std::tolower depends on the C locale, and protocol text must not.

#include <string>
#include <string_view>

namespace sipsite::common {

[[nodiscard]] constexpr char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

[[nodiscard]] std::string ascii_lower(std::string_view text);

// Equal ignoring ASCII case.
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;

// `text` begins with `prefix`, ignoring ASCII case.
[[nodiscard]] bool istarts_with(std::string_view text, std::string_view prefix) noexcept;

// `text` ends with `suffix`, ignoring ASCII case.
[[nodiscard]] bool iends_with(std::string_view text, std::string_view suffix) noexcept;

}  // namespace sipsite::common
