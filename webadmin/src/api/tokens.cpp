// API tokens for scripts: list, issue, revoke (a console session only: a
// token cannot make tokens).

#include "api/rest.hpp"

#include <sipsite/admin/site_operations.hpp>
#include <sipsite/store/api_token_repository.hpp>

#include <openssl/crypto.h>

namespace sipsite::webadmin {

using namespace rest;

Response Api::list_tokens(Call&) {
  auto tokens = store::ApiTokenRepository(db_).list();
  if (!tokens) return store_error(tokens.error());
  json items = json::array();
  for (const auto& t : *tokens) {
    items.push_back({{"id", t.id},
                     {"name", t.name},
                     {"created_by", t.created_by},
                     {"created_at", iso8601(t.created_at)},
                     {"last_used", t.last_used ? iso8601(t.last_used) : ""}});
  }
  const auto total = items.size();
  return json_response(Status::ok, {{"items", std::move(items)}, {"total", total}});
}

Response Api::create_token(Call& c) {
  json body;
  if (auto bad = parse_body(c.req, {"name"}, body)) return *bad;
  std::string name;
  if (auto bad = required_string(body, "name", name)) return *bad;
  auto issued = operations(c).issue_token(name);
  if (!issued) return operation_error(issued.error());
  // The token is shown this once; only its hash is kept.
  auto res = json_response(Status::created, {{"name", issued->record.name}, {"token", issued->token}});
  OPENSSL_cleanse(issued->token.data(), issued->token.size());
  return res;
}

Response Api::revoke_token(Call& c) {
  const auto id = parse_count(c.params.at("id"));
  if (!id) return error_response(Status::not_found, "not_found", "no such token");
  if (auto r = operations(c).revoke_token(static_cast<std::int64_t>(*id)); !r) return operation_error(r.error());
  return Response{Status::no_content, 11};
}

}  // namespace sipsite::webadmin
