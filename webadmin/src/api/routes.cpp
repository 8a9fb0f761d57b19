// Every route of the console in one place: method, path pattern, handler
// and who may call it. Handlers live in one file per resource beside this
// one; authentication and dispatch in api.cpp.

#include "api/rest.hpp"

namespace sipsite::webadmin {

std::vector<Api::RouteSpec> Api::route_table() {
  using V = http::verb;
  using A = Access;
  std::vector<RouteSpec> routes;
  for (const auto& f : rest::kStaticFiles) routes.push_back({V::get, f.path, &Api::static_file, A::open});
  const RouteSpec api[] = {
      // open: static_files.cpp
      {V::get, "/healthz", &Api::healthz, A::open},
      {V::get, "/api/v1/openapi.json", &Api::openapi, A::open},
      // metrics.cpp
      {V::get, "/metrics", &Api::metrics, A::full},
      // session.cpp
      {V::post, "/api/v1/session", &Api::login, A::open},
      {V::get, "/api/v1/session", &Api::session_info, A::session_only},
      {V::delete_, "/api/v1/session", &Api::logout, A::session_only},
      {V::put, "/api/v1/session/password", &Api::change_password, A::session_only},
      // site.cpp
      {V::get, "/api/v1/site", &Api::site, A::full},
      {V::get, "/api/v1/site/certificate", &Api::site_certificate, A::full},
      {V::get, "/api/v1/site/address-check", &Api::site_address_check, A::full},
      {V::get, "/api/v1/site/invite.svg", &Api::site_invite_svg, A::full},
      // peers.cpp
      {V::get, "/api/v1/peers", &Api::list_peers, A::full},
      {V::post, "/api/v1/peers", &Api::import_peer, A::full},
      {V::post, "/api/v1/peers/bulk", &Api::bulk_peers, A::full},
      {V::get, "/api/v1/peers/pending", &Api::list_pending, A::full},
      {V::post, "/api/v1/peers/pending/{fingerprint}/ignore", &Api::ignore_pending, A::full},
      {V::get, "/api/v1/peers/{fingerprint}", &Api::get_peer, A::full},
      {V::post, "/api/v1/peers/{fingerprint}/trust", &Api::trust_peer, A::full},
      {V::post, "/api/v1/peers/{fingerprint}/revoke", &Api::revoke_peer, A::full},
      {V::delete_, "/api/v1/peers/{fingerprint}", &Api::remove_peer, A::full},
      // users.cpp
      {V::get, "/api/v1/users", &Api::list_users, A::full},
      {V::post, "/api/v1/users", &Api::add_user, A::full},
      {V::delete_, "/api/v1/users/{aor}", &Api::delete_user, A::full},
      {V::put, "/api/v1/users/{aor}/password", &Api::change_user_password, A::full},
      // records.cpp
      {V::get, "/api/v1/audit", &Api::list_audit, A::full},
      {V::get, "/api/v1/cdrs", &Api::list_cdrs, A::full},
      {V::get, "/api/v1/messages", &Api::list_messages, A::full},
      // calls.cpp
      {V::get, "/api/v1/registrations", &Api::list_registrations, A::full},
      {V::get, "/api/v1/calls", &Api::list_calls, A::full},
      // settings.cpp
      {V::get, "/api/v1/settings", &Api::get_settings, A::full},
      {V::put, "/api/v1/settings", &Api::put_settings, A::full},
      // network.cpp
      {V::get, "/api/v1/settings/network", &Api::get_network_settings, A::full},
      {V::put, "/api/v1/settings/network", &Api::put_network_settings, A::full},
      // tokens.cpp: a session only (a token cannot make tokens)
      {V::get, "/api/v1/tokens", &Api::list_tokens, A::session_full},
      {V::post, "/api/v1/tokens", &Api::create_token, A::session_full},
      {V::delete_, "/api/v1/tokens/{id}", &Api::revoke_token, A::session_full},
  };
  routes.insert(routes.end(), std::begin(api), std::end(api));
  return routes;
}

}  // namespace sipsite::webadmin
