#include <sipsite/webadmin/sessions.hpp>

#include <openssl/crypto.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "sipsite/common/sha256.hpp"

namespace sipsite::webadmin {

namespace {

// Sessions are kept under the hash of their id, so that the table never
// holds a usable cookie. Nullopt when the provider refuses SHA-256: then no
// session is created or found (an empty key would let every id match).
std::optional<std::string> sha256_key(std::string_view id) {
  const auto digest = common::sha256(id);
  if (!digest) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(digest->data()), digest->size());
}

}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool SessionStore::expired(const Session& s, TimePoint now) const {
  return now - s.last_seen >= limits_.idle || now - s.created >= limits_.absolute;
}

std::string SessionStore::create(std::string username, bool must_change_password, TimePoint now) {
  std::string id = random_token(32);
  std::string csrf = random_token(32);
  const auto key = sha256_key(id);
  if (id.empty() || csrf.empty() || !key) return {};
  std::erase_if(sessions_, [&](const auto& kv) { return expired(kv.second, now); });
  while (!sessions_.empty() && sessions_.size() >= limits_.max_sessions) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
      return a.second.last_seen < b.second.last_seen;
    });
    sessions_.erase(oldest);
  }
  sessions_[*key] = Session{std::move(username), std::move(csrf), must_change_password, now, now};
  return id;
}

Session* SessionStore::find(std::string_view id, TimePoint now) {
  const auto key = sha256_key(id);
  if (id.empty() || !key) return nullptr;
  auto it = sessions_.find(*key);
  if (it == sessions_.end()) return nullptr;
  if (expired(it->second, now)) {
    sessions_.erase(it);
    return nullptr;
  }
  it->second.last_seen = now;
  return &it->second;
}

void SessionStore::remove(std::string_view id) {
  if (const auto key = sha256_key(id)) sessions_.erase(*key);
}

void SessionStore::remove_user_except(std::string_view username, std::string_view keep) {
  const auto keep_key = sha256_key(keep);
  std::erase_if(sessions_, [&](const auto& kv) { return kv.second.username == username && kv.first != keep_key; });
}

}  // namespace sipsite::webadmin
