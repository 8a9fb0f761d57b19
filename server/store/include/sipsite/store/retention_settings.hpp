#pragma once
// The retention windows and privacy toggles (issue 7), typed, over the
// settings table. A setting never written has its default; a stored value
// that does not parse is an error rather than a silent default.

#include <sipsite/store/database.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace sipsite::store {

struct RetentionSettings {
  static constexpr std::int64_t kMinDays = 1;
  static constexpr std::int64_t kMaxDays = 3650;

  std::int64_t cdr_days = 180;
  std::int64_t signaling_log_days = 30;
  std::int64_t message_days = 30;
  std::int64_t audit_days = 365;
  std::int64_t pending_request_days = 7;
  bool keep_cdrs_on_user_delete = false;  // keep a deleted user's CDRs (billing)
  bool store_ip = false;                  // keep the caller's source IP in CDRs
  bool signaling_log_enabled = false;

  bool operator==(const RetentionSettings&) const = default;
};

// Setting keys, as stored in the settings table.
namespace setting_key {
inline constexpr std::string_view kCdrDays = "retention.cdr_days";
inline constexpr std::string_view kSignalingLogDays = "retention.signaling_log_days";
inline constexpr std::string_view kMessageDays = "retention.message_days";
inline constexpr std::string_view kAuditDays = "retention.audit_days";
inline constexpr std::string_view kPendingRequestDays = "retention.pending_request_days";
inline constexpr std::string_view kKeepCdrsOnUserDelete = "privacy.keep_cdrs_on_user_delete";
inline constexpr std::string_view kStoreIp = "privacy.store_ip";
inline constexpr std::string_view kSignalingLogEnabled = "privacy.signaling_log_enabled";
}  // namespace setting_key

// Why `s` is not acceptable (a day count outside kMinDays..kMaxDays), in
// words naming the field; nullopt when it is.
std::optional<std::string> validate(const RetentionSettings& s);

class RetentionSettingsRepository {
 public:
  explicit RetentionSettingsRepository(Database& db) : db_(db) {}
  Result<RetentionSettings> load();
  // Errc::invalid (with validate()'s words) if `s` is not acceptable; all
  // keys are written in one transaction.
  Result<void> save(const RetentionSettings& s);
  // One boolean setting (default false), cheap enough to read per event.
  Result<bool> flag(std::string_view key);

 private:
  Database& db_;
};

}  // namespace sipsite::store
