#pragma once
// Parameters: ";name[=value]" on header values (generic-param) and on SIP
// URIs (uri-parameter). Views point into the parsed text; they stay valid as
// long as that text does (for a Message: as long as the Message lives).

#include "sipsite/sip/message/parse_error.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::sip {

struct Param {
  std::string_view name;
  // nullopt for a flag parameter ("lr", "rport"); a quoted-string value keeps
  // its quotes so that it serializes back unchanged (see unquote()).
  std::optional<std::string_view> value;

  friend bool operator==(const Param&, const Param&) = default;
};

using Params = std::vector<Param>;

// First parameter whose name matches case-insensitively, or nullptr.
[[nodiscard]] const Param* find_param(const Params& params, std::string_view name) noexcept;

// Parses *( SEMI generic-param ) where generic-param = token [ EQUAL gen-value ]
// and gen-value = token / host / quoted-string. Whitespace around ';' and '='
// is allowed (SEMI, EQUAL). The whole input must be consumed; an empty
// parameter (";;") is an error.
[[nodiscard]] Result<Params> parse_generic_params(std::string_view text);

// Removes the quotes of a quoted-string and resolves quoted-pairs; text that
// is not quoted is returned unchanged.
[[nodiscard]] std::string unquote(std::string_view text);

}  // namespace sipsite::sip
