#pragma once
// Loose routing (RFC 3261 §16.4): a top Route naming this site is removed
// (its rt= token and the next Route kept in the context); a top Route
// naming anyone else is refused 403: the site is not an open relay.

#include "sipsite/sip/chain/request_chain.hpp"
#include "sipsite/sip/proxy/site_names.hpp"

namespace sipsite::sip {

class LooseRoute final : public RequestProcessor {
 public:
  explicit LooseRoute(const SiteNames& names) : names_(names) {}
  [[nodiscard]] std::string_view name() const override { return "loose_route"; }
  Verdict process(RequestContext& ctx, RequestActions& actions) override;

 private:
  const SiteNames& names_;
};

}  // namespace sipsite::sip
