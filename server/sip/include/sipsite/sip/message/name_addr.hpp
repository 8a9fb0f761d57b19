#pragma once
// name-addr / addr-spec with header parameters: the value shape of From, To,
// Contact, Route, Record-Route, Reply-To, P-Asserted-Identity and friends.

#include "sipsite/sip/message/param.hpp"
#include "sipsite/sip/message/parse_error.hpp"
#include "sipsite/sip/message/uri.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::sip {

struct NameAddr {
  // As written: a quoted-string keeps its quotes, a token run is trimmed;
  // empty when absent. See display_name_text() for the decoded text.
  std::string_view display_name;
  bool angle_brackets = false;  // name-addr ("<uri>") rather than addr-spec
  Uri uri;
  Params params;  // header parameters after the URI: tag, q, expires, ...

  [[nodiscard]] std::optional<std::string_view> tag() const noexcept;
  [[nodiscard]] std::string display_name_text() const { return unquote(display_name); }
};

// Parses one name-addr or addr-spec followed by *( SEMI generic-param ).
// Strict where RFC 3261 is: in addr-spec form every ';' starts a header
// parameter and a URI with ',' or '?' must be in <> (RFC 4475 regbadct);
// no whitespace inside <> (badaspec); a display name is a quoted-string or
// tokens (baddn). No LWS is needed before '<' (lwsdisp).
[[nodiscard]] Result<NameAddr> parse_name_addr(std::string_view value);

// Comma-separated name-addr list (Route, Record-Route, Path, ...). Empty
// elements are errors.
[[nodiscard]] Result<std::vector<NameAddr>> parse_name_addr_list(std::string_view value);

struct ContactList {
  bool star = false;  // "Contact: *" (REGISTER remove-all); contacts is then empty
  std::vector<NameAddr> contacts;
};

[[nodiscard]] Result<ContactList> parse_contact_list(std::string_view value);

// The address of record a name-addr names, "user@host" (user unescaped),
// for records and logs; a non-SIP URI as written.
[[nodiscard]] std::string aor_of(const NameAddr& na);

}  // namespace sipsite::sip
