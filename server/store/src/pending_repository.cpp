#include <sipsite/store/pending_repository.hpp>

#include "sipsite/store/unix_time.hpp"

namespace sipsite::store {

namespace {

constexpr std::string_view kColumns =
    "fingerprint, certificate_pem, claimed_domain, source_address, first_seen, last_seen, attempts, ignored";

// What a read selects: the columns, and whether the claimed domain is that
// of a trusted peer (whose pinned key is another: the request would be pending
// otherwise).
const std::string kSelect =
    "SELECT " + std::string(kColumns) +
    ", EXISTS (SELECT 1 FROM peers WHERE peers.state = 'trusted' AND peers.domain = peer_requests.claimed_domain "
    "COLLATE NOCASE) FROM peer_requests";

PendingRequest read_request(const Statement& s) {
  return PendingRequest{s.text(0),    s.text(1),    s.text(2),         s.text(3),        s.integer(4),
                        s.integer(5), s.integer(6), s.integer(7) != 0, s.integer(8) != 0};
}

}  // namespace

Result<PendingOutcome> PendingRepository::record(std::string_view fingerprint, std::string_view certificate_pem,
                                                 std::string_view claimed_domain, std::string_view source_address,
                                                 std::int64_t cap) {
  PendingOutcome outcome = PendingOutcome::recorded;
  auto r = db_.transaction([&]() -> Result<void> {
    const auto now = unix_now();
    auto existing = find(fingerprint);
    if (!existing) return existing.error();
    if (*existing) {
      if ((*existing)->ignored) {
        outcome = PendingOutcome::ignored;
        return {};
      }
      outcome = PendingOutcome::updated;
      auto u = db_.execute(
          "UPDATE peer_requests SET last_seen = ?, attempts = attempts + 1, source_address = ?, claimed_domain = ? "
          "WHERE fingerprint = ?",
          now, source_address, claimed_domain, fingerprint);
      if (!u) return u.error();
      return {};
    }
    auto count =
        first_row(db_.query("SELECT count(*) FROM peer_requests"), [](const Statement& s) { return s.integer(0); });
    if (!count) return count.error();
    if (**count >= cap) {
      auto evicted = db_.execute(
          "DELETE FROM peer_requests WHERE fingerprint = (SELECT fingerprint FROM peer_requests WHERE ignored = 0 "
          "ORDER BY last_seen LIMIT 1)");
      if (!evicted) return evicted.error();
      if (*evicted == 0) {
        outcome = PendingOutcome::full;
        return {};
      }
      outcome = PendingOutcome::replaced;
    }
    auto i = db_.execute("INSERT INTO peer_requests (" + std::string(kColumns) + ") VALUES (?, ?, ?, ?, ?, ?, 1, 0)",
                         fingerprint, certificate_pem, claimed_domain, source_address, now, now);
    if (!i) return i.error();
    return {};
  });
  if (!r) return r.error();
  return outcome;
}

Result<std::optional<PendingRequest>> PendingRepository::find(std::string_view fingerprint) {
  return first_row(db_.query(kSelect + " WHERE fingerprint = ?", fingerprint), read_request);
}

Result<std::vector<PendingRequest>> PendingRepository::list(bool include_ignored) {
  return collect_rows(db_.query(kSelect + " WHERE ignored <= ? ORDER BY last_seen DESC, fingerprint",
                                static_cast<std::int64_t>(include_ignored)),
                      read_request);
}

Result<void> PendingRepository::ignore(std::string_view fingerprint) {
  auto r = db_.execute("UPDATE peer_requests SET ignored = 1 WHERE fingerprint = ?", fingerprint);
  if (!r) return r.error();
  if (*r == 0) return Error{Errc::not_found, "no pending request with fingerprint " + std::string(fingerprint)};
  return {};
}

Result<void> PendingRepository::remove(std::string_view fingerprint) {
  auto r = db_.execute("DELETE FROM peer_requests WHERE fingerprint = ?", fingerprint);
  if (!r) return r.error();
  return {};
}

Result<int> PendingRepository::purge_older_than(std::int64_t before) {
  return db_.execute("DELETE FROM peer_requests WHERE ignored = 0 AND last_seen < ?", before);
}

}  // namespace sipsite::store
