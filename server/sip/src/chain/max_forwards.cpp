#include "sipsite/sip/chain/steps.hpp"

#include "sipsite/sip/message/accessors.hpp"

#include <string>

namespace sipsite::sip {

RequestProcessor::Verdict MaxForwards::process(RequestContext& ctx, RequestActions& actions) {
  const auto max_forwards = forwarded_max_forwards(ctx.message());
  if (!max_forwards) {
    actions.refuse(ctx, 483, "Too Many Hops");
    return Verdict::done;
  }
  ctx.forwarded = ctx.message();
  ctx.forwarded->set_header("Max-Forwards", std::to_string(*max_forwards));
  return Verdict::next;
}

}  // namespace sipsite::sip
