#pragma once
// API bearer tokens for scripts (Authorization: Bearer sst_…). Stored as the
// SHA-256 of the token in the api_tokens table (schema migration 003); the
// token is returned once, by create().

#include <sipsite/store/database.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::webadmin {

struct ApiToken {
  std::int64_t id = 0;
  std::string name;
  std::string created_by;
  std::int64_t created_at = 0;
  std::int64_t last_used = 0;  // 0: never
};

class ApiTokens {
 public:
  explicit ApiTokens(store::Database& db) : db_(db) {}
  // A new token; returns it ("sst_" + 43 base64url characters).
  // Errc::duplicate if the name is taken.
  store::Result<std::string> create(std::string_view name, std::string_view created_by);
  store::Result<std::vector<ApiToken>> list();
  // Errc::not_found if there is no such token.
  store::Result<void> revoke(std::int64_t id);
  // The token's name when `token` is a live token (and notes its use).
  store::Result<std::optional<std::string>> authenticate(std::string_view token);

 private:
  store::Database& db_;
};

}  // namespace sipsite::webadmin
