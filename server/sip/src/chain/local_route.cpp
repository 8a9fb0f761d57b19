#include "sipsite/sip/chain/steps.hpp"

#include "sipsite/sip/message/accessors.hpp"

#include <string>
#include <utility>
#include <vector>

namespace sipsite::sip {

RequestProcessor::Verdict LocalRoute::process(RequestContext& ctx, RequestActions& actions) {
  if (!ctx.for_site) return Verdict::next;
  const auto user = user_of(*ctx.request_uri);
  if (!user || !directory_.find_user(*user)) {
    actions.refuse(ctx, 404, "Not Found");
    return Verdict::done;
  }
  if (ctx.method() == "INVITE" && !ctx.in_dialog) {
    actions.call_started(ctx, *user + "@" + std::string(ctx.request_uri->sip_uri.host),
                         ctx.from_peer() ? CallStart::Direction::incoming : CallStart::Direction::local, ctx.in.peer);
  }
  const auto bindings = location_.lookup(*user);
  if (bindings.empty()) {
    const bool kept = ctx.method() == "MESSAGE" && !ctx.in_dialog && actions.store_offline(ctx, *user);
    if (!kept) actions.respond(ctx, 480, "Temporarily Unavailable");
    return Verdict::done;
  }
  std::vector<ForwardTarget> targets;
  targets.reserve(bindings.size());
  for (const auto& b : bindings) targets.push_back(ForwardTarget{b.contact, b.destination});
  actions.forward(ctx, std::move(*ctx.forwarded), std::move(targets));
  return Verdict::done;
}

}  // namespace sipsite::sip
