#include <sipsite/store/live_state_changes.hpp>

namespace sipsite::store {

namespace {

ChangeKind kind_of(std::string_view text) {
  if (text == "user") return ChangeKind::user;
  if (text == "peer") return ChangeKind::peer;
  if (text == "pin") return ChangeKind::pin;
  if (text == "setting") return ChangeKind::setting;
  return ChangeKind::site;
}

}  // namespace

Result<std::int64_t> LiveStateChangeRepository::latest() {
  // sqlite_sequence keeps the highest seq ever given, also once pruned.
  auto row = first_row(db_.query("SELECT seq FROM sqlite_sequence WHERE name = 'live_state_changes'"),
                       [](const Statement& s) { return s.integer(0); });
  if (!row) return row.error();
  return row->value_or(0);
}

Result<ChangesSince> LiveStateChangeRepository::since(std::int64_t cursor, std::size_t limit) {
  ChangesSince out;
  auto latest_seq = latest();
  if (!latest_seq) return latest_seq.error();
  out.latest = *latest_seq;
  if (out.latest <= cursor) return out;
  // Both reads see one snapshot only inside a transaction; outside one, a
  // change committed between them is read next time (its seq > latest is
  // not returned below).
  auto oldest = first_row(db_.query("SELECT min(seq) FROM live_state_changes"),
                          [](const Statement& s) { return s.optional_integer(0); });
  if (!oldest) return oldest.error();
  const std::optional<std::int64_t> first = *oldest ? **oldest : std::nullopt;  // NULL: the table is empty
  const bool pruned = !first || *first > cursor + 1;
  if (pruned || out.latest - cursor > static_cast<std::int64_t>(limit)) {
    out.complete = false;
    return out;
  }
  auto rows = collect_rows(db_.query("SELECT seq, kind, key FROM live_state_changes WHERE seq > ? AND seq <= ? "
                                     "ORDER BY seq",
                                     cursor, out.latest),
                           [](const Statement& s) {
                             return LiveStateChange{s.integer(0), kind_of(s.text(1)), s.text(2)};
                           });
  if (!rows) return rows.error();
  out.changes = std::move(*rows);
  return out;
}

}  // namespace sipsite::store
