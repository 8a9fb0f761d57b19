#pragma once
// Outgoing federation links: one persistent mutual-TLS connection to each
// trusted peer whose address is known, kept alive with CRLF pings (RFC 5626
// §3.5.1, which also measure the round-trip time) and re-dialled with
// exponential backoff. A peer that refuses our certificate is shown as such
// ("does not trust this site") and re-tried slowly instead of silently
// forever at full speed: backoff doubles from 1 s to max_backoff, each wait
// drawn from 0.5x to 1.5x of it (jitter), and a peer that connects to us
// (so trusts us now) is re-dialled at its next turn. Dials take turns 5 ms
// apart across all peers (at most 200 a second), so a thousand peers at
// start-up, or a thousand links lost together, are dialled as a stream.
//
// A dialled link carries SIP like an accepted one (FederationLinks, the
// handler): it is registered at the peer's first answer. When our
// fingerprint sorts higher than the peer's, the link the peer dials is the
// canonical one: while it is up we do not dial (the state shows connected,
// over the peer's link), and we resume dialling, with the usual backoff,
// when it goes down.
//
// Threading: one io_context run by one thread; callbacks on it.

#include <sipsite/pki/host_port.hpp>
#include <sipsite/pki/pinning.hpp>
#include <sipsite/transport/federation_links.hpp>
#include <sipsite/transport/sip_transport.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sipsite::transport {

struct PeerTarget {
  pki::Fingerprint fingerprint;
  std::string domain;
  pki::HostPort address;
};

enum class LinkState {
  connecting,
  connected,
  refused_by_peer,  // the peer's site does not trust this site (yet, or any more)
  unreachable,      // no TCP/TLS answer, or the peer presented another certificate
};
std::string_view to_string(LinkState s);

struct PeerLink {
  std::string domain;
  LinkState state = LinkState::connecting;
  std::chrono::system_clock::time_point since{};      // of the current state
  std::chrono::system_clock::time_point last_seen{};  // last byte from the peer
  std::chrono::milliseconds rtt{-1};                  // last keep-alive round trip; -1 unknown
  std::string detail;                                 // why, for the console and the log
};

struct ConnectorSettings {
  std::chrono::seconds keepalive{30};
  std::chrono::seconds max_backoff{60};
  std::chrono::seconds connect_timeout{10};
  // A link silent this long (no pong, no SIP) is closed and re-dialled.
  std::chrono::seconds idle_timeout{120};
  sip::ParseLimits parse{};  // as on the LAN
};

class FederationConnector {
 public:
  using StateChanged = std::function<void(const pki::Fingerprint&, const PeerLink&)>;

  // `client_ctx` (make_federation_client_context), `links` and `handler`
  // are borrowed and must outlive the connector.
  FederationConnector(boost::asio::io_context& io, SSL_CTX* client_ctx, FederationLinks& links,
                      FederationLinkHandler& handler, ConnectorSettings settings, StateChanged on_change);
  ~FederationConnector();

  // Dials new targets, drops links to targets no longer listed. A target
  // whose fingerprint changed but whose domain and address did not (the
  // peer rotated its key) keeps its dialler and live link.
  void set_targets(const std::vector<PeerTarget>& targets);
  std::map<pki::Fingerprint, PeerLink> links() const;
  // Dials from now on use `client_ctx` (this site's key rotation); links
  // already up keep theirs. Borrowed like the constructor's.
  void set_context(SSL_CTX* client_ctx);
  // Ends the backoff wait of that peer's link now (e.g. it just connected to
  // us, so it trusts us now).
  void retry_now(const pki::Fingerprint& peer);
  void stop();
  // After stop(): waits until every task has unwound (each cancelled one
  // ends at its next await) or `deadline` has passed; true when all ended.
  boost::asio::awaitable<bool> join(std::chrono::steady_clock::duration deadline);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace sipsite::transport
