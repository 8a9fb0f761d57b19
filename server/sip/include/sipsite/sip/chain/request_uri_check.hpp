#pragma once
// The Request-URI must parse as a URI the site understands (416 otherwise,
// RFC 3261 §8.2.2.1); fills RequestContext::request_uri and for_site.

#include "sipsite/sip/chain/request_chain.hpp"
#include "sipsite/sip/proxy/site_names.hpp"

namespace sipsite::sip {

class RequestUriCheck final : public RequestProcessor {
 public:
  explicit RequestUriCheck(const SiteNames& names) : names_(names) {}
  [[nodiscard]] std::string_view name() const override { return "request_uri_check"; }
  Verdict process(RequestContext& ctx, RequestActions& actions) override;

 private:
  const SiteNames& names_;
};

}  // namespace sipsite::sip
