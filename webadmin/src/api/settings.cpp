// The site's settings: retention windows and privacy switches.

#include "api/rest.hpp"

#include <sipsite/admin/site_operations.hpp>
#include <sipsite/store/retention_settings.hpp>

#include <utility>

namespace sipsite::webadmin {

using namespace rest;

namespace {

using S = store::RetentionSettings;
// The API's name of each setting, as GET shows it and PUT takes it.
constexpr std::pair<std::string_view, std::int64_t S::*> kDays[] = {{"cdr_days", &S::cdr_days},
                                                                    {"signaling_log_days", &S::signaling_log_days},
                                                                    {"message_days", &S::message_days},
                                                                    {"audit_days", &S::audit_days},
                                                                    {"pending_request_days", &S::pending_request_days}};
constexpr std::pair<std::string_view, bool S::*> kFlags[] = {{"keep_cdrs_on_user_delete", &S::keep_cdrs_on_user_delete},
                                                             {"store_ip", &S::store_ip},
                                                             {"signaling_log_enabled", &S::signaling_log_enabled}};

json settings_json(const S& s) {
  json out = json::object();
  for (const auto& [name, member] : kDays) out[std::string(name)] = s.*member;
  for (const auto& [name, member] : kFlags) out[std::string(name)] = s.*member;
  return out;
}

}  // namespace

Response Api::get_settings(Call&) {
  auto settings = store::RetentionSettingsRepository(db_).load();
  if (!settings) return store_error(settings.error());
  return json_response(Status::ok, settings_json(*settings));
}

// A partial update: members absent from the body keep their value.
Response Api::put_settings(Call& c) {
  json body;
  if (auto bad = parse_body(c.req,
                            {"cdr_days", "signaling_log_days", "message_days", "audit_days", "pending_request_days",
                             "keep_cdrs_on_user_delete", "store_ip", "signaling_log_enabled"},
                            body)) {
    return *bad;
  }
  auto current = store::RetentionSettingsRepository(db_).load();
  if (!current) return store_error(current.error());
  S next = *current;
  for (const auto& [name, member] : kDays) {
    const auto it = body.find(name);
    if (it == body.end()) continue;
    if (!it->is_number_integer()) {
      return error_response(Status::bad_request, "invalid_field", "'" + std::string(name) + "' must be a whole number");
    }
    next.*member = it->get<std::int64_t>();
  }
  for (const auto& [name, member] : kFlags) {
    const auto it = body.find(name);
    if (it == body.end()) continue;
    if (!it->is_boolean()) {
      return error_response(Status::bad_request, "invalid_field", "'" + std::string(name) + "' must be true or false");
    }
    next.*member = it->get<bool>();
  }
  auto change = operations(c).change_settings(next);
  if (!change) return operation_error(change.error());
  return json_response(Status::ok, settings_json(change->settings));
}

}  // namespace sipsite::webadmin
