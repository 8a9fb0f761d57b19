#pragma once
// Splitting comma-separated header values (RFC 3261 7.3.1).

#include <string_view>
#include <vector>

namespace sipsite::sip {

// Splits a header value on commas that are outside quoted strings (with
// their quoted-pairs) and outside <...>. Elements are trimmed of SP/HTAB;
// empty elements are kept (typed parsers reject them where the grammar
// does), so "a,,b" yields {"a", "", "b"} and "" yields {""}. Views point
// into value.
[[nodiscard]] std::vector<std::string_view> split_list(std::string_view value);

}  // namespace sipsite::sip
