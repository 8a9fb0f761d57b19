#include <sipsite/pki/domain_name.hpp>
#include "sipsite/common/ascii.hpp"

#include <algorithm>
#include <cctype>

namespace sipsite::pki {

bool is_valid_domain_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t start = 0;
  std::string_view last_label;
  while (start <= name.size()) {
    const std::size_t dot = std::min(name.find('.', start), name.size());
    const std::string_view label = name.substr(start, dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    const bool ok = std::all_of(label.begin(), label.end(),
                                [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; });
    if (!ok) return false;
    last_label = label;
    start = dot + 1;
  }
  return !std::all_of(last_label.begin(), last_label.end(),
                      [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

std::string lowercase_domain(std::string_view name) { return common::ascii_lower(name); }

}  // namespace sipsite::pki
