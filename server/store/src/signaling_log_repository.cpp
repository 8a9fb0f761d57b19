#include <sipsite/store/retention_settings.hpp>
#include <sipsite/store/signaling_log_repository.hpp>
#include "sipsite/common/ascii.hpp"

#include <algorithm>
#include <cctype>

namespace sipsite::store {

namespace {

constexpr std::size_t kMaxText = 8 * 1024;

using common::ascii_lower;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Header names (long and compact forms) whose values are never stored.
bool is_removed_header(std::string_view name) {
  const std::string n = ascii_lower(trim(name));
  return n == "authorization" || n == "proxy-authorization" || n == "www-authenticate" || n == "proxy-authenticate" ||
         n == "call-id" || n == "i";
}

bool is_content_length(std::string_view name) {
  const std::string n = ascii_lower(trim(name));
  return n == "content-length" || n == "l";
}

}  // namespace

std::string redact_signaling(std::string_view message) {
  std::string out;
  bool first = true;
  bool removing = false;  // inside a removed header's folded continuation lines
  while (!message.empty()) {
    auto eol = message.find('\n');
    std::string_view line = message.substr(0, eol);
    message = eol == std::string_view::npos ? std::string_view() : message.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of headers: the body is never kept
    if (!first && (line.front() == ' ' || line.front() == '\t')) {
      if (!removing) {
        out += line;
        out += "\r\n";
      }
      continue;
    }
    removing = false;
    const auto colon = line.find(':');
    if (!first && colon != std::string_view::npos) {
      const std::string_view name = line.substr(0, colon);
      if (is_removed_header(name)) {
        out += std::string(trim(name)) + ": [removed]\r\n";
        removing = true;
        continue;
      }
      if (is_content_length(name)) {
        out += std::string(trim(name)) + ": 0\r\n";
        continue;
      }
    }
    // Anything else is printable text only.
    for (char c : line) out += std::iscntrl(static_cast<unsigned char>(c)) && c != '\t' ? '?' : c;
    out += "\r\n";
    first = false;
    if (out.size() > kMaxText) break;
  }
  if (out.size() > kMaxText) out.resize(kMaxText);
  return out;
}

Result<bool> SignalingLogRepository::append(std::int64_t at, std::string_view direction, std::string_view summary,
                                            std::string_view call_ref, std::string_view message) {
  if (direction != "in" && direction != "out") {
    return Error{Errc::invalid, "signaling log direction must be 'in' or 'out'"};
  }
  auto enabled = RetentionSettingsRepository(db_).flag(setting_key::kSignalingLogEnabled);
  if (!enabled) return enabled.error();
  if (!*enabled) return false;
  auto r = db_.execute("INSERT INTO signaling_log (at, direction, summary, call_ref, text) VALUES (?, ?, ?, ?, ?)", at,
                       direction, summary.substr(0, 64), call_ref.substr(0, 64), redact_signaling(message));
  if (!r) return r.error();
  return true;
}

Result<std::vector<SignalingEntry>> SignalingLogRepository::recent(int limit) {
  return collect_rows(
      db_.query("SELECT id, at, direction, summary, call_ref, text FROM signaling_log ORDER BY id DESC LIMIT ?", limit),
      [](const Statement& s) {
        return SignalingEntry{s.integer(0), s.integer(1), s.text(2), s.text(3), s.text(4), s.text(5)};
      });
}

Result<int> SignalingLogRepository::purge_before(std::int64_t before, int batch) {
  return db_.execute(
      "DELETE FROM signaling_log WHERE id IN (SELECT id FROM signaling_log WHERE at < ? ORDER BY at LIMIT ?)", before,
      batch);
}

}  // namespace sipsite::store
