#include "sipsite/sip/chain/steps.hpp"

#include "sipsite/sip/message/accessors.hpp"

#include <string>
#include <utility>

namespace sipsite::sip {

RequestProcessor::Verdict DialogRoute::process(RequestContext& ctx, RequestActions& actions) {
  // Pre-routed (a Route after ours), or a dialog's request to a target that
  // is not this site, having come through our Record-Route.
  const bool through_us = ctx.next_route || (ctx.route_popped && ctx.in_dialog && !ctx.for_site);
  if (!through_us) return Verdict::next;
  const Message& m = ctx.message();
  if (!tokens_.matches(call_id_of(m), ctx.route_token)) {
    actions.refuse(ctx, 403, "Forbidden (not a dialog of this site)");
    return Verdict::done;
  }
  std::string to_user;
  if (const auto to = to_header(m); to && to->uri.is_sip() && names_.is_local_host(to->uri.sip_uri.host)) {
    to_user = user_of(to->uri).value_or("");
  }
  const auto destination =
      ctx.next_route ? next_hop_.resolve(*ctx.next_route, "") : next_hop_.resolve(m.request_uri(), to_user);
  if (!destination) {
    actions.refuse(ctx, 404, "Not Found (next hop unknown)");
    return Verdict::done;
  }
  dialogs_.on_request(m);
  if (ctx.method() == "BYE") actions.call_hung_up(ctx);
  actions.forward(ctx, std::move(*ctx.forwarded), {ForwardTarget{"", *destination}});
  return Verdict::done;
}

}  // namespace sipsite::sip
