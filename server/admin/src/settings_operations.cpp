// SiteOperations: settings.

#include <sipsite/admin/site_operations.hpp>

namespace sipsite::admin {

namespace {

// "name=value ..." for each value that differs, in a fixed order.
std::string describe_changes(const store::RetentionSettings& before, const store::RetentionSettings& after) {
  using S = store::RetentionSettings;
  const std::pair<std::string_view, std::int64_t S::*> days[] = {{"cdr_days", &S::cdr_days},
                                                                 {"signaling_log_days", &S::signaling_log_days},
                                                                 {"message_days", &S::message_days},
                                                                 {"audit_days", &S::audit_days},
                                                                 {"pending_request_days", &S::pending_request_days}};
  const std::pair<std::string_view, bool S::*> flags[] = {{"keep_cdrs_on_user_delete", &S::keep_cdrs_on_user_delete},
                                                          {"store_ip", &S::store_ip},
                                                          {"signaling_log_enabled", &S::signaling_log_enabled}};
  std::string out;
  const auto add = [&](std::string_view name, const std::string& value) {
    out += (out.empty() ? "" : " ") + std::string(name) + "=" + value;
  };
  for (const auto& [name, member] : days) {
    if (before.*member != after.*member) add(name, std::to_string(after.*member));
  }
  for (const auto& [name, member] : flags) {
    if (before.*member != after.*member) add(name, after.*member ? "true" : "false");
  }
  return out;
}

}  // namespace

OpResult<SettingsChange> SiteOperations::change_settings(const store::RetentionSettings& next) {
  if (auto bad = store::validate(next)) return OpError{OpErrc::bad_setting, *bad};
  SettingsChange change{next, {}};
  auto r = db_.transaction([&]() -> store::Result<void> {
    store::RetentionSettingsRepository settings(db_);
    auto current = settings.load();
    if (!current) return current.error();
    change.changes = describe_changes(*current, next);
    if (change.changes.empty()) return {};
    if (auto saved = settings.save(next); !saved) return saved;
    return audit("settings.change", change.changes);
  });
  if (!r) return from_store(r.error());
  return change;
}

}  // namespace sipsite::admin
