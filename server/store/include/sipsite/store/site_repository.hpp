#pragma once
// The site's identity row: domain, certificate and private key (PEM).

#include <sipsite/store/database.hpp>

namespace sipsite::store {

struct SiteRecord {
  std::string domain;
  std::string certificate_pem;
  std::string private_key_pem;  // secret: stays inside the encrypted DB
  std::int64_t created_at = 0;
};

class SiteRepository {
 public:
  explicit SiteRepository(Database& db) : db_(db) {}
  Result<void> create(const SiteRecord& site);
  // Errc::not_initialised if no site row exists.
  Result<SiteRecord> load();
  // Replaces certificate and key (key rotation).
  Result<void> replace_identity(const std::string& certificate_pem, const std::string& private_key_pem);

 private:
  Database& db_;
};

}  // namespace sipsite::store
