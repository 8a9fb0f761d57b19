#include "sipsite/sip/chain/steps.hpp"

namespace sipsite::sip {

RequestProcessor::Verdict CancelStep::process(RequestContext& ctx, RequestActions& actions) {
  if (ctx.method() != "CANCEL") return Verdict::next;
  actions.cancel(ctx);
  return Verdict::done;
}

}  // namespace sipsite::sip
