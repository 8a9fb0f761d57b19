#pragma once
// Requests for the site itself (a Request-URI with no user, naming the
// site, and no Route left to follow): OPTIONS is answered 200 with what the
// site supports (RFC 3261 §11.2), anything else 405 (REGISTER was taken by
// the registrar step before).

#include "sipsite/sip/chain/request_chain.hpp"

#include <string>
#include <utility>

namespace sipsite::sip {

class SiteRequests final : public RequestProcessor {
 public:
  // allow / supported: the Allow and Supported values of the 200 to OPTIONS.
  SiteRequests(std::string allow, std::string supported) : allow_(std::move(allow)), supported_(std::move(supported)) {}
  [[nodiscard]] std::string_view name() const override { return "site_requests"; }
  Verdict process(RequestContext& ctx, RequestActions& actions) override;

 private:
  std::string allow_;
  std::string supported_;
};

}  // namespace sipsite::sip
