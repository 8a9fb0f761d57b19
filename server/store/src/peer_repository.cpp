#include <sipsite/store/peer_repository.hpp>

#include "sipsite/store/unix_time.hpp"

namespace sipsite::store {

namespace {

constexpr std::string_view kColumns = "domain, fingerprint, certificate_pem, address, state, created_at, updated_at";

PeerRecord read_peer(const Statement& s) {
  return PeerRecord{
      s.text(0),    s.text(1),   s.text(2), s.text(3), peer_state_from_string(s.text(4)).value_or(PeerState::revoked),
      s.integer(5), s.integer(6)};
}

constexpr std::string_view kPinColumns =
    "fingerprint, domain, certificate_pem, superseded_by, superseded_at, expires_at";

PreviousPin read_pin(const Statement& s) {
  return PreviousPin{s.text(0), s.text(1), s.text(2), s.text(3), s.integer(4), s.integer(5)};
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
  const auto now = unix_now();
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

Result<void> PeerRepository::set_address(std::string_view fingerprint, std::string_view address) {
  auto r = db_.execute("UPDATE peers SET address = ?, updated_at = ? WHERE fingerprint = ?", address, unix_now(),
                       fingerprint);
  if (!r) return r.error();
  if (*r == 0) return Error{Errc::not_found, "no peer with fingerprint " + std::string(fingerprint)};
  return {};
}

Result<void> PeerRepository::set_state(std::string_view fingerprint, PeerState state) {
  auto r = db_.execute("UPDATE peers SET state = ?, updated_at = ? WHERE fingerprint = ?", to_string(state), unix_now(),
                       fingerprint);
  if (!r) return r.error();
  if (*r == 0) return Error{Errc::not_found, "no peer with fingerprint " + std::string(fingerprint)};
  if (state != PeerState::trusted) {
    auto d = db_.execute(
        "DELETE FROM peer_previous_pins WHERE domain = (SELECT domain FROM peers WHERE fingerprint = ?)", fingerprint);
    if (!d) return d.error();
  }
  return {};
}

Result<void> PeerRepository::remove(std::string_view fingerprint) {
  auto pins = db_.execute(
      "DELETE FROM peer_previous_pins WHERE domain = (SELECT domain FROM peers WHERE fingerprint = ?)", fingerprint);
  if (!pins) return pins.error();
  auto r = db_.execute("DELETE FROM peers WHERE fingerprint = ?", fingerprint);
  if (!r) return r.error();
  if (*r == 0) return Error{Errc::not_found, "no peer with fingerprint " + std::string(fingerprint)};
  return {};
}

Result<bool> PeerRepository::apply_rotation(std::string_view old_fingerprint, std::string_view new_fingerprint,
                                            std::string_view new_certificate_pem, std::int64_t expires_at) {
  auto current = find_by_fingerprint(new_fingerprint);
  if (!current) return current.error();
  if (*current) {
    if ((*current)->state == PeerState::trusted) return false;  // already applied
    return Error{Errc::not_found, "the new certificate belongs to a peer that is not trusted"};
  }
  auto old = find_by_fingerprint(old_fingerprint);
  if (!old) return old.error();
  if (!*old || (*old)->state != PeerState::trusted) {
    return Error{Errc::not_found, "no trusted peer with fingerprint " + std::string(old_fingerprint)};
  }
  const PeerRecord& peer = **old;
  const auto now = unix_now();
  auto kept = db_.execute(
      "INSERT OR REPLACE INTO peer_previous_pins (" + std::string(kPinColumns) + ") VALUES (?, ?, ?, ?, ?, ?)",
      peer.fingerprint, peer.domain, peer.certificate_pem, new_fingerprint, now, expires_at);
  if (!kept) return kept.error();
  auto r = db_.execute("UPDATE peers SET fingerprint = ?, certificate_pem = ?, updated_at = ? WHERE fingerprint = ?",
                       new_fingerprint, new_certificate_pem, now, old_fingerprint);
  if (!r) return r.error();
  // The new key may be one this site once refused as unknown.
  auto pending = db_.execute("DELETE FROM peer_requests WHERE fingerprint = ?", new_fingerprint);
  if (!pending) return pending.error();
  return true;
}

Result<std::vector<PreviousPin>> PeerRepository::list_previous_pins() {
  return collect_rows(
      db_.query("SELECT " + std::string(kPinColumns) + " FROM peer_previous_pins ORDER BY domain, expires_at"),
      read_pin);
}

Result<std::vector<PreviousPin>> PeerRepository::take_expired_pins(std::int64_t now) {
  auto expired = collect_rows(db_.query("SELECT " + std::string(kPinColumns) +
                                            " FROM peer_previous_pins WHERE expires_at <= ? ORDER BY expires_at",
                                        now),
                              read_pin);
  if (!expired) return expired;
  if (!expired->empty()) {
    auto d = db_.execute("DELETE FROM peer_previous_pins WHERE expires_at <= ?", now);
    if (!d) return d.error();
  }
  return expired;
}

Result<std::vector<PeerRecord>> PeerRepository::list() {
  return collect_rows(db_.query("SELECT " + std::string(kColumns) + " FROM peers ORDER BY domain"), read_peer);
}

}  // namespace sipsite::store
