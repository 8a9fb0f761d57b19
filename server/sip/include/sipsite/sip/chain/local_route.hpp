#pragma once
// A request for a local user: 404 when there is no such user; an initial
// INVITE starts a call record; then forked in parallel to every registered
// phone (RFC 3261 §16.6). With no phone registered: a MESSAGE is kept for
// later delivery when the site keeps messages, anything else 480.

#include "sipsite/sip/chain/request_chain.hpp"
#include "sipsite/sip/services.hpp"

namespace sipsite::sip {

class LocalRoute final : public RequestProcessor {
 public:
  // Both must outlive the step.
  LocalRoute(const Directory& directory, const Location& location) : directory_(directory), location_(location) {}
  [[nodiscard]] std::string_view name() const override { return "local_route"; }
  Verdict process(RequestContext& ctx, RequestActions& actions) override;

 private:
  const Directory& directory_;
  const Location& location_;
};

}  // namespace sipsite::sip
