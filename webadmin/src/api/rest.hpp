#pragma once
// What the REST handlers (webadmin/src/api/*.cpp) share: reading a request
// (JSON body, fields, paging) and the error answers for store and admin
// operation failures. Internal to webadmin.

#include <sipsite/admin/operation_error.hpp>
#include <sipsite/store/error.hpp>
#include <sipsite/webadmin/api.hpp>
#include <sipsite/webadmin/http.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::webadmin::rest {

using json = nlohmann::json;
using Status = http::status;

// The console's UI files: the URL path, the embedded asset, its type.
struct StaticFile {
  std::string_view path;
  std::string_view name;
  std::string_view content_type;
};
inline constexpr StaticFile kStaticFiles[] = {
    {"/", "index.html", "text/html; charset=utf-8"},
    {"/app.js", "app.js", "text/javascript; charset=utf-8"},
    {"/style.css", "style.css", "text/css; charset=utf-8"},
    {"/favicon.svg", "favicon.svg", "image/svg+xml"},
};

// The daemon's thread did not answer the console in time (LiveState).
Response live_state_unavailable();

// Text safe to put in an audit entry or an error message: no control
// characters, bounded.
std::string printable(std::string_view s, std::size_t max = 64);

// A store error as an HTTP answer (duplicate 409, not found 404, ...).
Response store_error(const store::Error& e);

// An admin operation's error: bad input 400, not found 404, a state that
// does not allow it 409, a busy database 503; the code is the operation's.
Response operation_error(const admin::OpError& e);

// The value of cookie `name`, or empty.
std::string cookie_value(const Request& req, std::string_view name);

// The request body as a JSON object having only `allowed` members; an error
// response otherwise. An empty body counts as {} when `optional`.
std::optional<Response> parse_body(const Request& req, std::initializer_list<std::string_view> allowed, json& out,
                                   bool optional = false);
std::optional<Response> parse_body(const Request& req, std::span<const std::string_view> allowed, json& out,
                                   bool optional = false);

// A string member; absent is nullopt with no error, another type an error.
std::optional<Response> string_field(const json& body, std::string_view key, std::optional<std::string>& out);
std::optional<Response> required_string(const json& body, std::string_view key, std::string& out);

// ?name= of the request target, or empty.
std::string query_text(const Target& target, std::string_view name);

struct Page {
  std::size_t offset = 0;
  std::size_t limit = 50;
};

// A whole number of at most 9 digits.
std::optional<std::size_t> parse_count(std::string_view s);

json page_json(json items, std::size_t total, const Page& page);

template <class T, class ToJson>
json paginate(const std::vector<T>& rows, const Page& page, ToJson to_json) {
  json items = json::array();
  for (std::size_t i = page.offset; i < rows.size() && i < page.offset + page.limit; ++i)
    items.push_back(to_json(rows[i]));
  return page_json(std::move(items), rows.size(), page);
}

}  // namespace sipsite::webadmin::rest

namespace sipsite::webadmin {

// One request on its way through a handler: what was asked, by whom.
struct Api::Call {
  const Request& req;
  const RequestContext& ctx;
  Target target;
  RouteParams params;
  Session* session = nullptr;
  std::string session_id;
  std::string actor;  // for the audit log: the admin's name, or "token:NAME"
  rest::Page page;

  // ?offset=&limit= (defaults 0 and 50, limit at most `max`).
  std::optional<Response> read_page(std::size_t max);
};

}  // namespace sipsite::webadmin
