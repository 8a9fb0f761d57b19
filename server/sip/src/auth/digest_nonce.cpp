#include "sipsite/sip/auth/digest_nonce.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>

namespace sipsite::sip {
namespace {

constexpr std::size_t kMacBytes = 16;
constexpr std::size_t kRawBytes = 8 + 8 + kMacBytes;
constexpr std::size_t kEncodedBytes = (kRawBytes * 4 + 2) / 3;  // base64url, no padding: 43
constexpr std::uint64_t kFutureSlackMs = 1000;

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url(const unsigned char* p, std::size_t n) {
  std::string out;
  out.reserve((n * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const std::uint32_t v = (std::uint32_t{p[i]} << 16) | (std::uint32_t{p[i + 1]} << 8) | p[i + 2];
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (n - i == 1) {
    const std::uint32_t v = std::uint32_t{p[i]} << 16;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
  } else if (n - i == 2) {
    const std::uint32_t v = (std::uint32_t{p[i]} << 16) | (std::uint32_t{p[i + 1]} << 8);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
  }
  return out;
}

int b64_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Decodes exactly kEncodedBytes characters into kRawBytes bytes.
bool decode_raw(std::string_view s, std::array<unsigned char, kRawBytes>& out) noexcept {
  if (s.size() != kEncodedBytes) return false;
  std::size_t o = 0;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    const int v = b64_value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (o < kRawBytes) out[o++] = static_cast<unsigned char>((acc >> bits) & 0xFF);
    }
  }
  // The 2 leftover bits of the last character must be zero (canonical form),
  // so each nonce has exactly one spelling.
  return o == kRawBytes && (acc & ((1U << bits) - 1)) == 0;
}

void put_u64(unsigned char* p, std::uint64_t v) noexcept {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<unsigned char>(v & 0xFF);
    v >>= 8;
  }
}

std::uint64_t get_u64(const unsigned char* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

// HMAC-SHA256(secret, prefix || realm), truncated to kMacBytes.
std::array<unsigned char, kMacBytes> mac(const std::vector<std::uint8_t>& secret, const unsigned char* prefix,
                                         std::size_t prefix_len, std::string_view realm) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> full{};
  unsigned int len = 0;
  std::string data(reinterpret_cast<const char*>(prefix), prefix_len);
  data.append(realm);
  std::array<unsigned char, kMacBytes> out{};
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), full.data(), &len) == nullptr ||
      len < kMacBytes) {
    return out;  // all zeros: verification then fails closed (a zero MAC is never issued knowingly)
  }
  std::copy_n(full.begin(), kMacBytes, out.begin());
  return out;
}

}  // namespace

DigestNonces::DigestNonces(const Clock& clock, Random& random, DigestNonceSettings settings)
    : clock_(clock), random_(random), settings_(std::move(settings)) {
  if (settings_.secret.empty()) {
    for (int i = 0; i < 4; ++i) {
      std::uint64_t v = random_.next();
      for (int b = 0; b < 8; ++b) {
        settings_.secret.push_back(static_cast<std::uint8_t>(v & 0xFF));
        v >>= 8;
      }
    }
  }
  if (settings_.max_tracked == 0) settings_.max_tracked = 1;
}

std::uint64_t DigestNonces::now_ms() const {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch()).count());
}

std::string DigestNonces::issue(std::string_view realm) {
  std::array<unsigned char, kRawBytes> raw{};
  put_u64(raw.data(), now_ms());
  put_u64(raw.data() + 8, random_.next());
  const auto m = mac(settings_.secret, raw.data(), 16, realm);
  std::copy(m.begin(), m.end(), raw.begin() + 16);
  return base64url(raw.data(), raw.size());
}

const std::string& DigestNonces::opaque(std::string_view realm) {
  if (opaque_.empty() || opaque_realm_ != realm) {
    static constexpr unsigned char kLabel[] = {'o', 'p', 'a', 'q', 'u', 'e', 0};
    const auto m = mac(settings_.secret, kLabel, sizeof kLabel, realm);
    opaque_ = base64url(m.data(), m.size());
    opaque_realm_ = realm;
  }
  return opaque_;
}

std::optional<DigestNonces::Key> DigestNonces::decode(std::string_view nonce, std::string_view realm) const {
  std::array<unsigned char, kRawBytes> raw{};
  if (!decode_raw(nonce, raw)) return std::nullopt;
  const auto expected = mac(settings_.secret, raw.data(), 16, realm);
  if (CRYPTO_memcmp(expected.data(), raw.data() + 16, kMacBytes) != 0) return std::nullopt;
  return Key{get_u64(raw.data()), get_u64(raw.data() + 8)};
}

NonceCheck DigestNonces::age(const Key& key, std::uint64_t now) const {
  if (key.issued > now + kFutureSlackMs) return NonceCheck::invalid;
  const auto lifetime = static_cast<std::uint64_t>(settings_.lifetime.count());
  if (now > key.issued && now - key.issued > lifetime) return NonceCheck::expired;
  return NonceCheck::ok;
}

NonceCheck DigestNonces::check(std::string_view nonce, std::string_view realm) const {
  const auto key = decode(nonce, realm);
  if (!key) return NonceCheck::invalid;
  return age(*key, now_ms());
}

void DigestNonces::purge(std::uint64_t now) {
  const auto lifetime = static_cast<std::uint64_t>(settings_.lifetime.count());
  while (!order_.empty()) {
    const Key front = order_.front();
    const bool expired = now > front.issued && now - front.issued > lifetime;
    if (!expired && table_.size() < settings_.max_tracked) break;
    if (!expired) {
      // Evicted for room: its counter is forgotten, so refuse everything
      // issued up to it (see the header).
      if (!evicted_any_ || front.issued > watermark_) watermark_ = front.issued;
      evicted_any_ = true;
    }
    table_.erase(front);
    order_.pop_front();
  }
}

NonceCheck DigestNonces::use(std::string_view nonce, std::string_view realm, std::uint32_t nc) {
  const auto decoded = decode(nonce, realm);
  if (!decoded) return NonceCheck::invalid;
  const Key key = *decoded;
  const std::uint64_t now = now_ms();
  if (const auto c = age(key, now); c != NonceCheck::ok) return c;
  if (const auto it = table_.find(key); it != table_.end()) {
    if (nc <= it->second) return NonceCheck::replayed;
    it->second = nc;
    return NonceCheck::ok;
  }
  if (nc == 0) return NonceCheck::replayed;
  if (evicted_any_ && key.issued <= watermark_) return NonceCheck::replayed;
  purge(now);
  table_.emplace(key, nc);
  order_.push_back(key);
  return NonceCheck::ok;
}

}  // namespace sipsite::sip
