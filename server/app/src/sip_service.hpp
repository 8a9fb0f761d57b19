#pragma once
// The SIP side of the daemon, wired: transport (UDP/TCP/TLS listeners) ->
// Core (transactions, proxy) -> registrar, digest authentication, location
// service, directory snapshot. Members are declared in dependency order, so
// they are built in that order and destroyed in reverse.

#include "config.hpp"
#include "memory_return.hpp"
#include "openssl_random.hpp"
#include "site_directory.hpp"

#include <sipsite/edge/local_media_anchor.hpp>
#include <sipsite/edge/peer_gateway.hpp>
#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/private_key.hpp>
#include <sipsite/pki/tls_context.hpp>
#include <sipsite/sip/core.hpp>
#include <sipsite/sip/counters.hpp>
#include <sipsite/sip/auth/digest_authenticator.hpp>
#include <sipsite/sip/registrar/location_service.hpp>
#include <sipsite/sip/registrar/registrar.hpp>
#include <sipsite/transport/asio_timers.hpp>
#include <sipsite/transport/sip_transport.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace sipsite::app {

class SignalingTap;
class SiteRecords;

class SipService final : public transport::InboundHandler, private sip::Sender, private sip::RegistrationHandler {
 public:
  SipService(boost::asio::io_context& io, const Config& config, const std::string& domain, const pki::Certificate& cert,
             const pki::PrivateKey& key);
  ~SipService() override;

  // Requests for peer sites' domains go to `peers`, and sends on federation
  // flows through it; call before start(). Without it, other domains get 403.
  void set_peers(edge::PeerGateway& peers) { peers_ = &peers; }
  // Call records and stored messages (delivered when their user registers);
  // call before start().
  void set_records(SiteRecords& records) { records_ = &records; }
  // Signaling log and AOR traces of what the transport carries.
  void set_tap(SignalingTap& tap) { tap_ = &tap; }
  // media.anchor_local_calls: the media of calls between two phones of the
  // site goes through `relay` (edge::LocalMediaAnchor), which reports
  // refusals to `reports`. Call after start() (the listeners' addresses
  // are part of what makes an AOR local); both must outlive the service's
  // traffic.
  void anchor_local_calls(media::SdpAnchor& relay, edge::EdgeObserver& reports);
  // nullptr unless anchor_local_calls() was called.
  const edge::LocalMediaAnchor* local_media() const { return local_media_.get(); }
  // Binds the listeners and starts serving; an error names what failed.
  std::optional<std::string> start();
  void stop();
  // After stop(): the transport's tasks unwound, or `deadline` passed (false).
  boost::asio::awaitable<bool> join(std::chrono::steady_clock::duration deadline);

  // New snapshot of the users; bindings of deleted users are dropped.
  void replace_users(const std::vector<store::UserRecord>& users);
  // The same for what changed only (LiveStateWatcher): O(changed).
  void update_users(const std::vector<store::UserRecord>& users, const std::vector<std::string>& removed);

  // The addresses written into Via and Record-Route, one per listener.
  const std::vector<sip::Endpoint>& advertised() const { return advertised_; }
  // The addresses the listeners are bound to (0.0.0.0 stays 0.0.0.0), one
  // per listener, in the same order.
  const std::vector<sip::Endpoint>& bound() const { return bound_; }
  const sip::Counters& counters() const { return counters_; }
  sip::Clock& clock() { return timers_; }
  sip::Timers& timers() { return timers_; }
  sip::Random& random() { return random_; }
  // The core, once started (nullptr before).
  sip::Core* core() { return core_.get(); }
  // The registrations, for the console: use on the SIP thread only.
  const sip::LocationService& location() const { return location_; }

  // transport::InboundHandler
  void on_message(sip::Inbound inbound) override;
  void on_flow_closed(sip::FlowId flow) override;
  void on_send_failed(const sip::Destination& to) override;

 private:
  // sip::Sender: LAN flows to the transport (through the local media
  // anchor), federation flows to the peers (through edge privacy and the
  // relay); the signaling tap sees what the core sent, before either.
  void send(const sip::Destination& to, sip::Outgoing& out) override;
  void send_wire(const sip::Destination& to, std::string bytes) override;
  // A LAN-bound message through the local media anchor; false: it must not
  // leave (the core gets the anchor's answer instead, later).
  bool anchor_local(const sip::Destination& to, sip::Outgoing& out);
  void answer_in_place(const sip::Destination& to, sip::Message answer);
  // sip::RegistrationHandler: the registrar, then stored messages for a
  // user who now has a phone.
  sip::Message handle_register(const sip::Inbound& request) override;

  boost::asio::io_context& io_;
  const Config& config_;
  sip::Counters counters_;
  transport::AsioTimers timers_;
  OpenSslRandom random_;
  SiteDirectory directory_;
  sip::LocationService location_;
  sip::DigestAuthenticator authenticator_;
  sip::Registrar registrar_;
  pki::SslCtxPtr tls_;
  std::unique_ptr<transport::SipTransport> transport_;
  std::vector<sip::Endpoint> advertised_;
  std::vector<sip::Endpoint> bound_;
  edge::PeerGateway* peers_ = nullptr;
  SiteRecords* records_ = nullptr;
  SignalingTap* tap_ = nullptr;
  std::unique_ptr<sip::Core> core_;  // built once the listeners' ports are known
  std::unique_ptr<edge::LocalMediaAnchor> local_media_;
  MemoryReturn memory_return_;
};

}  // namespace sipsite::app
