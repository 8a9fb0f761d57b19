#pragma once
// Call detail records: one row per call attempt, written by the SIP core at
// start, answer and end (synchronous calls on its database thread), listed
// by the console, purged after the retention window.
//
// Privacy: no raw Call-ID (call_ref is whatever opaque id the caller
// chooses, e.g. call_ref_of()), and the source IP is stored only while the
// 'privacy.store_ip' setting is on: start() checks it, whatever the caller
// passes.

#include <sipsite/store/database.hpp>

#include <optional>
#include <vector>

namespace sipsite::store {

enum class CdrDirection { local, outgoing, incoming };
std::string_view to_string(CdrDirection d);
std::optional<CdrDirection> cdr_direction_from_string(std::string_view s);

struct CdrStart {
  std::string call_ref;
  std::string caller_aor;
  std::string callee_aor;
  CdrDirection direction = CdrDirection::local;
  std::string peer_domain;  // empty for local calls
  std::int64_t started_at = 0;
  std::optional<std::string> source_ip;  // dropped unless privacy.store_ip
};

// Who could hear a call: "srtp" between the sites for a call with another
// site, "" for a local one; "srtp" or "plain" on the site's LAN (the phones'
// legs); "none", "dtls-srtp" or "zrtp" end to end.
struct CdrMedia {
  std::string inter_site;
  std::string lan;
  std::string end_to_end;
};

// A call's end, as CdrRepository::ended() takes it.
struct CdrEnd {
  std::int64_t at = 0;
  int final_status = 0;
  std::string end_reason;
};

// A call record written in one INSERT: its start, and what of its answer,
// end and media was already known when it was written (a writer that
// batches events writes a short call once instead of three times).
struct CdrWrite {
  CdrStart start;
  std::optional<std::int64_t> answered_at;
  std::optional<CdrEnd> end;
  std::optional<CdrMedia> media;
};

struct CdrRecord {
  std::int64_t id = 0;
  std::string call_ref;
  std::string caller_aor;
  std::string callee_aor;
  CdrDirection direction = CdrDirection::local;
  std::string peer_domain;
  std::int64_t started_at = 0;
  std::optional<std::int64_t> answered_at;
  std::optional<std::int64_t> ended_at;
  std::int64_t duration_s = 0;
  int final_status = 0;  // SIP status; 0 while the call is in progress
  std::string end_reason;
  std::optional<std::string> source_ip;
  // Who could hear the call (migration 006); all "" until the relay saw
  // both parties' SDP.
  std::string media_inter_site;
  std::string media_lan;
  std::string media_end_to_end;
};

struct CdrFilter {
  std::string aor;  // caller or callee; empty: any
  std::optional<CdrDirection> direction;
  std::string peer_domain;            // empty: any
  std::optional<std::int64_t> since;  // started_at >= since
  std::optional<std::int64_t> until;  // started_at < until
};

struct CdrPage {
  std::vector<CdrRecord> items;  // newest first
  std::int64_t total = 0;        // rows matching the filter
};

// An opaque id for a call: the first 16 bytes of SHA-256(call_id), hex.
std::string call_ref_of(std::string_view call_id);

class CdrRepository {
 public:
  explicit CdrRepository(Database& db) : db_(db) {}
  // Returns the new record's id, for answered() and ended().
  Result<std::int64_t> start(const CdrStart& call);
  // The same for a whole record; `store_ip` is the privacy.store_ip setting
  // (read once per batch by the caller: start() reads it every time).
  Result<std::int64_t> insert(const CdrWrite& call, bool store_ip);
  // Errc::not_found if there is no such record.
  Result<void> answered(std::int64_t id, std::int64_t at);
  // Duration is from the answer (0 if never answered) to `at`.
  Result<void> ended(std::int64_t id, std::int64_t at, int final_status, std::string_view end_reason);
  // The call's media protection as the relay saw it (the latest wins: a
  // re-INVITE may change it). Errc::not_found if there is no such record.
  Result<void> media_protection(std::int64_t id, const CdrMedia& media);
  Result<std::optional<CdrRecord>> find(std::int64_t id);
  Result<CdrPage> list(const CdrFilter& filter, std::int64_t offset, std::int64_t limit);
  // Deletes at most `batch` records started before `before`; returns how
  // many it deleted (fewer than `batch`: nothing older is left).
  Result<int> purge_before(std::int64_t before, int batch);
  // Every record where `aor` is the caller or the callee.
  Result<int> remove_for_aor(std::string_view aor);

 private:
  Database& db_;
};

}  // namespace sipsite::store
