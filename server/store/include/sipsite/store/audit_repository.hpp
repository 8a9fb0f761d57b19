#pragma once
// The audit log: append-only record of administrative actions.

#include <sipsite/store/database.hpp>

#include <vector>

namespace sipsite::store {

struct AuditEntry {
  std::int64_t id = 0;
  std::int64_t at = 0;
  std::string actor;   // "cli:root", "admin", "token:ci" …
  std::string source;  // "local", a client address …
  std::string action;  // "peer.trust", "user.add" …
  std::string detail;  // never a secret
};

class AuditRepository {
 public:
  explicit AuditRepository(Database& db) : db_(db) {}
  Result<void> append(std::string_view actor, std::string_view source, std::string_view action,
                      std::string_view details);
  // Newest first.
  Result<std::vector<AuditEntry>> recent(int limit);
  // Retention: deletes at most `batch` entries older than `before`. Not
  // reachable from the API (append-only from its point of view).
  Result<int> purge_before(std::int64_t before, int batch);

 private:
  Database& db_;
};

}  // namespace sipsite::store
