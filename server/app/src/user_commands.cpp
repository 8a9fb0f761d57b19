// user add | del | list

#include "commands.hpp"

#include <sipsite/pki/domain_name.hpp>
#include <sipsite/store/audit_repository.hpp>
#include <sipsite/store/user_repository.hpp>

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <iostream>

namespace sipsite::app {

namespace {

constexpr std::size_t kMaxUsername = 64;
constexpr std::size_t kMinPassword = 8;
constexpr std::size_t kMaxPassword = 256;

struct Aor {
  std::string username;
  std::string domain;
};

// "alice@alpha.example" or "sip:alice@alpha.example". The user part keeps
// to characters every phone and digest implementation handles unescaped.
std::optional<Aor> parse_aor(std::string_view text, std::string& why) {
  if (text.starts_with("sip:")) text.remove_prefix(4);
  const auto at = text.find('@');
  if (at == std::string_view::npos || text.find('@', at + 1) != std::string_view::npos) {
    why = "expected USER@DOMAIN";
    return std::nullopt;
  }
  Aor aor{std::string(text.substr(0, at)), pki::lowercase_domain(text.substr(at + 1))};
  const auto user_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-_.!~*'+").find(c) != std::string_view::npos;
  };
  if (aor.username.empty() || aor.username.size() > kMaxUsername ||
      !std::all_of(aor.username.begin(), aor.username.end(), user_char)) {
    why = "the user part must be 1-64 letters, digits or -_.!~*'+";
    return std::nullopt;
  }
  if (!pki::is_valid_domain_name(aor.domain)) {
    why = "'" + aor.domain + "' is not a valid domain";
    return std::nullopt;
  }
  return aor;
}

std::string hex_digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[out[i] >> 4];
    hex += kHex[out[i] & 0xF];
  }
  return hex;
}

// One line from stdin: the trailing newline (LF or CRLF) is not part of it.
std::optional<std::string> read_password(std::istream& in, std::string& why) {
  std::string password;
  std::getline(in, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.size() < kMinPassword || password.size() > kMaxPassword) {
    why = "the password must be 8-256 characters (read from stdin)";
  } else if (std::any_of(password.begin(), password.end(),
                         [](char c) { return std::iscntrl(static_cast<unsigned char>(c)); })) {
    why = "the password must not contain control characters";
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
  // Digest credentials (RFC 7616): HA1 = H(username ":" realm ":" password),
  // realm = the site domain. The password itself is not kept.
  const std::string realm = site->site.domain;
  std::string a1 = aor->username + ":" + realm + ":" + *password;
  store::UserRecord user{aor->username, aor->domain, realm, hex_digest(EVP_md5(), a1),
                         hex_digest(EVP_sha256(), a1), 0, 0};
  OPENSSL_cleanse(a1.data(), a1.size());
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
  auto r = site->db.transaction([&]() -> store::Result<void> {
    if (auto d = store::UserRepository(site->db).remove(aor->username, aor->domain); !d) return d;
    return store::AuditRepository(site->db).append(cli_actor(), "local", "user.del",
                                                   aor->username + "@" + aor->domain);
  });
  if (!r) return fail(r.error());
  std::cerr << "sipsite: deleted " << aor->username << "@" << aor->domain << std::endl;
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
