#pragma once
// The optional signaling log, for troubleshooting calls: off by default
// ('privacy.signaling_log_enabled'). append() checks the setting itself and
// redacts what it stores (redact_signaling()), whatever the caller passes.

#include <sipsite/store/database.hpp>

#include <vector>

namespace sipsite::store {

struct SignalingEntry {
  std::int64_t id = 0;
  std::int64_t at = 0;
  std::string direction;  // "in" or "out"
  std::string summary;    // the method ("INVITE") or the status ("200")
  std::string call_ref;   // opaque (call_ref_of), never the raw Call-ID
  std::string text;       // redacted
};

// The start line and headers of a SIP message with the body removed, the
// Content-Length set to 0, and the values of Authorization,
// Proxy-Authorization, WWW-Authenticate and Proxy-Authenticate replaced by
// "[removed]". Call-ID values are replaced by "[removed]" too (the entry
// carries call_ref). Bounded to 8 KiB.
std::string redact_signaling(std::string_view message);

class SignalingLogRepository {
 public:
  explicit SignalingLogRepository(Database& db) : db_(db) {}
  // Stores the entry (redacted) if the log is enabled; returns whether it
  // did. Errc::invalid for a direction other than "in"/"out".
  Result<bool> append(std::int64_t at, std::string_view direction, std::string_view summary, std::string_view call_ref,
                      std::string_view message);
  // Newest first.
  Result<std::vector<SignalingEntry>> recent(int limit);
  Result<int> purge_before(std::int64_t before, int batch);

 private:
  Database& db_;
};

}  // namespace sipsite::store
