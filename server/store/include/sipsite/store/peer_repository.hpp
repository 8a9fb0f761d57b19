#pragma once
// Peer sites, pinned by certificate fingerprint.

#include <sipsite/store/database.hpp>

#include <vector>

namespace sipsite::store {

enum class PeerState { untrusted, trusted, revoked };

std::string_view to_string(PeerState s);
std::optional<PeerState> peer_state_from_string(std::string_view s);

struct PeerRecord {
  std::string domain;
  std::string fingerprint;  // "AB:CD:…"
  std::string certificate_pem;
  std::string address;  // HOST:PORT of its federation listener
  PeerState state = PeerState::untrusted;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

// A peer's pin replaced by a verified key rotation, still accepted until
// expires_at (the overlap).
struct PreviousPin {
  std::string fingerprint;
  std::string domain;
  std::string certificate_pem;
  std::string superseded_by;  // the fingerprint that replaced it
  std::int64_t superseded_at = 0;
  std::int64_t expires_at = 0;
};

class PeerRepository {
 public:
  explicit PeerRepository(Database& db) : db_(db) {}
  // Errc::duplicate if the fingerprint or the domain is already a peer.
  Result<void> add(const PeerRecord& peer);
  Result<std::optional<PeerRecord>> find_by_fingerprint(std::string_view fingerprint);
  Result<std::optional<PeerRecord>> find_by_domain(std::string_view domain);
  // Errc::not_found if no peer has that fingerprint. A state other than
  // trusted also deletes the peer's previous pins (revocation is total).
  Result<void> set_state(std::string_view fingerprint, PeerState state);
  // Where this site dials the peer (HOST:PORT; empty: it dials in).
  // Errc::not_found if no peer has that fingerprint.
  Result<void> set_address(std::string_view fingerprint, std::string_view address);
  // Deletes the peer with that fingerprint and any previous pins of its
  // domain. Errc::not_found if there is none. Whether it may be removed
  // (not while trusted) is the caller's rule.
  Result<void> remove(std::string_view fingerprint);

  // Key rotation, verified by the caller: the trusted peer whose current
  // fingerprint is `old_fingerprint` takes the new fingerprint and
  // certificate (same row: domain, address, state kept); the old pin is
  // kept as a PreviousPin until `expires_at`. Idempotent: true when it
  // changed something, false when the peer already has `new_fingerprint`.
  // Errc::not_found when no trusted peer has either fingerprint. Run it in
  // a transaction with its audit entry.
  Result<bool> apply_rotation(std::string_view old_fingerprint, std::string_view new_fingerprint,
                              std::string_view new_certificate_pem, std::int64_t expires_at);
  // Ordered by domain, then expiry.
  Result<std::vector<PreviousPin>> list_previous_pins();
  // Deletes the previous pins expired at `now` and returns them.
  Result<std::vector<PreviousPin>> take_expired_pins(std::int64_t now);
  // Ordered by domain.
  Result<std::vector<PeerRecord>> list();

 private:
  Result<std::optional<PeerRecord>> find_where(std::string_view column, std::string_view value);
  Database& db_;
};

}  // namespace sipsite::store
