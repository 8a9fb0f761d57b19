#include <sipsite/transport/federation_connector.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <random>
#include <set>

#include <openssl/ssl.h>

#include "asio_util.hpp"
#include "federation_link.hpp"

namespace sipsite::transport {

using namespace detail;

std::string_view to_string(LinkState s) {
  switch (s) {
    case LinkState::connecting: return "connecting";
    case LinkState::connected: return "connected";
    case LinkState::refused_by_peer: return "refused by peer";
    case LinkState::unreachable: return "unreachable";
  }
  return "unknown";
}

namespace {
constexpr std::string_view kViaPeerLink = "over the link the peer dialled";
// Dials leave one at a time, this far apart, across all peers: start-up
// with a thousand of them, a bulk trust, or a thousand links lost together
// (our network cut) come back as a stream of 200 handshakes a second, not a
// herd on one tick of the io thread and on the peers at the same instant.
// Jitter spreads each peer's retries; this bounds what they add up to.
constexpr auto kDialSpacing = std::chrono::milliseconds(5);
}  // namespace

// One dial loop per target; `stopped` ends it (and closes its socket).
struct Dialer {
  PeerTarget target;
  bool stopped = false;
  bool waiting_for_peer_link = false;              // the peer's canonical link is up: not dialling
  std::unique_ptr<TlsStream> stream;               // while connecting
  std::shared_ptr<LinkConnection> link;            // once the handshake is done
  std::unique_ptr<asio::steady_timer> timer;       // backoff waits, waits for the peer's link to go
  std::shared_ptr<asio::steady_timer> ping_timer;  // keep-alive interval of the current link
};

struct FederationConnector::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io_, SSL_CTX* ctx_, FederationLinks& links_, FederationLinkHandler& handler_,
       ConnectorSettings settings_, StateChanged on_change_)
      : io(io_),
        ssl(wrap(ctx_)),
        links(links_),
        handler(handler_),
        settings(settings_),
        on_change(std::move(on_change_)) {}

  static std::unique_ptr<asio::ssl::context> wrap(SSL_CTX* ctx) {
    SSL_CTX_up_ref(ctx);  // asio::ssl::context frees the handle it wraps
    return std::make_unique<asio::ssl::context>(ctx);
  }

  void set_state(const Dialer& d, LinkState state, std::string detail) {
    PeerLink& link = link_states[d.target.fingerprint];
    link.domain = d.target.domain;
    if (link.state != state || link.detail != detail || link.since == std::chrono::system_clock::time_point{}) {
      link.state = state;
      link.detail = std::move(detail);
      link.since = std::chrono::system_clock::now();
      if (state != LinkState::connected) link.rtt = std::chrono::milliseconds{-1};
      if (on_change) on_change(d.target.fingerprint, link);
    }
  }

  // Backoff with jitter (0.5x to 1.5x): peers that failed together (a
  // restart of theirs, a network cut) do not come back in lockstep.
  std::chrono::steady_clock::duration jittered(std::chrono::seconds backoff) {
    std::uniform_real_distribution<double> factor(0.5, 1.5);
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(backoff * factor(rng));
  }

  // Sleeps unless stopped; returns false when stopped.
  asio::awaitable<bool> pause(std::shared_ptr<Dialer> d, std::chrono::steady_clock::duration how_long) {
    d->timer = std::make_unique<asio::steady_timer>(io, how_long);
    co_await d->timer->async_wait(kTuple);
    co_return !d->stopped;
  }

  // Waits for this dial's turn (kDialSpacing after the previous one's);
  // false when stopped meanwhile.
  asio::awaitable<bool> dial_slot(std::shared_ptr<Dialer> d) {
    const auto now = std::chrono::steady_clock::now();
    const auto slot = std::max(now, next_dial);
    next_dial = slot + kDialSpacing;
    if (slot == now) co_return !d->stopped;
    co_return co_await pause(d, slot - now);
  }

  // While the peer's canonical link is up, the peer's dialling serves both
  // ways: wait (woken by the registry's down-watcher) until it goes.
  asio::awaitable<void> wait_for_peer_link_down(std::shared_ptr<Dialer> d) {
    set_state(*d, LinkState::connected, std::string(kViaPeerLink));
    d->waiting_for_peer_link = true;
    while (!d->stopped && links.has_canonical_inbound(d->target.fingerprint)) {
      d->timer = std::make_unique<asio::steady_timer>(io, std::chrono::steady_clock::time_point::max());
      co_await d->timer->async_wait(kTuple);
    }
    d->waiting_for_peer_link = false;
  }

  asio::awaitable<void> dial_loop(std::shared_ptr<Dialer> d) {
    auto self = shared_from_this();
    std::chrono::seconds backoff{1};
    while (!d->stopped) {
      if (links.has_canonical_inbound(d->target.fingerprint)) {
        co_await wait_for_peer_link_down(d);
        if (d->stopped) break;
        set_state(*d, LinkState::connecting, "the peer's link closed");
        backoff = std::chrono::seconds{1};
        if (!co_await pause(d, jittered(backoff))) break;
        backoff = std::min(backoff * 2, settings.max_backoff);
        continue;
      }
      set_state(*d, LinkState::connecting, "");
      if (!co_await dial_slot(d)) break;
      d->stream = std::make_unique<TlsStream>(io, *ssl);
      tcp::resolver resolver(io);
      auto [rec, results] =
          co_await resolver.async_resolve(d->target.address.host, std::to_string(d->target.address.port), kTuple);
      std::optional<pki::Certificate> accepted;
      if (d->stopped) break;
      if (!rec) {
        asio::steady_timer deadline(io, settings.connect_timeout);
        deadline.async_wait([d](const boost::system::error_code& e) {
          if (!e && d->stream) {
            boost::system::error_code ignored;
            d->stream->next_layer().close(ignored);
          }
        });
        auto [cec, ep] = co_await asio::async_connect(d->stream->next_layer(), results, kTuple);
        if (!cec) {
          auto [hec] = co_await d->stream->async_handshake(asio::ssl::stream_base::client, kTuple);
          pki::PeerIdentity seen = pki::peer_identity(d->stream->native_handle());
          if (!hec && SSL_session_reused(d->stream->native_handle()) == 1) seen = {};  // never: no tickets
          if (!hec && pki::is_accepted(seen.verdict) && seen.certificate) {
            // TLS 1.3: the server checks our certificate after our handshake
            // completes; its refusal arrives as an alert on the first read.
            accepted = std::move(seen.certificate);
          } else if (!pki::is_accepted(seen.verdict) && seen.certificate) {
            set_state(*d, LinkState::unreachable,
                      "presented certificate " + seen.certificate->fingerprint().to_string() + ": " +
                          std::string(pki::to_string(seen.verdict)));
          } else {
            set_state(*d, LinkState::refused_by_peer, "the peer refused this site's certificate");
          }
        } else {
          set_state(*d, LinkState::unreachable, cec.message());
        }
        deadline.cancel();
      } else {
        set_state(*d, LinkState::unreachable, rec.message());
      }

      if (accepted && !d->stopped) {
        const SessionEnd end = co_await run_link(d, std::move(*accepted));
        if (end.received) backoff = std::chrono::seconds{1};
        if (d->stopped) break;
        if (links.has_canonical_inbound(d->target.fingerprint)) continue;  // not dialling while it is up
        if (end.registration == AddResult::not_pinned && end.received) {
          set_state(*d, LinkState::unreachable,
                    "the peer is no longer trusted here: " + std::string(pki::to_string(end.verdict)));
        } else if (!end.registered() && !end.received) {
          set_state(*d, LinkState::refused_by_peer, "the peer refused this site's certificate");
        } else {
          set_state(*d, LinkState::unreachable, "connection lost");  // it was up, or went before a verdict
        }
      }
      d->stream.reset();
      if (d->stopped) break;
      if (!co_await pause(d, jittered(backoff))) break;
      backoff = std::min(backoff * 2, settings.max_backoff);
    }
  }

  // Carries SIP over the dialled connection until it closes, while a
  // companion task pings every `keepalive` (the first ping at once: the
  // peer's answer shows that it accepted us, and measures the round trip).
  asio::awaitable<SessionEnd> run_link(std::shared_ptr<Dialer> d, pki::Certificate peer_certificate) {
    auto link = std::make_shared<LinkConnection>(std::move(*d->stream), std::move(peer_certificate),
                                                 LinkDirection::outbound, LinksAccess::session_settings(links));
    d->stream.reset();
    boost::system::error_code ec;
    const auto remote = link->stream().next_layer().remote_endpoint(ec);
    if (!ec) link->remote = endpoint_of(sip::Protocol::tls, remote.address(), remote.port());
    const auto local = link->stream().next_layer().local_endpoint(ec);
    if (!ec) link->local = endpoint_of(sip::Protocol::tls, local.address(), local.port());
    link->stream().next_layer().set_option(tcp::no_delay(true), ec);
    d->link = link;
    if (d->stopped) link->close();

    auto sent_at = std::make_shared<std::optional<std::chrono::steady_clock::time_point>>();
    d->ping_timer = std::make_shared<asio::steady_timer>(io);
    tasks.spawn(pinger(link, d->ping_timer, sent_at), [link] { link->close(); });

    SessionOptions options;
    options.parse = settings.parse;
    options.idle_timeout = settings.idle_timeout;
    options.register_on_first_read = true;
    options.on_up = [this, d] { set_state(*d, LinkState::connected, ""); };
    options.on_read = [this, d, sent_at](std::string_view bytes) {
      PeerLink& state = link_states[d->target.fingerprint];
      state.last_seen = std::chrono::system_clock::now();
      // The pong: a lone CRLF (its own TLS record, so its own read).
      if (*sent_at && bytes == "\r\n") {
        state.rtt = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - **sent_at);
        sent_at->reset();
      }
    };
    const SessionEnd end = co_await run_link_session(link, links, handler, tasks, std::move(options));
    d->ping_timer->cancel();
    if (d->link == link) d->link.reset();
    co_return end;
  }

  asio::awaitable<void> pinger(std::shared_ptr<LinkConnection> link, std::shared_ptr<asio::steady_timer> timer,
                               std::shared_ptr<std::optional<std::chrono::steady_clock::time_point>> sent_at) {
    for (bool first = true; !link->closed(); first = false) {
      if (!first) {
        timer->expires_after(settings.keepalive);
        auto [ec] = co_await timer->async_wait(kTuple);
        if (ec || link->closed()) break;
      }
      if (!*sent_at) *sent_at = std::chrono::steady_clock::now();
      if (!link->enqueue("\r\n\r\n")) break;
    }
  }

  void stop_dialer(const std::shared_ptr<Dialer>& d) {
    d->stopped = true;
    boost::system::error_code ec;
    if (d->stream) d->stream->next_layer().close(ec);
    if (d->link) d->link->close();
    if (d->timer) d->timer->cancel();
    if (d->ping_timer) d->ping_timer->cancel();
  }

  asio::io_context& io;
  std::unique_ptr<asio::ssl::context> ssl;  // streams take their own SSL_CTX reference
  FederationLinks& links;
  FederationLinkHandler& handler;
  ConnectorSettings settings;
  StateChanged on_change;
  std::minstd_rand rng{std::random_device{}()};  // backoff jitter only: not a secret
  std::map<pki::Fingerprint, std::shared_ptr<Dialer>> dialers;
  std::map<pki::Fingerprint, PeerLink> link_states;
  std::chrono::steady_clock::time_point next_dial{};  // the earliest time of the next dial (dial_slot)
  std::optional<std::uint64_t> watch_id;
  async::TaskGroup tasks{io.get_executor(), "federation"};
};

