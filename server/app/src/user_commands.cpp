// user add | passwd | del | list

#include "cli_operations.hpp"
#include "commands.hpp"

#include <sipsite/admin/user_credentials.hpp>
#include <sipsite/store/user_repository.hpp>

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include <iostream>

namespace sipsite::app {

namespace {

// A password read from stdin, wiped when it goes.
class StdinPassword {
 public:
  // One line: the trailing newline (LF or CRLF) is not part of it.
  explicit StdinPassword(std::istream& in) {
    std::getline(in, text_);
    if (!text_.empty() && text_.back() == '\r') text_.pop_back();
  }
  StdinPassword(const StdinPassword&) = delete;
  StdinPassword& operator=(const StdinPassword&) = delete;
  ~StdinPassword() { OPENSSL_cleanse(text_.data(), text_.size()); }

  std::string_view text() const { return text_; }
  // Where a wrong length most likely comes from.
  std::string hint() const {
    const bool length = text_.size() < admin::kMinUserPassword || text_.size() > admin::kMaxUserPassword;
    return length ? " (read from stdin)" : "";
  }

 private:
  std::string text_;
};

// The part the commands that set a password share: the flag, the password
// from stdin, the site; then `operation` (add or change) does the rest.
template <class Operation>
int with_password(const GlobalOptions& g, const std::string& aor, bool password_stdin, std::istream& in,
                  Operation operation) {
  if (!password_stdin) {
    return fail(kExitUsage, "--password-stdin is required: passwords are never taken from the command line");
  }
  const StdinPassword password(in);
  auto site = open_site(g);
  if (!site) return fail(site.error());
  admin::SiteOperations ops = site_operations(*site);
  auto user = operation(ops, aor, password.text());
  if (!user) {
    if (user.error().code == admin::OpErrc::bad_aor) return fail(user.error(), "--aor '" + aor + "'");
    if (user.error().code == admin::OpErrc::bad_password)
      return fail(kExitUsage, user.error().message + password.hint());
    return fail(user.error());
  }
  return kExitOk;
}

}  // namespace

int cmd_user_add(const GlobalOptions& g, const std::string& aor, bool password_stdin, std::istream& in) {
  return with_password(g, aor, password_stdin, in,
                       [](admin::SiteOperations& ops, std::string_view a, std::string_view p) {
                         auto user = ops.add_user(a, p);
                         if (user) std::cerr << "sipsite: added " << user->aor() << std::endl;
                         return user;
                       });
}

int cmd_user_passwd(const GlobalOptions& g, const std::string& aor, bool password_stdin, std::istream& in) {
  return with_password(g, aor, password_stdin, in,
                       [](admin::SiteOperations& ops, std::string_view a, std::string_view p) {
                         auto user = ops.change_user_password(a, p);
                         if (user) std::cerr << "sipsite: changed the password of " << user->aor() << std::endl;
                         return user;
                       });
}

int cmd_user_del(const GlobalOptions& g, const std::string& aor) {
  auto site = open_site(g);
  if (!site) return fail(site.error());
  // The one account deletion (user, credentials, stored messages, CDRs
  // unless kept by the setting, audit entry) in one transaction.
  auto r = site_operations(*site).delete_user(aor);
  if (!r) return fail(r.error(), r.error().code == admin::OpErrc::bad_aor ? "--aor '" + aor + "'" : "");
  std::cerr << "sipsite: deleted " << aor << " (" << r->messages << " stored messages, "
            << (r->cdrs_kept ? std::string("call records kept") : std::to_string(r->cdrs) + " call records") << ")"
            << std::endl;
  return kExitOk;
}

int cmd_user_list(const GlobalOptions& g, bool json) {
  auto site = open_site(g);
  if (!site) return fail(site.error());
  auto users = store::UserRepository(site->db).list();
  if (!users) return fail(users.error());
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& u : *users) {
      out.push_back(
          {{"aor", u.aor()}, {"username", u.username}, {"domain", u.domain}, {"created_at", iso8601(u.created_at)}});
    }
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  for (const auto& u : *users) std::cout << u.aor() << "\n";
  return kExitOk;
}

}  // namespace sipsite::app
