#include "sipsite/sip/chain/steps.hpp"

#include <utility>

namespace sipsite::sip {

RequestProcessor::Verdict RequestUriCheck::process(RequestContext& ctx, RequestActions& actions) {
  auto parsed = parse_uri(ctx.message().request_uri());
  if (!parsed) {
    actions.refuse(ctx, 416, "Unsupported URI Scheme");
    return Verdict::done;
  }
  ctx.request_uri = std::move(*parsed);
  const Uri& uri = *ctx.request_uri;
  ctx.for_site = uri.is_sip() && names_.is_us(uri.sip_uri.host, uri.sip_uri.port);
  return Verdict::next;
}

}  // namespace sipsite::sip
