#pragma once
// Console passwords: generated one-time passwords and Argon2id hashes.

#include <optional>
#include <string>
#include <string_view>

namespace sipsite::webadmin {

// Argon2id parameters (OWASP's minimum: 19 MiB, 2 passes, 1 lane). Stated
// here so a test can check the encoded hash carries them.
inline constexpr unsigned kArgon2MemoryKiB = 19 * 1024;
inline constexpr unsigned kArgon2Passes = 2;
inline constexpr unsigned kArgon2Lanes = 1;

// 20 characters from an alphabet without look-alikes (no 0/O, 1/l/I), in
// four dash-separated groups: ~99 bits, easy to type from a terminal.
std::string generate_one_time_password();

// Encoded Argon2id hash with a random salt ("$argon2id$v=19$m=…"), or
// nullopt if hashing failed (out of memory).
std::optional<std::string> hash_password(std::string_view password);

// Constant-time check of `password` against an encoded hash; false for a
// malformed hash.
bool verify_password(std::string_view encoded_hash, std::string_view password);

}  // namespace sipsite::webadmin
