#include <sipsite/store/peer_repository.hpp>

#include "unix_time.hpp"

namespace sipsite::store {

namespace {

constexpr std::string_view kColumns =
    "domain, fingerprint, certificate_pem, address, state, created_at, updated_at";

PeerRecord read_peer(const Statement& s) {
  return PeerRecord{s.text(0), s.text(1), s.text(2), s.text(3),
                    peer_state_from_string(s.text(4)).value_or(PeerState::revoked), s.integer(5), s.integer(6)};
}

}  // namespace

std::string_view to_string(PeerState s) {
  switch (s) {
    case PeerState::untrusted: return "untrusted";
    case PeerState::trusted: return "trusted";
    case PeerState::revoked: return "revoked";
  }
  return "revoked";
}

std::optional<PeerState> peer_state_from_string(std::string_view s) {
  if (s == "untrusted") return PeerState::untrusted;
  if (s == "trusted") return PeerState::trusted;
  if (s == "revoked") return PeerState::revoked;
  return std::nullopt;
}

Result<void> PeerRepository::add(const PeerRecord& peer) {
  // The lookups only make the error message precise; the UNIQUE constraints
  // are what keep the table consistent against a concurrent writer.
  auto by_fp = find_by_fingerprint(peer.fingerprint);
  if (!by_fp) return by_fp.error();
  if (*by_fp) return Error{Errc::duplicate, "this certificate is already known as peer " + (*by_fp)->domain};
  auto by_domain = find_by_domain(peer.domain);
  if (!by_domain) return by_domain.error();
  if (*by_domain) {
    return Error{Errc::duplicate,
                 "a peer for domain " + peer.domain + " already exists with fingerprint " + (*by_domain)->fingerprint};
  }
  const auto now = detail::unix_now();
  auto r = db_.execute("INSERT INTO peers (" + std::string(kColumns) + ") VALUES (?, ?, ?, ?, ?, ?, ?)", peer.domain,
                       peer.fingerprint, peer.certificate_pem, peer.address, to_string(peer.state), now, now);
  if (!r) {
    if (r.error().code == Errc::duplicate) return Error{Errc::duplicate, "peer " + peer.domain + " already exists"};
    return r.error();
  }
  return {};
}

Result<std::optional<PeerRecord>> PeerRepository::find_where(std::string_view column, std::string_view value) {
  return first_row(
      db_.query("SELECT " + std::string(kColumns) + " FROM peers WHERE " + std::string(column) + " = ?", value),
      read_peer);
}

Result<std::optional<PeerRecord>> PeerRepository::find_by_fingerprint(std::string_view fingerprint) {
  return find_where("fingerprint", fingerprint);
}

Result<std::optional<PeerRecord>> PeerRepository::find_by_domain(std::string_view domain) {
  return find_where("domain", domain);
}

Result<void> PeerRepository::set_state(std::string_view fingerprint, PeerState state) {
  auto r = db_.execute("UPDATE peers SET state = ?, updated_at = ? WHERE fingerprint = ?", to_string(state),
                       detail::unix_now(), fingerprint);
  if (!r) return r.error();
  if (*r == 0) return Error{Errc::not_found, "no peer with fingerprint " + std::string(fingerprint)};
  return {};
}

Result<std::vector<PeerRecord>> PeerRepository::list() {
  return collect_rows(db_.query("SELECT " + std::string(kColumns) + " FROM peers ORDER BY domain"), read_peer);
}

}  // namespace sipsite::store
