#include <sipsite/admin/user_credentials.hpp>

#include <sipsite/pki/domain_name.hpp>
#include <sipsite/sip/auth/digest.hpp>

#include <algorithm>
#include <cctype>

namespace sipsite::admin {

std::optional<Aor> parse_aor(std::string_view text, std::string& why) {
  if (text.starts_with("sip:")) text.remove_prefix(4);
  const auto at = text.find('@');
  if (at == std::string_view::npos || text.find('@', at + 1) != std::string_view::npos) {
    why = "expected USER@DOMAIN";
    return std::nullopt;
  }
  Aor aor{std::string(text.substr(0, at)), pki::lowercase_domain(text.substr(at + 1))};
  const auto user_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("-_.!~*'+").find(c) != std::string_view::npos;
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

std::optional<std::string> check_user_password(std::string_view password) {
  if (password.size() < kMinUserPassword || password.size() > kMaxUserPassword) {
    return "the password must be 8-256 characters";
  }
  if (std::any_of(password.begin(), password.end(),
                  [](char c) { return std::iscntrl(static_cast<unsigned char>(c)); })) {
    return "the password must not contain control characters";
  }
  return std::nullopt;
}

store::UserRecord make_user_record(const Aor& aor, std::string_view realm, std::string_view password) {
  // The registrar's own definition of HA1, so that what is stored is what
  // it checks.
  return store::UserRecord{aor.username,
                           aor.domain,
                           std::string(realm),
                           sip::digest_ha1(sip::DigestAlgorithm::md5, aor.username, realm, password),
                           sip::digest_ha1(sip::DigestAlgorithm::sha256, aor.username, realm, password),
                           0,
                           0};
}

}  // namespace sipsite::admin
