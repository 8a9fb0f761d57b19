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
  std::string address;      // HOST:PORT of its federation listener
  PeerState state = PeerState::untrusted;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

class PeerRepository {
 public:
  explicit PeerRepository(Database& db) : db_(db) {}
  // Errc::duplicate if the fingerprint or the domain is already a peer.
  Result<void> add(const PeerRecord& peer);
  Result<std::optional<PeerRecord>> find_by_fingerprint(std::string_view fingerprint);
  Result<std::optional<PeerRecord>> find_by_domain(std::string_view domain);
  // Errc::not_found if no peer has that fingerprint.
  Result<void> set_state(std::string_view fingerprint, PeerState state);
  // Ordered by domain.
  Result<std::vector<PeerRecord>> list();

 private:
  Result<std::optional<PeerRecord>> find_where(std::string_view column, std::string_view value);
  Database& db_;
};

}  // namespace sipsite::store