FederationConnector::FederationConnector(asio::io_context& io, SSL_CTX* client_ctx, FederationLinks& links,
                                         FederationLinkHandler& handler, ConnectorSettings settings,
                                         StateChanged on_change)
    : impl_(std::make_shared<Impl>(io, client_ctx, links, handler, settings, std::move(on_change))) {
  std::weak_ptr<Impl> weak = impl_;
  impl_->watch_id = links.watch_down([weak](const pki::Fingerprint& peer) {
    auto im = weak.lock();
    if (!im) return;
    auto it = im->dialers.find(peer);
    if (it != im->dialers.end() && it->second->waiting_for_peer_link && it->second->timer) it->second->timer->cancel();
  });
}

FederationConnector::~FederationConnector() { stop(); }

void FederationConnector::set_targets(const std::vector<PeerTarget>& targets) {
  Impl& im = *impl_;
  std::map<pki::Fingerprint, const PeerTarget*> wanted;
  for (const auto& t : targets) wanted[t.fingerprint] = &t;
  // A peer's key rotation: same domain and address under a new fingerprint.
  // The dialler (and its live link, already on the new certificate) moves
  // to the new key instead of being torn down and redialled.
  std::vector<std::pair<pki::Fingerprint, const PeerTarget*>> rekeys;
  std::set<pki::Fingerprint> claimed;
  for (const auto& [fp, d] : im.dialers) {
    if (wanted.count(fp) != 0) continue;
    for (const auto& [wfp, target] : wanted) {
      if (im.dialers.count(wfp) == 0 && target->domain == d->target.domain &&
          target->address.to_string() == d->target.address.to_string() && claimed.insert(wfp).second) {
        rekeys.emplace_back(fp, target);
        break;
      }
    }
  }
  for (const auto& [old_fp, target] : rekeys) {
    auto node = im.dialers.extract(old_fp);
    node.key() = target->fingerprint;
    node.mapped()->target.fingerprint = target->fingerprint;
    im.dialers.insert(std::move(node));
    if (auto state = im.link_states.extract(old_fp)) {
      state.key() = target->fingerprint;
      im.link_states.insert(std::move(state));
    }
  }
  for (auto it = im.dialers.begin(); it != im.dialers.end();) {
    auto w = wanted.find(it->first);
    if (w == wanted.end() || w->second->address.to_string() != it->second->target.address.to_string()) {
      im.stop_dialer(it->second);
      im.link_states.erase(it->first);
      it = im.dialers.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [fp, target] : wanted) {
    if (im.dialers.count(fp) != 0) continue;
    auto d = std::make_shared<Dialer>();
    d->target = *target;
    im.dialers.emplace(fp, d);
    // However the loop ends, this dialler is done; an escaped exception
    // also drops its link.
    im.tasks.spawn(im.dial_loop(d), [d] {
      d->stopped = true;
      if (d->link) d->link->close();
    });
  }
}

std::map<pki::Fingerprint, PeerLink> FederationConnector::links() const { return impl_->link_states; }

void FederationConnector::set_context(SSL_CTX* client_ctx) { impl_->ssl = Impl::wrap(client_ctx); }

void FederationConnector::retry_now(const pki::Fingerprint& peer) {
  auto it = impl_->dialers.find(peer);
  if (it == impl_->dialers.end()) return;
  const auto link = impl_->link_states.find(peer);
  if (link != impl_->link_states.end() && link->second.state == LinkState::connected) return;
  if (it->second->timer) it->second->timer->cancel();
}

void FederationConnector::stop() {
  for (auto& [fp, d] : impl_->dialers) impl_->stop_dialer(d);
  impl_->dialers.clear();
  impl_->tasks.cancel();
  if (impl_->watch_id) impl_->links.unwatch(*impl_->watch_id);
  impl_->watch_id.reset();
}

boost::asio::awaitable<bool> FederationConnector::join(std::chrono::steady_clock::duration deadline) {
  co_return co_await impl_->tasks.join(deadline);
}

}  // namespace sipsite::transport
