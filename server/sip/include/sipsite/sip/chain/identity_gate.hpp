#pragma once
// Who is asking. From the LAN: proxy digest authentication (407 challenge,
// 403, or silence for a flooding source), then From must be the
// authenticated local user (403); the Proxy-Authorization is consumed here
// (RFC 3261 §22.3). From a peer site (DESIGN.md threat model 2): a peer
// speaks only for its own domain (From and every P-Asserted-Identity), and
// only to a local user: no transit between peers (403).

#include "sipsite/sip/chain/request_chain.hpp"
#include "sipsite/sip/services.hpp"
#include "sipsite/sip/proxy/site_names.hpp"

namespace sipsite::sip {

class IdentityGate final : public RequestProcessor {
 public:
  IdentityGate(Authenticator& authenticator, const SiteNames& names) : authenticator_(authenticator), names_(names) {}
  [[nodiscard]] std::string_view name() const override { return "identity_gate"; }
  Verdict process(RequestContext& ctx, RequestActions& actions) override;

 private:
  Authenticator& authenticator_;
  const SiteNames& names_;
};

}  // namespace sipsite::sip
