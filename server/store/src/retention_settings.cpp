#include <sipsite/store/retention_settings.hpp>
#include <sipsite/store/settings_repository.hpp>

#include <charconv>

namespace sipsite::store {

namespace {

struct DaysField {
  std::string_view key;
  std::int64_t RetentionSettings::*member;
  std::string_view words;
};
constexpr DaysField kDays[] = {
    {setting_key::kCdrDays, &RetentionSettings::cdr_days, "cdr_days"},
    {setting_key::kSignalingLogDays, &RetentionSettings::signaling_log_days, "signaling_log_days"},
    {setting_key::kMessageDays, &RetentionSettings::message_days, "message_days"},
    {setting_key::kAuditDays, &RetentionSettings::audit_days, "audit_days"},
    {setting_key::kPendingRequestDays, &RetentionSettings::pending_request_days, "pending_request_days"},
};

struct FlagField {
  std::string_view key;
  bool RetentionSettings::*member;
};
constexpr FlagField kFlags[] = {
    {setting_key::kKeepCdrsOnUserDelete, &RetentionSettings::keep_cdrs_on_user_delete},
    {setting_key::kStoreIp, &RetentionSettings::store_ip},
    {setting_key::kSignalingLogEnabled, &RetentionSettings::signaling_log_enabled},
};

Error bad_value(std::string_view key) {
  return Error{Errc::corrupt, "setting " + std::string(key) + " has a value this sipsite cannot read"};
}

Result<std::optional<bool>> read_flag(SettingsRepository& settings, std::string_view key) {
  auto v = settings.get(key);
  if (!v) return v.error();
  if (!*v) return std::optional<bool>();
  if (**v == "true") return std::optional<bool>(true);
  if (**v == "false") return std::optional<bool>(false);
  return bad_value(key);
}

}  // namespace

std::optional<std::string> validate(const RetentionSettings& s) {
  for (const auto& f : kDays) {
    const auto v = s.*f.member;
    if (v < RetentionSettings::kMinDays || v > RetentionSettings::kMaxDays) {
      return std::string(f.words) + " must be a whole number of days from " +
             std::to_string(RetentionSettings::kMinDays) + " to " + std::to_string(RetentionSettings::kMaxDays);
    }
  }
  return std::nullopt;
}

Result<RetentionSettings> RetentionSettingsRepository::load() {
  SettingsRepository settings(db_);
  RetentionSettings s;
  for (const auto& f : kDays) {
    auto v = settings.get(f.key);
    if (!v) return v.error();
    if (!*v) continue;
    std::int64_t days = 0;
    const auto& text = **v;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), days);
    if (ec != std::errc() || p != text.data() + text.size()) return bad_value(f.key);
    s.*f.member = days;
  }
  for (const auto& f : kFlags) {
    auto v = read_flag(settings, f.key);
    if (!v) return v.error();
    if (*v) s.*f.member = **v;
  }
  if (auto bad = validate(s)) return Error{Errc::corrupt, "stored retention settings: " + *bad};
  return s;
}

Result<void> RetentionSettingsRepository::save(const RetentionSettings& s) {
  if (auto bad = validate(s)) return Error{Errc::invalid, *bad};
  return db_.transaction([&]() -> Result<void> {
    SettingsRepository settings(db_);
    for (const auto& f : kDays) {
      if (auto r = settings.put(f.key, std::to_string(s.*f.member)); !r) return r;
    }
    for (const auto& f : kFlags) {
      if (auto r = settings.put(f.key, s.*f.member ? "true" : "false"); !r) return r;
    }
    return {};
  });
}

Result<bool> RetentionSettingsRepository::flag(std::string_view key) {
  SettingsRepository settings(db_);
  auto v = read_flag(settings, key);
  if (!v) return v.error();
  return v->value_or(false);
}

}  // namespace sipsite::store
