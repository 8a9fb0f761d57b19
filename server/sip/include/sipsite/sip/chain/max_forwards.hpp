#pragma once
// Max-Forwards (RFC 3261 §16.3 step 3, §16.6 step 3) for everything the
// site forwards: 483 at zero; otherwise the copy to forward is made here
// (RequestContext::forwarded), carrying one less.

#include "sipsite/sip/chain/request_chain.hpp"

namespace sipsite::sip {

class MaxForwards final : public RequestProcessor {
 public:
  [[nodiscard]] std::string_view name() const override { return "max_forwards"; }
  Verdict process(RequestContext& ctx, RequestActions& actions) override;
};

}  // namespace sipsite::sip
