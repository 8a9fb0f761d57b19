#include <sipsite/webadmin/api_tokens.hpp>

#include <sipsite/webadmin/sessions.hpp>

#include <openssl/evp.h>

#include <ctime>

namespace sipsite::webadmin {

namespace {

constexpr std::string_view kPrefix = "sst_";

std::string token_hash(std::string_view token) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(token.data(), token.size(), out, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[out[i] >> 4];
    hex += kHex[out[i] & 0xF];
  }
  return hex;
}

std::int64_t now_seconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

}  // namespace

store::Result<std::string> ApiTokens::create(std::string_view name, std::string_view created_by) {
  const std::string secret = random_token(32);
  if (secret.empty()) return store::Error{store::Errc::io, "no random token"};
  const std::string token = std::string(kPrefix) + secret;
  auto stmt = db_.query("SELECT 1 FROM api_tokens WHERE name = ?", name);
  if (!stmt) return stmt.error();
  auto row = stmt->step();
  if (!row) return row.error();
  if (*row) return store::Error{store::Errc::duplicate, "a token named '" + std::string(name) + "' exists"};
  auto r = db_.execute("INSERT INTO api_tokens (name, token_hash, created_by, created_at) VALUES (?, ?, ?, ?)", name,
                       token_hash(token), created_by, now_seconds());
  if (!r) return r.error();
  return token;
}

store::Result<std::vector<ApiToken>> ApiTokens::list() {
  return store::collect_rows(
      db_.query("SELECT id, name, created_by, created_at, last_used FROM api_tokens ORDER BY name"),
      [](const store::Statement& s) {
        return ApiToken{s.integer(0), s.text(1), s.text(2), s.integer(3), s.integer(4)};
      });
}

store::Result<void> ApiTokens::revoke(std::int64_t id) {
  auto r = db_.execute("DELETE FROM api_tokens WHERE id = ?", id);
  if (!r) return r.error();
  if (*r == 0) return store::Error{store::Errc::not_found, "no token with id " + std::to_string(id)};
  return {};
}

store::Result<std::optional<std::string>> ApiTokens::authenticate(std::string_view token) {
  if (!token.starts_with(kPrefix) || token.size() > 128) return std::optional<std::string>();
  const std::string hash = token_hash(token);
  auto name = store::first_row(db_.query("SELECT name FROM api_tokens WHERE token_hash = ?", hash),
                               [](const store::Statement& s) { return s.text(0); });
  if (!name || !*name) return name;
  // Last use to the minute: no write on every scrape.
  const auto now = now_seconds();
  (void)db_.execute("UPDATE api_tokens SET last_used = ? WHERE token_hash = ? AND last_used < ?", now, hash, now - 60);
  return name;
}

}  // namespace sipsite::webadmin
