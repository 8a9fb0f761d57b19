#include "sipsite/sip/chain/steps.hpp"

#include "sipsite/sip/message/accessors.hpp"

#include <string>
#include <utility>

namespace sipsite::sip {

RequestProcessor::Verdict PeerSiteRoute::process(RequestContext& ctx, RequestActions& actions) {
  if (ctx.for_site || ctx.from_peer() || ctx.authenticated_user.empty()) return Verdict::next;
  const Uri& uri = *ctx.request_uri;
  const std::string domain(uri.is_sip() ? uri.sip_uri.host : "");
  if (ctx.method() == "INVITE" && !ctx.in_dialog) {
    actions.call_started(ctx, user_of(uri).value_or("") + "@" + domain, CallStart::Direction::outgoing, domain);
  }
  const PeerRoute route = peers_.route(ctx.in, ctx.authenticated_user);
  if (route.action == PeerRoute::Action::forward) {
    actions.forward(ctx, std::move(*ctx.forwarded), {ForwardTarget{"", route.destination}});
  } else {
    actions.respond(ctx, route.code, route.reason);
  }
  return Verdict::done;
}

}  // namespace sipsite::sip
