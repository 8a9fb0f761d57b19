#include "api/rest.hpp"

#include "sipsite/common/ascii.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace sipsite::webadmin::rest {

Response live_state_unavailable() {
  auto res = error_response(http::status::service_unavailable, "live_state_unavailable",
                            "the daemon did not answer in time (it is busy or stopping); try again in a moment");
  res.set(http::field::retry_after, "1");
  return res;
}

std::string printable(std::string_view s, std::size_t max) {
  std::string out;
  for (char c : s.substr(0, max)) out += std::iscntrl(static_cast<unsigned char>(c)) ? '?' : c;
  if (s.size() > max) out += "...";
  return out;
}

Response store_error(const store::Error& e) {
  switch (e.code) {
    case store::Errc::duplicate: return error_response(Status::conflict, "conflict", e.message);
    case store::Errc::not_found: return error_response(Status::not_found, "not_found", e.message);
    case store::Errc::invalid: return error_response(Status::bad_request, "invalid", e.message);
    case store::Errc::busy:
      return error_response(Status::service_unavailable, "busy", "the database is busy; try again");
    default: return error_response(Status::internal_server_error, "store_error", e.message);
  }
}

Response operation_error(const admin::OpError& e) {
  using admin::OpErrc;
  Status status = Status::bad_request;
  switch (e.code) {
    case OpErrc::not_found: status = Status::not_found; break;
    case OpErrc::conflict:
    case OpErrc::peer_trusted:
    case OpErrc::certificate_not_valid: status = Status::conflict; break;
    case OpErrc::busy: status = Status::service_unavailable; break;
    case OpErrc::failed: status = Status::internal_server_error; break;
    default: break;  // the input is wrong
  }
  return error_response(status, std::string(admin::to_string(e.code)), e.message);
}

std::string cookie_value(const Request& req, std::string_view name) {
  for (auto it = req.find(http::field::cookie); it != req.end() && it->name() == http::field::cookie; ++it) {
    std::string_view header = it->value();
    while (!header.empty()) {
      const auto semi = header.find(';');
      std::string_view pair = header.substr(0, semi);
      header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      const auto eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) return std::string(pair.substr(eq + 1));
    }
  }
  return {};
}

std::optional<Response> parse_body(const Request& req, std::initializer_list<std::string_view> allowed, json& out,
                                   bool optional) {
  return parse_body(req, std::span<const std::string_view>(allowed.begin(), allowed.size()), out, optional);
}

std::optional<Response> parse_body(const Request& req, std::span<const std::string_view> allowed, json& out,
                                   bool optional) {
  if (req.body().empty() && optional) {
    out = json::object();
    return std::nullopt;
  }
  if (!common::istarts_with(req[http::field::content_type], "application/json")) {
    return error_response(Status::unsupported_media_type, "unsupported_media_type",
                          "send the body as application/json");
  }
  out = json::parse(req.body(), nullptr, false);
  if (out.is_discarded()) return error_response(Status::bad_request, "bad_json", "the body is not valid JSON");
  if (!out.is_object()) return error_response(Status::bad_request, "bad_json", "the body must be a JSON object");
  for (const auto& [key, value] : out.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return error_response(Status::bad_request, "unknown_field", "unknown field '" + printable(key) + "'");
    }
  }
  return std::nullopt;
}

std::optional<Response> string_field(const json& body, std::string_view key, std::optional<std::string>& out) {
  const auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    return error_response(Status::bad_request, "invalid_field", "'" + std::string(key) + "' must be a string");
  }
  out = it->get<std::string>();
  return std::nullopt;
}

std::optional<Response> required_string(const json& body, std::string_view key, std::string& out) {
  std::optional<std::string> v;
  if (auto bad = string_field(body, key, v)) return bad;
  if (!v) return error_response(Status::bad_request, "missing_field", "'" + std::string(key) + "' is required");
  out = std::move(*v);
  return std::nullopt;
}

std::string query_text(const Target& target, std::string_view name) {
  const auto it = target.query.find(std::string(name));
  return it == target.query.end() ? std::string() : it->second;
}

std::optional<std::size_t> parse_count(std::string_view s) {
  std::size_t v = 0;
  if (s.empty() || s.size() > 9) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

json page_json(json items, std::size_t total, const Page& page) {
  return {{"items", std::move(items)}, {"total", total}, {"offset", page.offset}, {"limit", page.limit}};
}

}  // namespace sipsite::webadmin::rest

namespace sipsite::webadmin {

std::optional<Response> Api::Call::read_page(std::size_t max) {
  using rest::parse_count;
  using rest::Status;
  if (auto it = target.query.find("offset"); it != target.query.end()) {
    auto v = parse_count(it->second);
    if (!v) return error_response(Status::bad_request, "invalid_query", "offset must be a whole number");
    page.offset = *v;
  }
  if (auto it = target.query.find("limit"); it != target.query.end()) {
    auto v = parse_count(it->second);
    if (!v || *v < 1 || *v > max) {
      return error_response(Status::bad_request, "invalid_query",
                            "limit must be a whole number from 1 to " + std::to_string(max));
    }
    page.limit = *v;
  }
  return std::nullopt;
}

}  // namespace sipsite::webadmin
