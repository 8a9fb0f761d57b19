#pragma once
// API bearer tokens for scripts (Authorization: Bearer sst_…), in the
// api_tokens table (schema migration 003). Only the SHA-256 of a token is
// stored; the repository hashes, so no caller handles the stored form.

#include <sipsite/store/database.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::store {

struct ApiTokenRecord {
  std::int64_t id = 0;
  std::string name;
  std::string created_by;
  std::int64_t created_at = 0;
  std::int64_t last_used = 0;  // 0: never
};

class ApiTokenRepository {
 public:
  explicit ApiTokenRepository(Database& db) : db_(db) {}
  // Stores `token` (its hash) under `name`; the new row's id.
  // Errc::duplicate if the name is taken.
  Result<std::int64_t> add(std::string_view name, std::string_view token, std::string_view created_by);
  // Ordered by name.
  Result<std::vector<ApiTokenRecord>> list();
  Result<std::optional<ApiTokenRecord>> find(std::int64_t id);
  // Errc::not_found if there is no such token.
  Result<void> remove(std::int64_t id);
  // The name of the token whose hash is that of `token`, if any; notes its
  // use (to the minute: no write on every scrape).
  Result<std::optional<std::string>> authenticate(std::string_view token);

 private:
  Database& db_;
};

}  // namespace sipsite::store
