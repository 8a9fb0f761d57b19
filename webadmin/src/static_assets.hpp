#pragma once
// The console's embedded files as HTTP representations: each file is
// embedded twice at build time, as is and gzip-compressed (`gzip -9 -n`,
// webadmin/CMakeLists.txt), and served compressed when the request's
// Accept-Encoding allows gzip and the compressed form is smaller. Every
// answer names its entity tag, so a browser revalidates with If-None-Match
// and gets 304 without the body.

#include <sipsite/webadmin/http.hpp>

#include <string>
#include <string_view>

namespace sipsite::webadmin {

struct StaticAsset {
  std::string_view plain;
  std::string_view gzip;  // empty: no compressed form worth sending
  std::string etag;       // "\"<hash>\"", of the plain bytes
  std::string etag_gzip;  // "\"<hash>-gz\"": a distinct representation, a distinct tag
};

// The embedded file `name` ("app.js") and its compressed twin ("app.js.gz");
// nullptr when there is no such file. The table is built once, on first use
// (thread-safe).
const StaticAsset* find_static_asset(std::string_view name);

// Builds the asset from its two forms (tests; find_static_asset uses it).
StaticAsset make_static_asset(std::string_view plain, std::string_view gzip);

// True when an Accept-Encoding field value admits gzip (RFC 9110 12.5.3):
// "gzip" or "x-gzip" with a q-value above 0, or, when neither is named, "*"
// with a q-value above 0. An absent or empty field admits only identity.
bool accepts_gzip(std::string_view accept_encoding);

// True when an If-None-Match field value matches `etag` (a quoted
// entity-tag) by the weak comparison RFC 9110 13.1.2 prescribes, or is "*".
// A malformed list matches nothing from the bad member on.
bool etag_matches(std::string_view if_none_match, std::string_view etag);

// The response for GET of `asset` with `content_type`: 200 with the body
// (gzip-encoded when accepted) or 304 when If-None-Match matches; ETag,
// Vary: Accept-Encoding and Cache-Control: no-cache either way.
Response static_response(const Request& req, const StaticAsset& asset, std::string_view content_type);

}  // namespace sipsite::webadmin
