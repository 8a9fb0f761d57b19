#include "sipsite/sip/chain/steps.hpp"

namespace sipsite::sip {

RequestProcessor::Verdict RegistrarStep::process(RequestContext& ctx, RequestActions& actions) {
  if (ctx.method() != "REGISTER") return Verdict::next;
  if (ctx.from_peer()) {
    actions.respond(ctx, 403, "Forbidden (peer sites do not register)");
  } else if (ctx.for_site && ctx.request_uri->sip_uri.user.empty()) {
    actions.send_response(ctx, registrar_.handle_register(ctx.in));
  } else {
    actions.respond(ctx, 403, "Forbidden (not a domain of this site)");
  }
  return Verdict::done;
}

}  // namespace sipsite::sip
