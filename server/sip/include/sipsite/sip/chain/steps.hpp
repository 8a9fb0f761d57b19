#pragma once
// The steps of the request chain, in the order the core runs them
// (Core's constructor assembles them; each is defined in its own file of
// server/sip/src/chain/ and unit-tested alone). A step reads and fills the
// RequestContext and acts through RequestActions; it answers `done` when
// it answered or forwarded the request, `next` to pass it on.

#include "sipsite/sip/chain/request_chain.hpp"
#include "sipsite/sip/chain/dialog_tokens.hpp"
#include "sipsite/sip/chain/next_hop.hpp"
#include "sipsite/sip/proxy/dialog_set.hpp"
#include "sipsite/sip/proxy/proxy.hpp"
#include "sipsite/sip/proxy/site_names.hpp"
#include "sipsite/sip/services.hpp"

#include <string>
#include <utility>

namespace sipsite::sip {

// CANCEL (RFC 3261 §9.2, §16.10): answered 200 (481 when it names no
// INVITE the site is working on), the INVITE answered 487 and its branches
// cancelled. The transaction layer gives a CANCEL its own server
// transaction, so it reaches the chain like any new request; it is first.
class CancelStep final : public RequestProcessor {
 public:
  [[nodiscard]] std::string_view name() const override { return "cancel"; }
  Verdict process(RequestContext& ctx, RequestActions& actions) override;
};

// While the site shuts down, a request that would start something new (no
// To tag) is answered 503 with Retry-After: 30; requests inside dialogs
// still pass, so that calls being ended can be ended.
struct ShutdownState {
  bool active = false;
  std::string reason;  // in the 503's phrase
};

class ShutdownGate final : public RequestProcessor {
 public:
  // The daemon sets it when it stops (Core::end_calls).
  explicit ShutdownGate(const ShutdownState& state) : state_(state) {}
  [[nodiscard]] std::string_view name() const override { return "shutdown_gate"; }
  Verdict process(RequestContext& ctx, RequestActions& actions) override;

 private:
  const ShutdownState& state_;
};

// The Request-URI must parse as a URI the site understands (416 otherwise,
// RFC 3261 §8.2.2.1); fills RequestContext::request_uri and for_site.
class RequestUriCheck final : public RequestProcessor {
 public:
  explicit RequestUriCheck(const SiteNames& names) : names_(names) {}
  [[nodiscard]] std::string_view name() const override { return "request_uri_check"; }
  Verdict process(RequestContext& ctx, RequestActions& actions) override;

 private:
  const SiteNames& names_;
};

// REGISTER (RFC 3261 §10.3): only from the LAN and only for the site's own
// domain (403 otherwise); the registrar authenticates and answers.
class RegistrarStep final : public RequestProcessor {
 public:
  explicit RegistrarStep(RegistrationHandler& registrar) : registrar_(registrar) {}
  [[nodiscard]] std::string_view name() const override { return "registrar"; }
  Verdict process(RequestContext& ctx, RequestActions& actions) override;

 private:
  RegistrationHandler& registrar_;
};

// Loose routing (RFC 3261 §16.4): a top Route naming this site is removed
// (its rt= token and the next Route kept in the context); a top Route
// naming anyone else is refused 403: the site is not an open relay.
class LooseRoute final : public RequestProcessor {
 public:
  explicit LooseRoute(const SiteNames& names) : names_(names) {}
  [[nodiscard]] std::string_view name() const override { return "loose_route"; }
  Verdict process(RequestContext& ctx, RequestActions& actions) override;

 private:
  const SiteNames& names_;
};

// Requests for the site itself (a Request-URI with no user, naming the
// site, and no Route left to follow): OPTIONS is answered 200 with what the
// site supports (RFC 3261 §11.2), anything else 405 (REGISTER was taken by
// the registrar step before).
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

// Max-Forwards (RFC 3261 §16.3 step 3, §16.6 step 3) for everything the
// site forwards: 483 at zero; otherwise the copy to forward is made here
// (RequestContext::forwarded), carrying one less.
class MaxForwards final : public RequestProcessor {
 public:
  [[nodiscard]] std::string_view name() const override { return "max_forwards"; }
  Verdict process(RequestContext& ctx, RequestActions& actions) override;
};

// In-dialog (or pre-routed) requests through the site's Record-Route
// (RFC 3261 §16.4, §16.6 step 6): to the next Route, else to the
// Request-URI (the remote target). Only for dialogs the site record-routed
// (the Route carried the Call-ID's token): 403 otherwise. A BYE ends the
// dialog's call record.
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

// Who is asking. From the LAN: proxy digest authentication (407 challenge,
// 403, or silence for a flooding source), then From must be the
// authenticated local user (403); the Proxy-Authorization is consumed here
// (RFC 3261 §22.3). From a peer site (DESIGN.md threat model 2): a peer
// speaks only for its own domain (From and every P-Asserted-Identity), and
// only to a local user: no transit between peers (403).
class IdentityGate final : public RequestProcessor {
 public:
  IdentityGate(Authenticator& authenticator, const SiteNames& names) : authenticator_(authenticator), names_(names) {}
  [[nodiscard]] std::string_view name() const override { return "identity_gate"; }
  Verdict process(RequestContext& ctx, RequestActions& actions) override;

 private:
  Authenticator& authenticator_;
  const SiteNames& names_;
};

// A request for a local user: 404 when there is no such user; an initial
// INVITE starts a call record; then forked in parallel to every registered
// phone (RFC 3261 §16.6). With no phone registered: a MESSAGE is kept for
// later delivery when the site keeps messages, anything else 480.
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

// A request from a local user for another domain: an initial INVITE starts
// an outgoing call record; the PeerRouter (federation) then names the link
// to the peer site, or the refusal (403 for a domain no trusted site has).
class PeerSiteRoute final : public RequestProcessor {
 public:
  explicit PeerSiteRoute(PeerRouter& peers) : peers_(peers) {}
  [[nodiscard]] std::string_view name() const override { return "peer_site_route"; }
  Verdict process(RequestContext& ctx, RequestActions& actions) override;

 private:
  PeerRouter& peers_;
};

}  // namespace sipsite::sip
