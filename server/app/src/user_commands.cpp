// user add | del | list

#include "commands.hpp"

#include <sipsite/store/audit_repository.hpp>
#include <sipsite/store/user_repository.hpp>
#include <sipsite/webadmin/user_credentials.hpp>

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include <iostream>

namespace sipsite::app {

namespace {

using webadmin::parse_aor;

// One line from stdin: the trailing newline (LF or CRLF) is not part of it.
std::optional<std::string> read_password(std::istream& in, std::string& why) {
  std::string password;
  std::getline(in, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (auto bad = webadmin::check_user_password(password)) {
    why = *bad;
    if (password.size() < webadmin::kMinUserPassword || password.size() > webadmin::kMaxUserPassword) {
      why += " (read from stdin)";
    }
  } else {
    return password;
  }
  OPENSSL_cleanse(password.data(), password.size());
  return std::nullopt;
}

}  // namespace

int cmd_user_add(const GlobalOptions& g, const std::string& aor_text, bool password_stdin, std::istream& in) {
  std::string why;
  const auto aor = parse_aor(aor_text, why);
  if (!aor) return fail(kExitUsage, "--aor '" + aor_text + "': " + why);
  if (!password_stdin) {
    return fail(kExitUsage, "--password-stdin is required: passwords are never taken from the command line");
  }
  auto password = read_password(in, why);
  if (!password) return fail(kExitUsage, why);

  auto site = open_site(g);
  if (!site) {
    OPENSSL_cleanse(password->data(), password->size());
    return fail(site.error());
  }
  if (aor->domain != site->site.domain) {
    OPENSSL_cleanse(password->data(), password->size());
    return fail(kExitUsage, "--aor '" + aor_text + "': users of this site are @" + site->site.domain);
  }
  // Digest credentials, realm = the site domain; the password is not kept.
  const store::UserRecord user = webadmin::make_user_record(*aor, site->site.domain, *password);
  OPENSSL_cleanse(password->data(), password->size());

  auto r = site->db.transaction([&]() -> store::Result<void> {
    if (auto a = store::UserRepository(site->db).add(user); !a) return a;
    return store::AuditRepository(site->db).append(cli_actor(), "local", "user.add", user.aor());
  });
  if (!r) return fail(r.error());
  std::cerr << "sipsite: added " << user.aor() << std::endl;
  return kExitOk;
}

int cmd_user_del(const GlobalOptions& g, const std::string& aor_text) {
  std::string why;
  const auto aor = parse_aor(aor_text, why);
  if (!aor) return fail(kExitUsage, "--aor '" + aor_text + "': " + why);
  auto site = open_site(g);
  if (!site) return fail(site.error());
  // The one account deletion (user, credentials, stored messages, CDRs
  // unless kept by the setting, audit entry) in one transaction.
  auto r = store::UserRepository(site->db).delete_account(aor->username, aor->domain, cli_actor(), "local");
  if (!r) return fail(r.error());
  std::cerr << "sipsite: deleted " << aor->username << "@" << aor->domain << " (" << r->messages
            << " stored messages, " << (r->cdrs_kept ? std::string("call records kept") : std::to_string(r->cdrs) + " call records")
            << ")" << std::endl;
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
      out.push_back({{"aor", u.aor()}, {"username", u.username}, {"domain", u.domain},
                     {"created_at", iso8601(u.created_at)}});
    }
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  for (const auto& u : *users) std::cout << u.aor() << "\n";
  return kExitOk;
}

}  // namespace sipsite::app
