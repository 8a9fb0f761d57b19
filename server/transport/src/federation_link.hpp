#pragma once
// Private: one federation connection after its pinned handshake, and the
// session that carries SIP over it — shared by the listener (accepted links)
// and the connector (dialled links).

#include <sipsite/pki/certificate.hpp>
#include <sipsite/sip/message/limits.hpp>
#include <sipsite/transport/federation_links.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "asio_util.hpp"
#include "stream_session.hpp"

namespace sipsite::transport::detail {

// A federation link: its session (outbox, writer, watchdog: StreamSession)
// and the identity its handshake pinned.
struct LinkConnection {
  LinkConnection(TlsStream s, pki::Certificate peer_certificate, LinkDirection dir, StreamSessionSettings settings);

  TlsStream& stream() { return session->stream(); }
  // Queues bytes for the writer; false when closed or closing, or when the
  // queue would exceed max_queued_bytes (the session closes then).
  bool enqueue(std::string bytes) { return session->enqueue(std::move(bytes)); }
  // Closes the socket at once; the session winds down.
  void close() { session->close(); }
  bool closed() const { return session->closed(); }

  std::shared_ptr<StreamSession<TlsStream>> session;
  pki::Certificate certificate;  // as pinned during the handshake
  pki::Fingerprint peer;
  std::string domain;  // the certificate's, which the pin check matched
  LinkDirection direction;
  sip::Endpoint remote;
  sip::Endpoint local;
  std::chrono::system_clock::time_point since{};
  sip::FlowId flow = 0;  // 0 until registered
};

enum class AddResult {
  added,
  superseded,  // the peer's canonical link is up: this one is not wanted
  not_pinned,  // the peer is no longer trusted (revoked during the handshake)
};

// The registry's side door for the listener and the connector.
struct LinksAccess {
  // Re-checks the pin, resolves duplicates (closing the links this one
  // replaces), assigns the flow id.
  static AddResult add(FederationLinks& links, const std::shared_ptr<LinkConnection>& c, pki::PinVerdict& verdict);
  // Idempotent; tells the down-watchers when it removed something.
  static void remove(FederationLinks& links, const LinkConnection& c);
  // What every link's session gets (the registry's LinksSettings).
  static StreamSessionSettings session_settings(const FederationLinks& links);
  static void count_parse_error(FederationLinks& links);
};

struct SessionOptions {
  sip::ParseLimits parse{};
  std::chrono::seconds idle_timeout{300};
  // Dialled links register at the first bytes from the peer: with TLS 1.3
  // the server checks our certificate after our side of the handshake is
  // done, so only its first answer shows that it accepted us.
  bool register_on_first_read = false;
  // Every read's bytes, after registration, before framing.
  std::function<void(std::string_view)> on_read;
  // Right after on_link_up.
  std::function<void()> on_up;
};

struct SessionEnd {
  bool received = false;  // any bytes came from the peer
  AddResult registration = AddResult::not_pinned;
  pki::PinVerdict verdict = pki::PinVerdict::accepted;  // of the re-check at registration
  bool registered() const { return registration == AddResult::added; }
};

// Runs the link until it closes: registers it (at once, or at the first
// read), reports on_link_up/on_link_down, starts the StreamSession (writer,
// watchdog), enforces the idle timeout, frames and parses what
// arrives with the LAN's limits, answers keep-alives and malformed
// requests, closes on lost framing, hands messages to the handler.
// The session's writer and watchdog run in `tasks` (the listener's or the
// connector's group).
boost::asio::awaitable<SessionEnd> run_link_session(std::shared_ptr<LinkConnection> c, FederationLinks& links,
                                                    FederationLinkHandler& handler, async::TaskGroup& tasks,
                                                    SessionOptions options);

}  // namespace sipsite::transport::detail
