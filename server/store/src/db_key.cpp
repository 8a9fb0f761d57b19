#include <sipsite/store/db_key.hpp>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sipsite/common/hex.hpp"

namespace sipsite::store {

namespace {

// Closes a file descriptor on scope exit.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

DbKey::~DbKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

bool DbKey::operator==(const DbKey& other) const {
  return CRYPTO_memcmp(bytes_.data(), other.bytes_.data(), kSize) == 0;
}

Result<DbKey> DbKey::generate() {
  DbKey key;
  if (RAND_bytes(key.bytes_.data(), kSize) != 1) {
    return Error{Errc::io, "cannot draw random bytes for the database key"};
  }
  return key;
}

Result<DbKey> DbKey::from_hex(std::string_view hex) {
  while (!hex.empty() && std::isspace(static_cast<unsigned char>(hex.back()))) hex.remove_suffix(1);
  while (!hex.empty() && std::isspace(static_cast<unsigned char>(hex.front()))) hex.remove_prefix(1);
  const Error bad{Errc::bad_key_file, "database key must be 64 hex digits (32 bytes)"};
  DbKey key;
  if (!common::from_hex(hex, key.bytes_)) return bad;
  return key;
}

std::string DbKey::hex() const { return common::to_hex(bytes_); }

Result<DbKey> read_key_file(const std::filesystem::path& path) {
  const std::string name = path.string();
  Fd file{::open(name.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) {
    return Error{Errc::bad_key_file, "cannot open database key file " + name + ": " + std::strerror(errno)};
  }
  struct stat st {};
  if (::fstat(file.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return Error{Errc::bad_key_file, "database key file " + name + " is not a regular file"};
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return Error{Errc::bad_key_file,
                 "database key file " + name + " is accessible by group or others; run: chmod 600 " + name};
  }
  char buf[130];
  const ssize_t n = ::read(file.fd, buf, sizeof buf);
  if (n < 0) return Error{Errc::bad_key_file, "cannot read database key file " + name};
  auto key = DbKey::from_hex(std::string_view(buf, static_cast<std::size_t>(n)));
  OPENSSL_cleanse(buf, sizeof buf);
  if (!key) return Error{Errc::bad_key_file, "database key file " + name + ": " + key.error().message};
  return key;
}

Result<void> write_key_file(const std::filesystem::path& path, const DbKey& key) {
  const std::string name = path.string();
  Fd file{::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
  if (file.fd < 0) {
    return Error{errno == EEXIST ? Errc::already_exists : Errc::io,
                 "cannot create database key file " + name + ": " + std::strerror(errno)};
  }
  std::string hex = key.hex() + "\n";
  const bool ok = ::write(file.fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) && ::fsync(file.fd) == 0;
  OPENSSL_cleanse(hex.data(), hex.size());
  if (!ok) return Error{Errc::io, "cannot write database key file " + name + ": " + std::strerror(errno)};
  return {};
}

}  // namespace sipsite::store
