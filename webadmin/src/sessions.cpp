#include <sipsite/webadmin/sessions.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <vector>

namespace sipsite::webadmin {

namespace {

std::string sha256_key(std::string_view id) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(id.data(), id.size(), out, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(out), len);
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
  if (id.empty() || csrf.empty()) return {};
  std::erase_if(sessions_, [&](const auto& kv) { return expired(kv.second, now); });
  while (!sessions_.empty() && sessions_.size() >= limits_.max_sessions) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
      return a.second.last_seen < b.second.last_seen;
    });
    sessions_.erase(oldest);
  }
  sessions_[sha256_key(id)] = Session{std::move(username), std::move(csrf), must_change_password, now, now};
  return id;
}

Session* SessionStore::find(std::string_view id, TimePoint now) {
  if (id.empty()) return nullptr;
  auto it = sessions_.find(sha256_key(id));
  if (it == sessions_.end()) return nullptr;
  if (expired(it->second, now)) {
    sessions_.erase(it);
    return nullptr;
  }
  it->second.last_seen = now;
  return &it->second;
}

void SessionStore::remove(std::string_view id) {
  if (auto it = sessions_.find(sha256_key(id)); it != sessions_.end()) sessions_.erase(it);
}

void SessionStore::remove_user_except(std::string_view username, std::string_view keep) {
  const std::string keep_key = sha256_key(keep);
  std::erase_if(sessions_, [&](const auto& kv) { return kv.second.username == username && kv.first != keep_key; });
}

}  // namespace sipsite::webadmin
