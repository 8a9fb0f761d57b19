#pragma once
// HTTP pieces shared by the console's server and its API: the message types,
// request-target parsing, JSON and error responses, and the security headers
// every response carries.

#include <sipsite/pki/certificate.hpp>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

#include <nlohmann/json_fwd.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace sipsite::webadmin {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// %XX decoding of a path segment or query component; nullopt for a bad
// escape or a decoded NUL. `plus_is_space` for query strings.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space = false);

// The path and the query parameters of an origin-form request target
// ("/a/b?x=1&y=2"); nullopt when it is not origin-form or badly escaped.
struct Target {
  std::string path;  // still escaped: the router decodes segment by segment
  std::map<std::string, std::string, std::less<>> query;
};
std::optional<Target> parse_target(std::string_view target);

// Content-Security-Policy: same-origin only, no inline script or style, not
// framable. The UI is written for it.
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// Adds CSP, HSTS, X-Frame-Options, Referrer-Policy, X-Content-Type-Options,
// Cross-Origin-*-Policy and Permissions-Policy; Cache-Control no-store unless
// the response set one.
void add_security_headers(Response& res);

// A JSON response (application/json; charset=utf-8).
Response json_response(http::status status, const nlohmann::json& body);
// {"error": {"code": code, "message": message}}
Response error_response(http::status status, std::string_view code, std::string_view message);

using pki::iso8601;

}  // namespace sipsite::webadmin
