#pragma once
// Decrypts every page of an SQLCipher 3 database file (and its WAL) with the
// raw key, free pages included, so a test can look for bytes that SQL no
// longer returns: what a thief with the key, or a bug that leaks it, would
// find. Page layout (SQLCipher 3, raw key, HMAC on): AES-256-CBC over the
// page minus the 48 reserved bytes, the IV first in the reserve; page 1
// starts with the 16-byte salt instead of SQLite's header.

#include "support/temp_dir.hpp"

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <string>

namespace sipsite::test {

constexpr std::size_t kPageSize = 4096;
constexpr std::size_t kReserve = 48;

inline std::string decrypt_page(const std::string& raw_key, std::string_view page, bool first) {
  if (page.size() != kPageSize) return {};
  const std::size_t offset = first ? 16 : 0;
  const std::size_t size = kPageSize - kReserve - offset;
  const auto* iv = reinterpret_cast<const unsigned char*>(page.data() + kPageSize - kReserve);
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string out(size, '\0');
  int n = 0;
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, reinterpret_cast<const unsigned char*>(raw_key.data()),
                         iv) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n,
                        reinterpret_cast<const unsigned char*>(page.data() + offset), static_cast<int>(size)) != 1) {
    return {};
  }
  return out;
}

inline std::string raw_key_of(const std::string& hex) {
  std::string key;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    key += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return key;
}

// The plaintext of every page in the database file and its WAL (frames
// after the 32-byte header, each a 24-byte frame header and a page).
inline std::string decrypted_database(const std::filesystem::path& db, const std::string& key_hex) {
  const std::string key = raw_key_of(key_hex);
  std::string plain;
  const std::string file = read_file(db);
  for (std::size_t off = 0; off + kPageSize <= file.size(); off += kPageSize) {
    plain += decrypt_page(key, std::string_view(file).substr(off, kPageSize), off == 0);
  }
  std::error_code ec;
  const auto wal_path = db.string() + "-wal";
  if (std::filesystem::exists(wal_path, ec)) {
    const std::string wal = read_file(wal_path);
    for (std::size_t off = 32; off + 24 + kPageSize <= wal.size(); off += 24 + kPageSize) {
      const auto* h = reinterpret_cast<const unsigned char*>(wal.data() + off);
      const std::uint32_t pgno =
          (std::uint32_t{h[0]} << 24) | (std::uint32_t{h[1]} << 16) | (std::uint32_t{h[2]} << 8) | h[3];
      plain += decrypt_page(key, std::string_view(wal).substr(off + 24, kPageSize), pgno == 1);
    }
  }
  return plain;
}

}  // namespace sipsite::test
