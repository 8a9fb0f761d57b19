#include "sipsite/sip/chain/steps.hpp"

#include "sipsite/sip/message/accessors.hpp"

#include <optional>
#include <utility>

namespace sipsite::sip {
namespace {

// Why a request from peer site `peer` may not speak for who it claims.
std::optional<std::string_view> peer_identity_refusal(const Message& m, std::string_view peer) {
  const auto from = from_header(m);
  if (!from || !from->uri.is_sip() || !iequals(from->uri.sip_uri.host, peer)) {
    return "Forbidden (From is not of the peer's domain)";
  }
  for (const auto value : m.values(HeaderId::p_asserted_identity)) {
    const auto pai = parse_name_addr(value);
    if (!pai || !pai->uri.is_sip() || !iequals(pai->uri.sip_uri.host, peer)) {
      return "Forbidden (P-Asserted-Identity is not of the peer's domain)";
    }
  }
  return std::nullopt;
}

}  // namespace

RequestProcessor::Verdict IdentityGate::process(RequestContext& ctx, RequestActions& actions) {
  const Message& m = ctx.message();
  if (ctx.from_peer()) {
    if (!ctx.for_site) {
      actions.refuse(ctx, 403, "Forbidden (not a user of this site)");
      return Verdict::done;
    }
    if (const auto refusal = peer_identity_refusal(m, ctx.in.peer)) {
      actions.refuse(ctx, 403, *refusal);
      return Verdict::done;
    }
    return Verdict::next;
  }
  auto decision = authenticator_.authenticate(ctx.in, /*proxy=*/true);
  if (decision.verdict != AuthDecision::Verdict::accepted) {
    if (decision.response) {
      actions.send_response(ctx, *decision.response);
    } else if (decision.verdict == AuthDecision::Verdict::rate_limited) {
      actions.stay_silent(ctx);
    } else {
      actions.refuse(ctx, 403, "Forbidden");
    }
    return Verdict::done;
  }
  const auto from = from_header(m);
  const bool from_is_user = from && from->uri.is_sip() && user_of(from->uri).value_or("") == decision.username &&
                            names_.is_local_host(from->uri.sip_uri.host);
  if (!from_is_user) {
    actions.refuse(ctx, 403, "Forbidden (From is not the authenticated user)");
    return Verdict::done;
  }
  ctx.authenticated_user = std::move(decision.username);
  ctx.forwarded->remove_headers(HeaderId::proxy_authorization);
  return Verdict::next;
}

}  // namespace sipsite::sip
