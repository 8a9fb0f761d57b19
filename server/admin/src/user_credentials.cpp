#include <sipsite/webadmin/user_credentials.hpp>

#include <sipsite/pki/domain_name.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>

namespace sipsite::webadmin {

namespace {

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

}  // namespace

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

std::optional<std::string> check_user_password(std::string_view password) {
  if (password.size() < kMinUserPassword || password.size() > kMaxUserPassword) {
    return "the password must be 8-256 characters";
  }
  if (std::any_of(password.begin(), password.end(), [](char c) { return std::iscntrl(static_cast<unsigned char>(c)); })) {
    return "the password must not contain control characters";
  }
  return std::nullopt;
}

store::UserRecord make_user_record(const Aor& aor, std::string_view realm, std::string_view password) {
  std::string a1;  // built in place: no unwiped temporary holds the password
  a1.reserve(aor.username.size() + realm.size() + password.size() + 2);
  a1.append(aor.username).append(":").append(realm).append(":").append(password);
  store::UserRecord user{aor.username, aor.domain, std::string(realm), hex_digest(EVP_md5(), a1),
                         hex_digest(EVP_sha256(), a1), 0, 0};
  OPENSSL_cleanse(a1.data(), a1.size());
  return user;
}

}  // namespace sipsite::webadmin
