// What the site has stored: call records (CDRs), stored messages (metadata
// only) and the audit log.

#include "api/rest.hpp"

#include <sipsite/store/audit_repository.hpp>
#include <sipsite/store/cdr_repository.hpp>
#include <sipsite/store/message_repository.hpp>
#include <sipsite/store/retention_settings.hpp>

#include <charconv>

namespace sipsite::webadmin {

using namespace rest;

namespace {

constexpr std::size_t kMaxAuditWindow = 10000;  // offset + limit reachable in the audit log

// ?name= as Unix seconds (0 to 10^12), if present.
std::optional<Response> time_query(const Target& target, std::string_view name, std::optional<std::int64_t>& out) {
  const auto it = target.query.find(std::string(name));
  if (it == target.query.end()) return std::nullopt;
  const std::string_view v = it->second;
  std::int64_t t = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), t);
  if (v.empty() || v.size() > 12 || ec != std::errc() || p != v.data() + v.size() || t < 0) {
    return error_response(Status::bad_request, "invalid_query", std::string(name) + " must be Unix seconds");
  }
  out = t;
  return std::nullopt;
}

json optional_time(const std::optional<std::int64_t>& t) { return t ? json(iso8601(*t)) : json(nullptr); }

}  // namespace

Response Api::list_cdrs(Call& c) {
  if (auto bad = c.read_page(settings_.max_page)) return *bad;
  store::CdrFilter filter;
  filter.aor = query_text(c.target, "aor");
  filter.peer_domain = query_text(c.target, "peer_domain");
  if (const auto d = query_text(c.target, "direction"); !d.empty()) {
    filter.direction = store::cdr_direction_from_string(d);
    if (!filter.direction) {
      return error_response(Status::bad_request, "invalid_query", "direction must be local, outgoing or incoming");
    }
  }
  if (auto bad = time_query(c.target, "since", filter.since)) return *bad;
  if (auto bad = time_query(c.target, "until", filter.until)) return *bad;
  auto settings = store::RetentionSettingsRepository(db_).load();
  if (!settings) return store_error(settings.error());
  auto page = store::CdrRepository(db_).list(filter, static_cast<std::int64_t>(c.page.offset),
                                             static_cast<std::int64_t>(c.page.limit));
  if (!page) return store_error(page.error());
  json items = json::array();
  for (const auto& r : page->items) {
    json item = {
        {"id", r.id},
        {"caller", r.caller_aor},
        {"callee", r.callee_aor},
        {"direction", store::to_string(r.direction)},
        {"peer_domain", r.peer_domain},
        {"started_at", iso8601(r.started_at)},
        {"answered_at", optional_time(r.answered_at)},
        {"ended_at", optional_time(r.ended_at)},
        {"duration_s", r.duration_s},
        {"final_status", r.final_status},
        {"end_reason", r.end_reason},
        {"media", {{"inter_site", r.media_inter_site}, {"lan", r.media_lan}, {"end_to_end", r.media_end_to_end}}}};
    if (r.source_ip) item["source_ip"] = *r.source_ip;
    items.push_back(std::move(item));
  }
  json out = page_json(std::move(items), static_cast<std::size_t>(page->total), c.page);
  out["retention_days"] = settings->cdr_days;
  return json_response(Status::ok, out);
}

Response Api::list_messages(Call& c) {
  if (auto bad = c.read_page(settings_.max_page)) return *bad;
  const std::string recipient = query_text(c.target, "recipient");
  auto settings = store::RetentionSettingsRepository(db_).load();
  if (!settings) return store_error(settings.error());
  store::MessageRepository messages(db_);
  auto total = messages.count(recipient);
  if (!total) return store_error(total.error());
  auto rows =
      messages.list(recipient, static_cast<std::int64_t>(c.page.offset), static_cast<std::int64_t>(c.page.limit));
  if (!rows) return store_error(rows.error());
  // Metadata only: the console never shows a message's body.
  json items = json::array();
  for (const auto& m : *rows) {
    items.push_back({{"id", m.id},
                     {"recipient", m.recipient},
                     {"sender", m.sender_aor},
                     {"content_type", m.content_type},
                     {"size", m.size},
                     {"created_at", iso8601(m.created_at)},
                     {"expires_at", iso8601(m.created_at + settings->message_days * 86400)}});
  }
  json out = page_json(std::move(items), static_cast<std::size_t>(*total), c.page);
  out["retention_days"] = settings->message_days;
  return json_response(Status::ok, out);
}

Response Api::list_audit(Call& c) {
  if (auto bad = c.read_page(settings_.max_page)) return *bad;
  if (c.page.offset + c.page.limit > kMaxAuditWindow) {
    return error_response(Status::bad_request, "invalid_query",
                          "the console shows the newest " + std::to_string(kMaxAuditWindow) + " entries");
  }
  // One more than the page, to tell whether there is a next page.
  auto rows = store::AuditRepository(db_).recent(static_cast<int>(c.page.offset + c.page.limit + 1));
  if (!rows) return store_error(rows.error());
  json items = json::array();
  for (std::size_t i = c.page.offset; i < rows->size() && i < c.page.offset + c.page.limit; ++i) {
    const auto& e = (*rows)[i];
    items.push_back({{"id", e.id},
                     {"at", iso8601(e.at)},
                     {"actor", e.actor},
                     {"source", e.source},
                     {"action", e.action},
                     {"detail", e.detail}});
  }
  return json_response(Status::ok, {{"items", std::move(items)},
                                    {"offset", c.page.offset},
                                    {"limit", c.page.limit},
                                    {"has_more", rows->size() > c.page.offset + c.page.limit}});
}

}  // namespace sipsite::webadmin
