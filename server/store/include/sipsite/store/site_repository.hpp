#pragma once
// The site's identity row: domain, certificate and private key (PEM).

#include <sipsite/store/database.hpp>

namespace sipsite::store {

struct SiteRecord {
  std::string domain;
  std::string certificate_pem;
  std::string private_key_pem;  // secret: stays inside the encrypted DB
  std::int64_t created_at = 0;
  // After `sipsite rotate-key`: the certificate before the last rotation
  // (its key is not kept), and when. Empty / 0 before any rotation.
  std::string previous_certificate_pem{};
  std::int64_t rotated_at = 0;
};

class SiteRepository {
 public:
  explicit SiteRepository(Database& db) : db_(db) {}
  Result<void> create(const SiteRecord& site);
  // Errc::not_initialised if no site row exists.
  Result<SiteRecord> load();
  // Replaces certificate and key (as a restore or re-init would; keeps no
  // previous certificate).
  Result<void> replace_identity(const std::string& certificate_pem, const std::string& private_key_pem);
  // Key rotation: the current certificate becomes the previous one (its key
  // is overwritten), the new certificate and key become current. Fails with
  // Errc::invalid when the current certificate is no longer
  // `expected_current_pem` (another rotation got there first).
  Result<void> rotate_identity(const std::string& expected_current_pem, const std::string& certificate_pem,
                               const std::string& private_key_pem);

 private:
  Database& db_;
};

}  // namespace sipsite::store
