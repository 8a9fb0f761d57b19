// The site's network settings (admin/network_settings.hpp): what the daemon
// runs with, what it will run with at its next start, and where each value
// comes from; changes are stored for the next start.

#include "api/rest.hpp"

#include <sipsite/admin/site_operations.hpp>

#include <algorithm>

namespace sipsite::webadmin {

using namespace rest;

namespace {

bool is_file_key(const NetworkContext& n, std::string_view key) {
  return std::find(n.file_keys.begin(), n.file_keys.end(), key) != n.file_keys.end();
}

}  // namespace

Response Api::network_view() {
  const auto& n = settings_.network;
  auto stored = admin::load_network_settings(db_);
  if (!stored) return operation_error(stored.error());
  const auto next = n.next_start(*stored);
  json items = json::array();
  bool restart_needed = false;
  for (const auto& key : admin::network_keys()) {
    const std::string name(key.name);
    const auto running = n.running.find(name);
    const auto at_start = next.find(name);
    const admin::NetworkValue running_value = running == n.running.end() ? admin::NetworkValue{} : running->second;
    const admin::NetworkValue next_value = at_start == next.end() ? running_value : at_start->second;
    const auto saved = std::find_if(stored->begin(), stored->end(), [&](const auto& s) { return s.key == name; });
    const bool from_file = is_file_key(n, name);
    const char* source = from_file ? "file" : (saved != stored->end() && saved->value) ? "stored" : "default";
    const bool restart = next_value != running_value;
    restart_needed = restart_needed || restart;
    items.push_back({{"key", name},
                     {"list", key.is_list},
                     {"meaning", key.meaning},
                     {"value", next_value},
                     {"running", running_value},
                     {"source", source},
                     {"editable", !from_file},
                     {"restart_needed", restart}});
  }
  return json_response(Status::ok, {{"items", std::move(items)}, {"restart_needed", restart_needed}});
}

Response Api::get_network_settings(Call&) {
  if (!settings_.network.next_start) return error_response(Status::not_found, "not_found", "no network settings here");
  return network_view();
}

// A partial update: each member a key; a string (one-valued keys) or an
// array of strings (lists), or null to go back to the default.
Response Api::put_network_settings(Call& c) {
  const auto& n = settings_.network;
  if (!n.next_start) return error_response(Status::not_found, "not_found", "no network settings here");
  json body;
  std::vector<std::string_view> names;
  for (const auto& key : admin::network_keys()) names.push_back(key.name);
  if (auto bad = parse_body(c.req, std::span<const std::string_view>(names), body)) return *bad;
  std::vector<admin::NetworkSetting> changes;
  for (const auto& [name, value] : body.items()) {
    const auto* key = admin::find_network_key(name);
    if (is_file_key(n, name)) {
      return error_response(Status::conflict, "set_in_config_file",
                            name + " is set in the configuration file; change it there");
    }
    admin::NetworkSetting change{name, std::nullopt};
    if (value.is_string() && !key->is_list) {
      change.value = admin::NetworkValue{value.get<std::string>()};
    } else if (value.is_array() && key->is_list) {
      admin::NetworkValue list;
      for (const auto& v : value) {
        if (!v.is_string())
          return error_response(Status::bad_request, "invalid_field", "'" + name + "' must be an array of strings");
        list.push_back(v.get<std::string>());
      }
      change.value = std::move(list);
    } else if (!value.is_null()) {
      return error_response(
          Status::bad_request, "invalid_field",
          "'" + name + "' must be " + (key->is_list ? "an array of strings" : "a string") + " or null");
    }
    changes.push_back(std::move(change));
  }
  if (auto r = operations(c).change_network_settings(changes); !r) return operation_error(r.error());
  return network_view();
}

}  // namespace sipsite::webadmin
