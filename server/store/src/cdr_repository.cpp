#include <sipsite/store/cdr_repository.hpp>
#include <sipsite/store/retention_settings.hpp>

#include <openssl/sha.h>

#include <array>

#include "sipsite/common/sha256.hpp"

namespace sipsite::store {

namespace {

constexpr std::string_view kColumns =
    "id, call_ref, caller_aor, callee_aor, direction, peer_domain, started_at, answered_at, ended_at, duration_s, "
    "final_status, end_reason, source_ip, media_inter_site, media_lan, media_end_to_end";

CdrRecord read_cdr(const Statement& s) {
  CdrRecord r;
  r.id = s.integer(0);
  r.call_ref = s.text(1);
  r.caller_aor = s.text(2);
  r.callee_aor = s.text(3);
  r.direction = cdr_direction_from_string(s.text(4)).value_or(CdrDirection::local);
  r.peer_domain = s.text(5);
  r.started_at = s.integer(6);
  r.answered_at = s.optional_integer(7);
  r.ended_at = s.optional_integer(8);
  r.duration_s = s.integer(9);
  r.final_status = static_cast<int>(s.integer(10));
  r.end_reason = s.text(11);
  r.source_ip = s.optional_text(12);
  r.media_inter_site = s.text(13);
  r.media_lan = s.text(14);
  r.media_end_to_end = s.text(15);
  return r;
}

// The WHERE clause of a filter, with its parameters in order. Every filter
// is a fixed-shape clause: "? = '' OR …" keeps one statement text.
constexpr std::string_view kWhere =
    " WHERE (?1 = '' OR caller_aor = ?1 OR callee_aor = ?1)"
    " AND (?2 = '' OR direction = ?2)"
    " AND (?3 = '' OR peer_domain = ?3)"
    " AND (?4 IS NULL OR started_at >= ?4)"
    " AND (?5 IS NULL OR started_at < ?5)";

void bind_filter(Statement& s, const CdrFilter& f) {
  s.bind(1, std::string_view(f.aor));
  s.bind(2, f.direction ? to_string(*f.direction) : std::string_view());
  s.bind(3, std::string_view(f.peer_domain));
  s.bind(4, f.since);
  s.bind(5, f.until);
}

Error no_record(std::int64_t id) { return Error{Errc::not_found, "no call record " + std::to_string(id)}; }

}  // namespace

std::string_view to_string(CdrDirection d) {
  switch (d) {
    case CdrDirection::local: return "local";
    case CdrDirection::outgoing: return "outgoing";
    case CdrDirection::incoming: return "incoming";
  }
  return "local";
}

std::optional<CdrDirection> cdr_direction_from_string(std::string_view s) {
  if (s == "local") return CdrDirection::local;
  if (s == "outgoing") return CdrDirection::outgoing;
  if (s == "incoming") return CdrDirection::incoming;
  return std::nullopt;
}

std::string call_ref_of(std::string_view call_id) {
  // Empty only if the provider refuses SHA-256: the record then carries no
  // reference, never the Call-ID itself.
  return common::sha256_hex(call_id, 16).value_or(std::string());
}

Result<std::int64_t> CdrRepository::start(const CdrStart& call) {
  auto store_ip = RetentionSettingsRepository(db_).flag(setting_key::kStoreIp);
  if (!store_ip) return store_ip.error();
  return insert(CdrWrite{call, std::nullopt, std::nullopt, std::nullopt}, *store_ip);
}

Result<std::int64_t> CdrRepository::insert(const CdrWrite& call, bool store_ip) {
  const CdrStart& s = call.start;
  const std::optional<std::string> ip = store_ip ? s.source_ip : std::nullopt;
  std::optional<std::int64_t> ended_at, final_status;
  std::optional<std::string> end_reason;
  std::int64_t duration = 0;
  if (call.end) {
    ended_at = call.end->at;
    final_status = call.end->final_status;
    end_reason = call.end->end_reason;
    if (call.answered_at && call.end->at >= *call.answered_at) duration = call.end->at - *call.answered_at;
  }
  const CdrMedia media = call.media.value_or(CdrMedia{});
  // The columns left out keep their schema defaults, as with a record
  // started and updated later.
  auto r = db_.execute_cached(
      "INSERT INTO cdrs (call_ref, caller_aor, callee_aor, direction, peer_domain, started_at, source_ip, "
      "answered_at, ended_at, duration_s, final_status, end_reason, media_inter_site, media_lan, media_end_to_end) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, coalesce(?11, 0), coalesce(?12, ''), ?13, ?14, ?15)",
      s.call_ref, s.caller_aor, s.callee_aor, to_string(s.direction), s.peer_domain, s.started_at, ip, call.answered_at,
      ended_at, duration, final_status, end_reason, std::string_view(media.inter_site), std::string_view(media.lan),
      std::string_view(media.end_to_end));
  if (!r) return r.error();
  return db_.last_insert_rowid();
}

Result<void> CdrRepository::answered(std::int64_t id, std::int64_t at) {
  auto r = db_.execute_cached("UPDATE cdrs SET answered_at = ? WHERE id = ? AND answered_at IS NULL", at, id);
  if (!r) return r.error();
  if (*r == 0) {
    auto found = find(id);
    if (!found) return found.error();
    if (!*found) return no_record(id);  // else: already answered, keep the first answer
  }
  return {};
}

Result<void> CdrRepository::ended(std::int64_t id, std::int64_t at, int final_status, std::string_view end_reason) {
  auto r = db_.execute_cached(
      "UPDATE cdrs SET ended_at = ?1, final_status = ?2, end_reason = ?3, "
      "duration_s = CASE WHEN answered_at IS NULL OR ?1 < answered_at THEN 0 ELSE ?1 - answered_at END "
      "WHERE id = ?4",
      at, final_status, end_reason, id);
  if (!r) return r.error();
  if (*r == 0) return no_record(id);
  return {};
}

Result<void> CdrRepository::media_protection(std::int64_t id, const CdrMedia& media) {
  auto r = db_.execute_cached(
      "UPDATE cdrs SET media_inter_site = ?1, media_lan = ?2, media_end_to_end = ?3 WHERE id = ?4",
      std::string_view(media.inter_site), std::string_view(media.lan), std::string_view(media.end_to_end), id);
  if (!r) return r.error();
  if (*r == 0) return no_record(id);
  return {};
}

Result<std::optional<CdrRecord>> CdrRepository::find(std::int64_t id) {
  return first_row(db_.query("SELECT " + std::string(kColumns) + " FROM cdrs WHERE id = ?", id), read_cdr);
}

Result<CdrPage> CdrRepository::list(const CdrFilter& filter, std::int64_t offset, std::int64_t limit) {
  CdrPage page;
  auto count = db_.prepare("SELECT count(*) FROM cdrs" + std::string(kWhere));
  if (!count) return count.error();
  bind_filter(*count, filter);
  auto total = first_row(std::move(count), [](const Statement& s) { return s.integer(0); });
  if (!total) return total.error();
  page.total = total->value_or(0);
  auto rows = db_.prepare("SELECT " + std::string(kColumns) + " FROM cdrs" + std::string(kWhere) +
                          " ORDER BY started_at DESC, id DESC LIMIT ?6 OFFSET ?7");
  if (!rows) return rows.error();
  bind_filter(*rows, filter);
  rows->bind(6, limit).bind(7, offset);
  auto items = collect_rows(std::move(rows), read_cdr);
  if (!items) return items.error();
  page.items = std::move(*items);
  return page;
}

Result<int> CdrRepository::purge_before(std::int64_t before, int batch) {
  return db_.execute(
      "DELETE FROM cdrs WHERE id IN (SELECT id FROM cdrs WHERE started_at < ? ORDER BY started_at LIMIT ?)", before,
      batch);
}

Result<int> CdrRepository::remove_for_aor(std::string_view aor) {
  return db_.execute("DELETE FROM cdrs WHERE caller_aor = ?1 OR callee_aor = ?1", aor);
}

}  // namespace sipsite::store
