// The open routes: the console's UI files, /healthz, the OpenAPI description.

#include "api/rest.hpp"

#include "static_assets.hpp"

namespace sipsite::webadmin {

using namespace rest;

Response Api::static_file(Call& c) {
  for (const auto& f : kStaticFiles) {
    if (f.path != c.target.path) continue;
    if (const StaticAsset* asset = find_static_asset(f.name)) return static_response(c.req, *asset, f.content_type);
  }
  return error_response(Status::not_found, "not_found", "no such resource");
}

Response Api::healthz(Call&) {
  Response res{Status::ok, 11};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = "ok\n";
  return res;
}

Response Api::openapi(Call& c) {
  const StaticAsset* asset = find_static_asset("openapi.json");
  if (asset == nullptr) return error_response(Status::not_found, "not_found", "no such resource");
  return static_response(c.req, *asset, "application/json; charset=utf-8");
}

}  // namespace sipsite::webadmin
