#pragma once
// The federation side of the daemon: the pinned mutual-TLS listener, the
// pinned set kept in step with the database, pending requests for unknown
// certificates (rate-limited before they reach the database), and
// disconnection of peers that are no longer trusted, and key rotation both
// ways: this site's (`sipsite rotate-key`: new handshakes use the new
// certificate, links are re-established with it) and peers' (a verified
// rotation is pinned in the database, the old pin kept for the overlap
// configured by federation.rotation_overlap_seconds, then removed).

#include "config.hpp"
#include "live_state_mirror.hpp"

#include <sipsite/pki/pinning.hpp>
#include <sipsite/store/database.hpp>
#include <sipsite/store/peer_repository.hpp>
#include <sipsite/transport/federation_connector.hpp>
#include <sipsite/transport/federation_links.hpp>
#include <sipsite/transport/federation_listener.hpp>
#include <sipsite/webadmin/live_state.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace sipsite::edge {
class PeerGateway;
}  // namespace sipsite::edge

namespace sipsite::app {

class FederationService final : public transport::FederationHandler {
 public:
  FederationService(boost::asio::io_context& io, const Config& config, store::Database& db,
                    const pki::Certificate& cert, const pki::PrivateKey& key);

  std::optional<std::string> start();
  // SIP to and from the links goes through `gateway` from now on; it also
  // learns every change of the trusted set.
  void set_gateway(edge::PeerGateway& gateway);
  void stop();
  // After stop(): the listener's and the connector's tasks unwound, or
  // `deadline` passed for either (false).
  boost::asio::awaitable<bool> join(std::chrono::steady_clock::duration deadline);
  // New trusted set from the peers table (plus the previous pins still in
  // their overlap); peers no longer trusted are disconnected at once. The
  // daemon calls it after every database change, so it also picks up a key
  // rotation of this site (reload_identity).
  void replace_peers(const std::vector<store::PeerRecord>& peers);
  // When the site identity in the database is no longer the one in use
  // (`sipsite rotate-key` ran): the federation listener and connector use
  // the new certificate for new handshakes, and every federation link is
  // closed so that it is re-established with it (which is how connected
  // peers learn of the rotation). Returns true when it switched.
  bool reload_identity();
  // What changed in the trusted set, prepared off the io thread
  // (LiveStateWatcher): swaps in the new pinned set and touches only the
  // peers named — their links, dialler and gateway entry. Also picks up a
  // rotation of this site's key when the site row changed.
  void apply(const LiveStateUpdate& update);
  sip::Endpoint local_endpoint() const { return listener_ ? listener_->local_endpoint() : sip::Endpoint{}; }
  // What became of the handshakes refused for an unknown certificate since
  // start, for the console (pending requests under a scan).
  const webadmin::UnknownCertificates& unknown_certificates() const { return unknown_; }
  // Liveness of the outgoing links, for the console.
  std::map<pki::Fingerprint, transport::PeerLink> links() const;
  // The live SIP links to peers (accepted and dialled), for the SIP core.
  transport::FederationLinks& sip_links() { return links_; }
  const transport::FederationLinks& sip_links() const { return links_; }

  // transport::FederationHandler
  void on_refused(const pki::PeerIdentity& identity, const sip::Endpoint& source) override;
  void on_peer_connected(const pki::Certificate& peer, const sip::Endpoint& source) override;
  void on_peer_disconnected(const pki::Fingerprint& peer) override;
  // transport::FederationLinkHandler (SIP routing over the links is wired
  // by the SIP service; until then these only log).
  void on_link_up(const pki::Fingerprint& peer, sip::FlowId flow, const sip::Endpoint& remote) override;
  void on_link_down(const pki::Fingerprint& peer, sip::FlowId flow) override;
  void on_peer_message(const pki::Fingerprint& peer, sip::Inbound inbound) override;
  // A peer presented a verified rotation of its pinned certificate: pin it
  // (the peers row takes it, the old pin stays for the overlap) and audit.
  void on_peer_rotated(const pki::Certificate& peer, const pki::Fingerprint& previous) override;

 private:
  bool admit_pending(const pki::Fingerprint& fp);
  // Re-reads the peers table and applies it (after this connection's own
  // writes, which the daemon's data_version poll does not see).
  void refresh();
  void schedule_pin_expiry(std::int64_t earliest);
  void expire_pins();

  boost::asio::io_context& io_;
  const Config& config_;
  store::Database& db_;
  pki::PinVerifier verifier_;
  pki::SslCtxPtr server_ctx_;
  pki::SslCtxPtr client_ctx_;
  transport::FederationLinks links_;  // before the listener and connector that register in it
  pki::Fingerprint own_;              // the certificate federation presents now
  edge::PeerGateway* gateway_ = nullptr;
  boost::asio::steady_timer expiry_timer_;
  std::int64_t expiry_armed_for_ = 0;                          // Unix seconds; 0: not armed
  std::map<pki::Fingerprint, std::string> trusted_;            // the last trusted set, for the gateway
  std::map<pki::Fingerprint, transport::PeerTarget> targets_;  // trusted peers with an address: dialled
  std::unique_ptr<transport::FederationListener> listener_;
  std::unique_ptr<transport::FederationConnector> connector_;
  // Pending-request rate limit: one database write per fingerprint per
  // minute, and at most kPendingPerMinute writes a minute in all.
  std::map<pki::Fingerprint, std::chrono::steady_clock::time_point> last_recorded_;
  std::chrono::steady_clock::time_point window_start_{};
  int window_count_ = 0;
  webadmin::UnknownCertificates unknown_;
};

}  // namespace sipsite::app
