#pragma once
// The database key: 32 random bytes given to SQLCipher as a raw key (so no
// passphrase KDF runs on every open). Kept in a key file of 64 hex digits.

#include <sipsite/store/error.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace sipsite::store {

class DbKey {
 public:
  static constexpr std::size_t kSize = 32;

  static Result<DbKey> generate();
  // 64 hex digits, surrounding whitespace ignored.
  static Result<DbKey> from_hex(std::string_view hex);

  DbKey(const DbKey&) = default;
  DbKey& operator=(const DbKey&) = default;
  ~DbKey();  // wipes the bytes

  // Lowercase hex. The caller must wipe or drop it promptly.
  std::string hex() const;
  bool operator==(const DbKey& other) const;

 private:
  DbKey() = default;
  std::array<std::uint8_t, kSize> bytes_{};
};

// Reads a key file. Refuses a file that group or others may read or write
// (like ssh with private keys), a symlink target excepted only if the target
// itself is private, and anything but 64 hex digits.
Result<DbKey> read_key_file(const std::filesystem::path& path);

// Creates `path` with mode 0600 and writes the key; refuses to overwrite.
Result<void> write_key_file(const std::filesystem::path& path, const DbKey& key);

}  // namespace sipsite::store
