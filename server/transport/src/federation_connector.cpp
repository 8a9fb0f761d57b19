#include <sipsite/transport/federation_connector.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>

#include "asio_util.hpp"

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

// One dial loop per target; `stopped` ends it (and closes its socket).
struct Dialer {
  PeerTarget target;
  bool stopped = false;
  std::unique_ptr<TlsStream> stream;
  std::unique_ptr<asio::steady_timer> timer;       // backoff waits
  std::shared_ptr<asio::steady_timer> ping_timer;  // keep-alive interval (shared with its pinger)
};

struct FederationConnector::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io_, SSL_CTX* ctx_, ConnectorSettings settings_, StateChanged on_change_)
      : io(io_), ssl(ctx_), settings(settings_), on_change(std::move(on_change_)) {
    SSL_CTX_up_ref(ctx_);
  }

  void set_state(const Dialer& d, LinkState state, std::string detail) {
    PeerLink& link = links[d.target.fingerprint];
    link.domain = d.target.domain;
    if (link.state != state || link.detail != detail || link.since == std::chrono::system_clock::time_point{}) {
      link.state = state;
      link.detail = std::move(detail);
      link.since = std::chrono::system_clock::now();
      if (on_change) on_change(d.target.fingerprint, link);
    }
  }

  // Sleeps unless stopped; returns false when stopped.
  asio::awaitable<bool> pause(std::shared_ptr<Dialer> d, std::chrono::steady_clock::duration how_long) {
    d->timer = std::make_unique<asio::steady_timer>(io, how_long);
    co_await d->timer->async_wait(kTuple);
    co_return !d->stopped;
  }

  asio::awaitable<void> dial_loop(std::shared_ptr<Dialer> d) {
    auto self = shared_from_this();
    std::chrono::seconds backoff{1};
    while (!d->stopped) {
      set_state(*d, LinkState::connecting, "");
      d->stream = std::make_unique<TlsStream>(io, ssl);
      tcp::resolver resolver(io);
      auto [rec, results] = co_await resolver.async_resolve(d->target.address.host,
                                                           std::to_string(d->target.address.port), kTuple);
      bool connected = false;
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
          const pki::PeerIdentity seen = pki::peer_identity(d->stream->native_handle());
          if (!hec && seen.verdict == pki::PinVerdict::accepted) {
            // TLS 1.3: the server checks our certificate after our handshake
            // completes; its refusal arrives as an alert on the first read.
            connected = true;
          } else if (seen.verdict != pki::PinVerdict::accepted && seen.certificate) {
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

      if (connected) {
        const bool refused = co_await keep_alive(d);
        backoff = std::chrono::seconds{1};
        if (refused) {
          set_state(*d, LinkState::refused_by_peer, "the peer refused this site's certificate");
        } else if (!d->stopped) {
          set_state(*d, LinkState::unreachable, "connection lost");
        }
      }
      if (d->stopped) break;
      if (!co_await pause(d, backoff)) break;
      backoff = std::min(backoff * 2, settings.max_backoff);
    }
  }

  // Reads until the connection fails, while a companion task pings every
  // `keepalive` (a closed link is noticed at once, not at the next ping).
  // True when the peer refused us: the connection failed before anything
  // was received.
  asio::awaitable<bool> keep_alive(std::shared_ptr<Dialer> d) {
    auto sent_at = std::make_shared<std::optional<std::chrono::steady_clock::time_point>>();
    d->ping_timer = std::make_shared<asio::steady_timer>(io);
    asio::co_spawn(io, pinger(d, sent_at), rethrow);
    bool confirmed = false;
    std::array<char, 512> buffer;
    while (!d->stopped) {
      auto [rec, n] = co_await d->stream->async_read_some(asio::buffer(buffer), kTuple);
      if (rec) break;
      if (!confirmed) {
        confirmed = true;
        set_state(*d, LinkState::connected, "");
      }
      PeerLink& link = links[d->target.fingerprint];
      link.last_seen = std::chrono::system_clock::now();
      if (*sent_at) {
        link.rtt = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - **sent_at);
        sent_at->reset();
      }
    }
    d->ping_timer->cancel();
    co_return !confirmed;
  }

  asio::awaitable<void> pinger(std::shared_ptr<Dialer> d,
                               std::shared_ptr<std::optional<std::chrono::steady_clock::time_point>> sent_at) {
    const auto timer = d->ping_timer;  // this link's, even after a re-dial replaces it
    for (bool first = true; !d->stopped; first = false) {
      if (!first) {
        timer->expires_after(settings.keepalive);
        auto [ec] = co_await timer->async_wait(kTuple);
        // A re-dial replaced the stream: this pinger's link is gone.
        if (ec || d->stopped || timer != d->ping_timer) break;
      }
      *sent_at = std::chrono::steady_clock::now();
      auto [wec, wn] = co_await asio::async_write(*d->stream, asio::buffer(std::string_view("\r\n\r\n")), kTuple);
      if (wec) break;
    }
  }

  void stop_dialer(const std::shared_ptr<Dialer>& d) {
    d->stopped = true;
    boost::system::error_code ec;
    if (d->stream) d->stream->next_layer().close(ec);
    if (d->timer) d->timer->cancel();
    if (d->ping_timer) d->ping_timer->cancel();
  }

  asio::io_context& io;
  asio::ssl::context ssl;
  ConnectorSettings settings;
  StateChanged on_change;
  std::map<pki::Fingerprint, std::shared_ptr<Dialer>> dialers;
  std::map<pki::Fingerprint, PeerLink> links;
};

FederationConnector::FederationConnector(asio::io_context& io, SSL_CTX* client_ctx, ConnectorSettings settings,
                                         StateChanged on_change)
    : impl_(std::make_shared<Impl>(io, client_ctx, settings, std::move(on_change))) {}

FederationConnector::~FederationConnector() { stop(); }

void FederationConnector::set_targets(const std::vector<PeerTarget>& targets) {
  Impl& im = *impl_;
  std::map<pki::Fingerprint, const PeerTarget*> wanted;
  for (const auto& t : targets) wanted[t.fingerprint] = &t;
  for (auto it = im.dialers.begin(); it != im.dialers.end();) {
    auto w = wanted.find(it->first);
    if (w == wanted.end() || w->second->address.to_string() != it->second->target.address.to_string()) {
      im.stop_dialer(it->second);
      im.links.erase(it->first);
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
    asio::co_spawn(im.io, im.dial_loop(d), rethrow);
  }
}

std::map<pki::Fingerprint, PeerLink> FederationConnector::links() const { return impl_->links; }

void FederationConnector::retry_now(const pki::Fingerprint& peer) {
  auto it = impl_->dialers.find(peer);
  if (it == impl_->dialers.end()) return;
  const auto link = impl_->links.find(peer);
  if (link != impl_->links.end() && link->second.state == LinkState::connected) return;
  if (it->second->timer) it->second->timer->cancel();
}

void FederationConnector::stop() {
  for (auto& [fp, d] : impl_->dialers) impl_->stop_dialer(d);
  impl_->dialers.clear();
}

}  // namespace sipsite::transport
