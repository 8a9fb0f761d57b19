#include "sipsite/sip/chain/steps.hpp"

#include "sipsite/sip/message/response.hpp"

namespace sipsite::sip {

RequestProcessor::Verdict ShutdownGate::process(RequestContext& ctx, RequestActions& actions) {
  if (!state_.active || ctx.in_dialog) return Verdict::next;
  auto busy = make_response(ctx.message(), 503, "Service Unavailable (" + state_.reason + ")");
  busy.add_header("Retry-After", "30");
  actions.send_response(ctx, busy);
  return Verdict::done;
}

}  // namespace sipsite::sip
