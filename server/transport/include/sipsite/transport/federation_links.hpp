#pragma once
// The live federation links: every pinned mutual-TLS connection to a peer
// site, accepted by the FederationListener or dialled by the
// FederationConnector, that carries SIP. Both register here; the SIP core
// sends through here.
//
// Flows: each link gets a sip::FlowId with sip::kFederationFlowBit set, so it
// never collides with SipTransport's (LAN) flows; ids are never reused.
//
// One link per pair of sites: when both sites dial each other, the link
// dialled by the site whose own fingerprint sorts lower is canonical. When a
// second link to a peer comes up, the non-canonical one is closed (a newer
// link of the same direction replaces an older one, which is presumed
// dead). Sends on a flow that is gone go to the peer's remaining link, so a
// switch of links is transparent to transactions.
//
// Registration re-checks the peer's certificate against the current pinned
// set (PinVerifier): a peer revoked while its handshake was in flight never
// becomes a link. A certificate accepted as a key rotation (PinVerdict::
// rotated) registers under its new fingerprint, and the handler hears
// on_peer_rotated first.
//
// Threading: not thread-safe; used on the io_context thread that runs the
// listener and connector (the SIP strand).

#include <sipsite/pki/fingerprint.hpp>
#include <sipsite/pki/pinning.hpp>
#include <sipsite/sip/io.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::transport {

enum class LinkDirection {
  inbound,   // accepted by our listener (dialled by the peer)
  outbound,  // dialled by our connector
};
std::string_view to_string(LinkDirection d);

// What both the listener and the connector report about links.
class FederationLinkHandler {
 public:
  virtual ~FederationLinkHandler() = default;
  // A link to `peer` is registered and usable (FederationLinks::send).
  virtual void on_link_up(const pki::Fingerprint& peer, sip::FlowId flow, const sip::Endpoint& remote) = 0;
  // That link is closed; `flow` will not be used again (sends on it fall back
  // to the peer's other link, if any).
  virtual void on_link_down(const pki::Fingerprint& peer, sip::FlowId flow) = 0;
  // A well-formed message (framed and parsed, not validated further):
  // inbound.flow = the link's flow, .source = the peer's endpoint
  // (Protocol::tls), .local = our end of the link, .peer = the peer's
  // domain as its pinned certificate names it.
  virtual void on_peer_message(const pki::Fingerprint& peer, sip::Inbound inbound) = 0;
  // The link about to come up (just before its on_link_up) is with a peer
  // that presented a certificate not pinned here but proven, by its
  // key-rotation proof, to succeed the pinned `previous`
  // (pki::PinVerdict::rotated). The handler should pin it; until it does,
  // each new link of that peer reports this again.
  virtual void on_peer_rotated(const pki::Certificate& peer, const pki::Fingerprint& previous) {
    (void)peer;
    (void)previous;
  }
};

struct LinkInfo {
  sip::FlowId flow = 0;
  LinkDirection direction = LinkDirection::inbound;
  sip::Endpoint remote;
  sip::Endpoint local;
  std::chrono::system_clock::time_point since{};
  bool canonical = false;        // dialled by the lower-fingerprint site
  std::size_t queued_bytes = 0;  // written by us, not yet taken by the socket
};

struct LinksSettings {
  // Per link: bytes queued for writing beyond this close the link (a peer
  // that stopped reading must not grow our memory).
  std::size_t max_queued_bytes = 4u << 20;
  // Per link: one write that takes longer than this closes the link.
  std::chrono::seconds write_timeout{30};
};

namespace detail {
struct LinkConnection;
struct LinksAccess;
}  // namespace detail

class FederationLinks {
 public:
  // `own` is this site's certificate fingerprint; `verifier` (the pinned set
  // the federation TLS contexts use) is borrowed and must outlive this.
  FederationLinks(pki::Fingerprint own, const pki::PinVerifier& verifier, LinksSettings settings = {});
  ~FederationLinks();
  FederationLinks(const FederationLinks&) = delete;
  FederationLinks& operator=(const FederationLinks&) = delete;

  const pki::Fingerprint& own() const;
  // After this site's key rotation: the fingerprint that decides which links
  // are canonical from now on.
  void set_own(const pki::Fingerprint& own);

  // The link to use for `peer`: the canonical one if up, else the newest.
  std::optional<sip::FlowId> flow_for(const pki::Fingerprint& peer) const;
  // The peer of a live flow.
  std::optional<pki::Fingerprint> peer_of(sip::FlowId flow) const;

  // Queues `bytes` on `flow`. When `flow` is gone (closed, replaced) but its
  // peer has another live link, queues there. False when the peer has no
  // live link, or when the write queue of the link is over
  // max_queued_bytes (the link is closed then).
  bool send(sip::FlowId flow, std::string bytes);
  // The same on flow_for(peer).
  bool send_to(const pki::Fingerprint& peer, std::string bytes);

  // Closes every link of `peer` at once (revocation): from the return on,
  // flow_for() has none and send() fails; on_link_down follows as each
  // connection winds down. Returns the number of links closed.
  std::size_t close(const pki::Fingerprint& peer);
  // Closes one link (no fallback for it: sends to its flow go to the
  // peer's other link, if any).
  bool close_flow(sip::FlowId flow);

  // Which direction's link is canonical for `peer`: outbound when our
  // fingerprint sorts lower than the peer's.
  LinkDirection canonical_direction(const pki::Fingerprint& peer) const;
  // True when the peer dialled us and that is the canonical link: our
  // connector then need not dial.
  bool has_canonical_inbound(const pki::Fingerprint& peer) const;

  // For the console: per peer, its live links (canonical first).
  std::map<pki::Fingerprint, std::vector<LinkInfo>> snapshot() const;
  std::size_t size() const;
  // Malformed messages received on any link (answered or dropped).
  std::uint64_t parse_errors() const;

  // `fn(peer)` is called (synchronously, from within the registry: do not
  // close or register links from it) each time a link of `peer` goes away.
  using DownWatcher = std::function<void(const pki::Fingerprint&)>;
  std::uint64_t watch_down(DownWatcher fn);
  void unwatch(std::uint64_t id);

 private:
  friend struct detail::LinksAccess;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sipsite::transport
