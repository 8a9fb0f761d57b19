#pragma once
// The SIP core's view of the site's users: an in-memory snapshot of the
// users table, replaced when the database changes, so that no SIP request
// ever waits on the database.

#include <sipsite/sip/io.hpp>
#include <sipsite/store/user_repository.hpp>

#include <unordered_map>

namespace sipsite::app {

class SiteDirectory final : public sip::Directory {
 public:
  explicit SiteDirectory(std::string domain) : domain_(std::move(domain)) {}

  const std::string& local_domain() const override { return domain_; }
  std::optional<sip::UserCredentials> find_user(std::string_view username) const override;

  // Replaces the snapshot with the users of this site's domain.
  void replace(const std::vector<store::UserRecord>& users);
  // What changed only: `users` added or changed (other domains ignored),
  // `removed` usernames gone.
  void update(const std::vector<store::UserRecord>& users, const std::vector<std::string>& removed);
  std::size_t size() const { return users_.size(); }

 private:
  std::string domain_;
  std::unordered_map<std::string, sip::UserCredentials> users_;
};

}  // namespace sipsite::app
