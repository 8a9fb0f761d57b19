#include "site_directory.hpp"

namespace sipsite::app {

std::optional<sip::UserCredentials> SiteDirectory::find_user(std::string_view username) const {
  if (auto it = users_.find(std::string(username)); it != users_.end()) return it->second;
  return std::nullopt;
}

void SiteDirectory::replace(const std::vector<store::UserRecord>& users) {
  std::unordered_map<std::string, sip::UserCredentials> next;
  for (const auto& u : users) {
    if (u.domain != domain_) continue;
    next.emplace(u.username, sip::UserCredentials{u.username, u.realm, u.ha1_md5, u.ha1_sha256});
  }
  users_ = std::move(next);
}

void SiteDirectory::update(const std::vector<store::UserRecord>& users, const std::vector<std::string>& removed) {
  for (const auto& username : removed) users_.erase(username);
  for (const auto& u : users) {
    if (u.domain != domain_) continue;
    users_.insert_or_assign(u.username, sip::UserCredentials{u.username, u.realm, u.ha1_md5, u.ha1_sha256});
  }
}

}  // namespace sipsite::app
