#pragma once
// In-dialog (or pre-routed) requests through the site's Record-Route
// (RFC 3261 §16.4, §16.6 step 6): to the next Route, else to the
// Request-URI (the remote target). Only for dialogs the site record-routed
// (the Route carried the Call-ID's token): 403 otherwise. A BYE ends the
// dialog's call record.

#include "sipsite/sip/chain/request_chain.hpp"
#include "sipsite/sip/chain/dialog_tokens.hpp"
#include "sipsite/sip/chain/next_hop.hpp"
#include "sipsite/sip/proxy/dialog_set.hpp"
#include "sipsite/sip/proxy/site_names.hpp"

namespace sipsite::sip {

class DialogRoute final : public RequestProcessor {
 public:
  // Each must outlive the step.
  DialogRoute(const DialogTokens& tokens, const NextHopResolver& next_hop, const SiteNames& names, DialogSet& dialogs)
      : tokens_(tokens), next_hop_(next_hop), names_(names), dialogs_(dialogs) {}
  [[nodiscard]] std::string_view name() const override { return "dialog_route"; }
  Verdict process(RequestContext& ctx, RequestActions& actions) override;

 private:
  const DialogTokens& tokens_;
  const NextHopResolver& next_hop_;
  const SiteNames& names_;
  DialogSet& dialogs_;
};

}  // namespace sipsite::sip
