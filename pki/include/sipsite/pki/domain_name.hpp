#pragma once

#include <string>
#include <string_view>

namespace sipsite::pki {

// A DNS domain a site may be named by: 1–253 characters, dot-separated
// labels of 1–63 letters, digits or hyphens, no label starting or ending with
// a hyphen, not all-numeric in the last label (so no IPv4 literal).
bool is_valid_domain_name(std::string_view name);

// ASCII lowercase copy; domains compare case-insensitively.
std::string lowercase_domain(std::string_view name);

}  // namespace sipsite::pki
