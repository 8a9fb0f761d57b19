#pragma once
// SIP users (AORs) as the CLI and the console create them: one set of rules
// for the address and the password, and the digest credentials that are kept
// instead of the password (RFC 7616: HA1 = H(username ":" realm ":"
// password), realm = the site domain).

#include <sipsite/store/user_repository.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sipsite::admin {

inline constexpr std::size_t kMaxUsername = 64;
inline constexpr std::size_t kMinUserPassword = 8;
inline constexpr std::size_t kMaxUserPassword = 256;

struct Aor {
  std::string username;
  std::string domain;  // lowercase
};

// "alice@alpha.example" or "sip:alice@alpha.example". The user part keeps to
// characters every phone and digest implementation handles unescaped. On
// failure returns nullopt and sets `why` to one phrase for the admin.
std::optional<Aor> parse_aor(std::string_view text, std::string& why);

// nullopt when `password` is acceptable for a SIP user (8-256 characters,
// no control characters); else why not.
std::optional<std::string> check_user_password(std::string_view password);

// The stored record for `aor` with `password` in `realm` (both HA1s). The
// password and the intermediate A1 string are wiped; the caller wipes its
// own copy.
store::UserRecord make_user_record(const Aor& aor, std::string_view realm, std::string_view password);

}  // namespace sipsite::admin
