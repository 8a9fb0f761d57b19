#pragma once
// CANCEL (RFC 3261 §9.2, §16.10): answered 200 (481 when it names no
// INVITE the site is working on), the INVITE answered 487 and its branches
// cancelled. The transaction layer gives a CANCEL its own server
// transaction, so it reaches the chain like any new request; it is first.

#include "sipsite/sip/chain/request_chain.hpp"

namespace sipsite::sip {

class CancelStep final : public RequestProcessor {
 public:
  [[nodiscard]] std::string_view name() const override { return "cancel"; }
  Verdict process(RequestContext& ctx, RequestActions& actions) override;
};

}  // namespace sipsite::sip
