#include <sipsite/store/audit_repository.hpp>

#include "sipsite/store/unix_time.hpp"

namespace sipsite::store {

Result<void> AuditRepository::append(std::string_view actor, std::string_view source, std::string_view action,
                                     std::string_view details) {
  auto r = db_.execute("INSERT INTO audit_log (at, actor, source, action, detail) VALUES (?, ?, ?, ?, ?)", unix_now(),
                       actor, source, action, details);
  if (!r) return r.error();
  return {};
}

Result<std::vector<AuditEntry>> AuditRepository::recent(int limit) {
  return collect_rows(
      db_.query("SELECT id, at, actor, source, action, detail FROM audit_log ORDER BY id DESC LIMIT ?", limit),
      [](const Statement& s) {
        return AuditEntry{s.integer(0), s.integer(1), s.text(2), s.text(3), s.text(4), s.text(5)};
      });
}

Result<int> AuditRepository::purge_before(std::int64_t before, int batch) {
  return db_.execute("DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ? ORDER BY at LIMIT ?)",
                     before, batch);
}

}  // namespace sipsite::store
