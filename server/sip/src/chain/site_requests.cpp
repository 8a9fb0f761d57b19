#include "sipsite/sip/chain/steps.hpp"

#include "sipsite/sip/message/response.hpp"

namespace sipsite::sip {

RequestProcessor::Verdict SiteRequests::process(RequestContext& ctx, RequestActions& actions) {
  if (ctx.next_route || !ctx.for_site || !ctx.request_uri->sip_uri.user.empty()) return Verdict::next;
  if (ctx.method() == "OPTIONS") {
    auto ok = make_response(ctx.message(), 200, "OK");
    ok.add_header("Allow", allow_);
    ok.add_header("Supported", supported_);
    ok.add_header("Accept", "application/sdp");
    actions.send_response(ctx, ok);
  } else {
    auto refused = make_response(ctx.message(), 405, "Method Not Allowed");
    refused.add_header("Allow", "OPTIONS, REGISTER");
    actions.send_response(ctx, refused);
  }
  return Verdict::done;
}

}  // namespace sipsite::sip
