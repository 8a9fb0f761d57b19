// SiteOperations: API tokens.

#include <sipsite/admin/random_token.hpp>
#include <sipsite/admin/site_operations.hpp>

#include <openssl/crypto.h>

#include <algorithm>

namespace sipsite::admin {

namespace {

constexpr std::string_view kTokenPrefix = "sst_";
constexpr std::size_t kMaxTokenName = 64;

bool valid_token_name(std::string_view name) {
  return !name.empty() && name.size() <= kMaxTokenName && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
  });
}

}  // namespace

OpResult<IssuedToken> SiteOperations::issue_token(std::string_view name) {
  if (!valid_token_name(name)) return OpError{OpErrc::bad_name, "a token name is 1-64 letters, digits or -_."};
  const std::string secret = random_token(32);
  if (secret.empty()) return OpError{OpErrc::failed, "no random token (OpenSSL failed)"};
  IssuedToken issued;
  issued.token = std::string(kTokenPrefix) + secret;
  auto r = db_.transaction([&]() -> store::Result<void> {
    store::ApiTokenRepository tokens(db_);
    auto id = tokens.add(name, issued.token, actor_.name);
    if (!id) return id.error();
    auto record = tokens.find(*id);
    if (!record) return record.error();
    if (!*record) return store::Error{store::Errc::not_found, "the new token vanished"};
    issued.record = std::move(**record);
    return audit("token.create", name);
  });
  if (!r) {
    OPENSSL_cleanse(issued.token.data(), issued.token.size());
    return from_store(r.error());
  }
  return issued;
}

OpResult<store::ApiTokenRecord> SiteOperations::revoke_token(std::int64_t id) {
  store::ApiTokenRecord revoked;
  auto r = db_.transaction([&]() -> store::Result<void> {
    store::ApiTokenRepository tokens(db_);
    auto record = tokens.find(id);
    if (!record) return record.error();
    if (!*record) return store::Error{store::Errc::not_found, "no token with id " + std::to_string(id)};
    revoked = std::move(**record);
    if (auto d = tokens.remove(id); !d) return d;
    return audit("token.revoke", std::to_string(id));
  });
  if (!r) return from_store(r.error());
  return revoked;
}

}  // namespace sipsite::admin
