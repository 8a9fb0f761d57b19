#pragma once
// Digest nonces that verify without per-challenge state, and the replay
// rule for the nonce counts (nc) clients send with them.
//
// A nonce is base64url(issued || salt || mac), 43 characters, where issued
// is the Clock time in milliseconds (8 bytes, big-endian), salt 8 bytes from
// Random (two challenges in the same millisecond differ, so clients never
// share a counter) and mac the first 16 bytes of
// HMAC-SHA256(secret, issued || salt || realm). Issuing a challenge stores
// nothing, so unauthenticated requests cannot fill memory; only nonces that
// came back with a valid response are tracked.
//
// Replay: per tracked nonce, the highest nc accepted so far; a request must
// carry a higher one. The table is bounded (max_tracked). When an entry is
// evicted for room rather than age, every nonce issued at or before it is
// refused from then on (a "watermark"), so eviction can never re-open an old
// counter: the worst case is a stale=true challenge and one extra round trip.
//
// Thread safety: one thread (the SIP strand).

#include "sipsite/sip/io.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sipsite::sip {

struct DigestNonceSettings {
  // The HMAC key. The app passes 32 bytes from a CSPRNG, fresh at each start
  // (nonces from before a restart then fail verification and clients get a
  // stale=true challenge). When empty, 32 bytes are drawn from Random.
  std::vector<std::uint8_t> secret;
  Duration lifetime = std::chrono::minutes(5);
  std::size_t max_tracked = 65536;  // nonces whose nc is remembered (~100 bytes each)
};

enum class NonceCheck : std::uint8_t {
  ok,
  invalid,   // not ours: wrong length, bad encoding, MAC mismatch, other realm, from the future
  expired,   // ours, older than the lifetime
  replayed,  // ours and fresh, but nc not higher than one already accepted (or unknowable)
};

class DigestNonces {
 public:
  DigestNonces(const Clock& clock, Random& random, DigestNonceSettings settings);

  // A fresh nonce for realm.
  [[nodiscard]] std::string issue(std::string_view realm);

  // A value to send as `opaque`: fixed for a secret and realm.
  [[nodiscard]] const std::string& opaque(std::string_view realm);

  // Whether nonce was issued here for realm and is within its lifetime.
  // Stateless: nothing recorded.
  [[nodiscard]] NonceCheck check(std::string_view nonce, std::string_view realm) const;

  // check(), then the nc rule; records nc when the result is ok. Call it
  // only once the response has verified, so that forged requests never
  // touch the table.
  NonceCheck use(std::string_view nonce, std::string_view realm, std::uint32_t nc);

  [[nodiscard]] std::size_t tracked() const noexcept { return table_.size(); }
  [[nodiscard]] Duration lifetime() const noexcept { return settings_.lifetime; }

 private:
  struct Key {
    std::uint64_t issued;
    std::uint64_t salt;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept {
      return static_cast<std::size_t>(k.salt ^ (k.issued * 0x9E3779B97F4A7C15ULL));
    }
  };

  [[nodiscard]] std::uint64_t now_ms() const;
  // Decodes and authenticates; nullopt when not ours.
  [[nodiscard]] std::optional<Key> decode(std::string_view nonce, std::string_view realm) const;
  [[nodiscard]] NonceCheck age(const Key& key, std::uint64_t now) const;
  void purge(std::uint64_t now);

  const Clock& clock_;
  Random& random_;
  DigestNonceSettings settings_;
  std::string opaque_realm_;
  std::string opaque_;
  std::unordered_map<Key, std::uint32_t, KeyHash> table_;  // nonce -> highest nc accepted
  std::deque<Key> order_;                                  // first-use order, for eviction
  std::uint64_t watermark_ = 0;                            // nonces issued at or before this are refused (see above)
  bool evicted_any_ = false;
};

}  // namespace sipsite::sip
