#pragma once
// A request from a local user for another domain: an initial INVITE starts
// an outgoing call record; the PeerRouter (federation) then names the link
// to the peer site, or the refusal (403 for a domain no trusted site has).

#include "sipsite/sip/chain/request_chain.hpp"
#include "sipsite/sip/proxy/proxy.hpp"

namespace sipsite::sip {

class PeerSiteRoute final : public RequestProcessor {
 public:
  explicit PeerSiteRoute(PeerRouter& peers) : peers_(peers) {}
  [[nodiscard]] std::string_view name() const override { return "peer_site_route"; }
  Verdict process(RequestContext& ctx, RequestActions& actions) override;

 private:
  PeerRouter& peers_;
};

}  // namespace sipsite::sip
