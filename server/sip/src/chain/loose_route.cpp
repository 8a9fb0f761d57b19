#include "sipsite/sip/chain/steps.hpp"

#include "sipsite/sip/message/accessors.hpp"
#include "sipsite/sip/message/name_addr.hpp"

namespace sipsite::sip {

RequestProcessor::Verdict LooseRoute::process(RequestContext& ctx, RequestActions& actions) {
  Message& m = ctx.message();
  const auto routes = m.values(HeaderId::route);
  if (routes.empty()) return Verdict::next;
  const auto top = parse_name_addr(routes.front());
  if (!top || !top->uri.is_sip() || !names_.is_us(top->uri.sip_uri.host, top->uri.sip_uri.port)) {
    actions.refuse(ctx, 403, "Forbidden (Route does not go through this site)");
    return Verdict::done;
  }
  // The views stay valid across the removal (message.hpp).
  pop_first_value(m, HeaderId::route);
  ctx.route_popped = true;
  if (const auto* rt = find_param(top->uri.sip_uri.params, "rt"); rt && rt->value) ctx.route_token = *rt->value;
  if (routes.size() > 1) {
    if (const auto next = parse_name_addr(routes[1])) ctx.next_route = std::string(next->uri.text);
  }
  return Verdict::next;
}

}  // namespace sipsite::sip
