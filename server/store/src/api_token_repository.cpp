#include <sipsite/store/api_token_repository.hpp>

#include <sipsite/store/unix_time.hpp>

#include "sipsite/common/sha256.hpp"

namespace sipsite::store {

namespace {

// Lowercase hex of the token's SHA-256; empty when OpenSSL fails (then no
// token matches and none is stored).
std::string token_hash(std::string_view token) { return common::sha256_hex(token).value_or(std::string()); }

ApiTokenRecord read_token(const Statement& s) {
  return ApiTokenRecord{s.integer(0), s.text(1), s.text(2), s.integer(3), s.integer(4)};
}

// Longer than any token issued; not worth hashing.
constexpr std::size_t kMaxTokenSize = 128;

constexpr const char* kColumns = "id, name, created_by, created_at, last_used";

}  // namespace

Result<std::int64_t> ApiTokenRepository::add(std::string_view name, std::string_view token,
                                             std::string_view created_by) {
  const std::string hash = token_hash(token);
  if (hash.empty()) return Error{Errc::io, "cannot hash the token (OpenSSL failed)"};
  auto taken =
      first_row(db_.query("SELECT 1 FROM api_tokens WHERE name = ?", name), [](const Statement&) { return true; });
  if (!taken) return taken.error();
  if (*taken) return Error{Errc::duplicate, "a token named '" + std::string(name) + "' exists"};
  auto r = db_.execute("INSERT INTO api_tokens (name, token_hash, created_by, created_at) VALUES (?, ?, ?, ?)", name,
                       hash, created_by, unix_now());
  if (!r) return r.error();
  auto id = first_row(db_.query("SELECT last_insert_rowid()"), [](const Statement& s) { return s.integer(0); });
  if (!id) return id.error();
  return id->value_or(0);
}

Result<std::vector<ApiTokenRecord>> ApiTokenRepository::list() {
  return collect_rows(db_.query(std::string("SELECT ") + kColumns + " FROM api_tokens ORDER BY name"), read_token);
}

Result<std::optional<ApiTokenRecord>> ApiTokenRepository::find(std::int64_t id) {
  return first_row(db_.query(std::string("SELECT ") + kColumns + " FROM api_tokens WHERE id = ?", id), read_token);
}

Result<void> ApiTokenRepository::remove(std::int64_t id) {
  auto r = db_.execute("DELETE FROM api_tokens WHERE id = ?", id);
  if (!r) return r.error();
  if (*r == 0) return Error{Errc::not_found, "no token with id " + std::to_string(id)};
  return {};
}

Result<std::optional<std::string>> ApiTokenRepository::authenticate(std::string_view token) {
  if (token.size() > kMaxTokenSize) return std::optional<std::string>();
  const std::string hash = token_hash(token);
  if (hash.empty()) return std::optional<std::string>();
  auto name = first_row(db_.query("SELECT name FROM api_tokens WHERE token_hash = ?", hash),
                        [](const Statement& s) { return s.text(0); });
  if (!name || !*name) return name;
  const auto now = unix_now();
  (void)db_.execute("UPDATE api_tokens SET last_used = ? WHERE token_hash = ? AND last_used < ?", now, hash, now - 60);
  return name;
}

}  // namespace sipsite::store
