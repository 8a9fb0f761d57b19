#include <sipsite/admin/site_operations.hpp>

#include <sipsite/store/audit_repository.hpp>

namespace sipsite::admin {

SiteOperations::SiteOperations(store::Database& db, SiteIdentity site, Actor actor)
    : db_(db), site_(std::move(site)), actor_(std::move(actor)) {}

store::Result<void> SiteOperations::audit(std::string_view action, std::string_view detail) {
  return store::AuditRepository(db_).append(actor_.name, actor_.source, action, detail);
}

}  // namespace sipsite::admin
