#include <sipsite/transport/federation_links.hpp>

#include <sipsite/pki/rotation_proof.hpp>
#include <sipsite/sip/message/stream_framer.hpp>

#include <algorithm>
#include <array>

#include "federation_link.hpp"
#include "stream_frames.hpp"

namespace sipsite::transport {

using namespace detail;
using SteadyClock = std::chrono::steady_clock;

namespace {
// Flow ids of closed links remembered for the send() fallback.
constexpr std::size_t kRetiredFlows = 4096;
// A link whose framing is lost gets this long to take our error answer.
constexpr std::chrono::seconds kFlushGrace{5};
}  // namespace

std::string_view to_string(LinkDirection d) { return d == LinkDirection::inbound ? "inbound" : "outbound"; }

struct FederationLinks::Impl {
  Impl(pki::Fingerprint own_, const pki::PinVerifier& verifier_, LinksSettings settings_)
      : own(own_), verifier(verifier_), settings(settings_) {}

  LinkDirection canonical_direction(const pki::Fingerprint& peer) const {
    return own < peer ? LinkDirection::outbound : LinkDirection::inbound;
  }

  std::vector<std::shared_ptr<LinkConnection>> links_of(const pki::Fingerprint& peer) const {
    std::vector<std::shared_ptr<LinkConnection>> out;
    const auto [first, last] = by_peer.equal_range(peer);
    for (auto it = first; it != last; ++it) {
      if (auto l = live.find(it->second); l != live.end()) out.push_back(l->second);
    }
    return out;
  }

  std::shared_ptr<LinkConnection> preferred(const pki::Fingerprint& peer) const {
    const LinkDirection canonical = canonical_direction(peer);
    // The canonical direction first; within one direction, the newer link.
    const auto better = [canonical](const LinkConnection& a, const LinkConnection& b) {
      const bool a_canonical = a.direction == canonical;
      if (a_canonical != (b.direction == canonical)) return a_canonical;
      return a.flow > b.flow;
    };
    std::shared_ptr<LinkConnection> best;
    for (auto& c : links_of(peer)) {
      if (!best || better(*c, *best)) best = c;
    }
    return best;
  }

  // Takes `flow` out of the tables; the connection itself is closed by the
  // caller or is already closing.
  bool unregister(sip::FlowId flow) {
    auto it = live.find(flow);
    if (it == live.end()) return false;
    const pki::Fingerprint peer = it->second->peer;
    live.erase(it);
    const auto [first, last] = by_peer.equal_range(peer);
    for (auto p = first; p != last; ++p) {
      if (p->second == flow) {
        by_peer.erase(p);
        break;
      }
    }
    retired.emplace(flow, peer);
    while (retired.size() > kRetiredFlows) retired.erase(retired.begin());
    // Copy: a watcher may unwatch.
    const auto current = watchers;
    for (const auto& [id, fn] : current) fn(peer);
    return true;
  }

  void close_link(const std::shared_ptr<LinkConnection>& c) {
    c->close();
    unregister(c->flow);
  }

  pki::Fingerprint own;
  const pki::PinVerifier& verifier;
  LinksSettings settings;
  std::map<sip::FlowId, std::shared_ptr<LinkConnection>> live;
  std::multimap<pki::Fingerprint, sip::FlowId> by_peer;
  std::map<sip::FlowId, pki::Fingerprint> retired;
  std::map<std::uint64_t, DownWatcher> watchers;
  std::uint64_t next_watcher = 0;
  std::uint64_t next_flow = 0;
  std::uint64_t parse_errors = 0;
};

FederationLinks::FederationLinks(pki::Fingerprint own, const pki::PinVerifier& verifier, LinksSettings settings)
    : impl_(std::make_unique<Impl>(own, verifier, settings)) {}

FederationLinks::~FederationLinks() {
  for (auto& [flow, c] : impl_->live) c->close();
}

const pki::Fingerprint& FederationLinks::own() const { return impl_->own; }

void FederationLinks::set_own(const pki::Fingerprint& own) { impl_->own = own; }

std::optional<sip::FlowId> FederationLinks::flow_for(const pki::Fingerprint& peer) const {
  if (auto c = impl_->preferred(peer)) return c->flow;
  return std::nullopt;
}

std::optional<pki::Fingerprint> FederationLinks::peer_of(sip::FlowId flow) const {
  if (auto it = impl_->live.find(flow); it != impl_->live.end()) return it->second->peer;
  return std::nullopt;
}

bool FederationLinks::send(sip::FlowId flow, std::string bytes) {
  Impl& im = *impl_;
  std::shared_ptr<LinkConnection> c;
  if (auto it = im.live.find(flow); it != im.live.end()) {
    c = it->second;
  } else if (auto r = im.retired.find(flow); r != im.retired.end()) {
    c = im.preferred(r->second);
  }
  if (!c) return false;
  if (c->enqueue(std::move(bytes))) return true;
  im.close_link(c);  // the peer stopped reading
  return false;
}

bool FederationLinks::send_to(const pki::Fingerprint& peer, std::string bytes) {
  const auto flow = flow_for(peer);
  return flow && send(*flow, std::move(bytes));
}

std::size_t FederationLinks::close(const pki::Fingerprint& peer) {
  const auto links = impl_->links_of(peer);
  for (const auto& c : links) impl_->close_link(c);
  return links.size();
}

bool FederationLinks::close_flow(sip::FlowId flow) {
  auto it = impl_->live.find(flow);
  if (it == impl_->live.end()) return false;
  const auto c = it->second;
  impl_->close_link(c);
  return true;
}

LinkDirection FederationLinks::canonical_direction(const pki::Fingerprint& peer) const {
  return impl_->canonical_direction(peer);
}

bool FederationLinks::has_canonical_inbound(const pki::Fingerprint& peer) const {
  if (impl_->canonical_direction(peer) != LinkDirection::inbound) return false;
  const auto links = impl_->links_of(peer);
  return std::any_of(links.begin(), links.end(), [](const auto& c) { return c->direction == LinkDirection::inbound; });
}

std::map<pki::Fingerprint, std::vector<LinkInfo>> FederationLinks::snapshot() const {
  std::map<pki::Fingerprint, std::vector<LinkInfo>> out;
  for (const auto& [flow, c] : impl_->live) {
    out[c->peer].push_back(LinkInfo{flow, c->direction, c->remote, c->local, c->since,
                                    c->direction == impl_->canonical_direction(c->peer), c->session->queued_bytes()});
  }
  for (auto& [peer, links] : out) {
    std::stable_sort(links.begin(), links.end(),
                     [](const LinkInfo& a, const LinkInfo& b) { return a.canonical && !b.canonical; });
  }
  return out;
}

std::size_t FederationLinks::size() const { return impl_->live.size(); }

std::uint64_t FederationLinks::parse_errors() const { return impl_->parse_errors; }

std::uint64_t FederationLinks::watch_down(DownWatcher fn) {
  const auto id = ++impl_->next_watcher;
  impl_->watchers.emplace(id, std::move(fn));
  return id;
}

void FederationLinks::unwatch(std::uint64_t id) { impl_->watchers.erase(id); }

namespace detail {

LinkConnection::LinkConnection(TlsStream s, pki::Certificate peer_certificate, LinkDirection dir,
                               StreamSessionSettings settings)
    : session(std::make_shared<StreamSession<TlsStream>>(std::move(s), settings)),
      certificate(std::move(peer_certificate)),
      peer(certificate.fingerprint()),
      domain(certificate.domain()),
      direction(dir),
      since(std::chrono::system_clock::now()) {}

AddResult LinksAccess::add(FederationLinks& links, const std::shared_ptr<LinkConnection>& c, pki::PinVerdict& verdict) {
  auto& im = *links.impl_;
  // The handshake checked the pin when the certificate arrived; the set may
  // have changed since (revocation while the handshake completed).
  verdict = im.verifier.verify(&c->certificate, 1);
  if (!pki::is_accepted(verdict)) return AddResult::not_pinned;
  const LinkDirection canonical = im.canonical_direction(c->peer);
  const auto existing = im.links_of(c->peer);
  if (c->direction != canonical) {
    const bool canonical_up =
        std::any_of(existing.begin(), existing.end(), [&](const auto& e) { return e->direction == canonical; });
    if (canonical_up) return AddResult::superseded;
  }
  // This one is canonical, or the same kind as what is there (a newer link
  // of the same direction replaces one presumed dead).
  for (const auto& e : existing) im.close_link(e);
  c->flow = sip::kFederationFlowBit | ++im.next_flow;
  im.live.emplace(c->flow, c);
  im.by_peer.emplace(c->peer, c->flow);
  return AddResult::added;
}

void LinksAccess::remove(FederationLinks& links, const LinkConnection& c) {
  if (c.flow != 0) links.impl_->unregister(c.flow);
}

StreamSessionSettings LinksAccess::session_settings(const FederationLinks& links) {
  const LinksSettings& settings = links.impl_->settings;
  return StreamSessionSettings{settings.max_queued_bytes, settings.write_timeout};
}

void LinksAccess::count_parse_error(FederationLinks& links) { ++links.impl_->parse_errors; }

asio::awaitable<SessionEnd> run_link_session(std::shared_ptr<LinkConnection> c, FederationLinks& links,
                                             FederationLinkHandler& handler, async::TaskGroup& tasks,
                                             SessionOptions options) {
  SessionEnd end;
  const auto up = [&]() -> bool {
    end.registration = LinksAccess::add(links, c, end.verdict);
    if (!end.registered()) return false;
    if (end.verdict == pki::PinVerdict::rotated) {
      auto proof = pki::rotation_proof_of(c->certificate);
      if (proof && *proof) handler.on_peer_rotated(c->certificate, (*proof)->previous);
      // The handler may have closed the link (it could not pin the peer).
      if (c->closed()) {
        LinksAccess::remove(links, *c);
        end.registration = AddResult::not_pinned;
        end.verdict = pki::PinVerdict::unknown;
        return false;
      }
    }
    handler.on_link_up(c->peer, c->flow, c->remote);
    if (options.on_up) options.on_up();
    return true;
  };
  StreamSession<TlsStream>& session = *c->session;
  session.set_deadline(SteadyClock::now() + options.idle_timeout);
  session.start(tasks);
  if (!options.register_on_first_read && !up()) {
    c->close();
    co_return end;
  }
  sip::StreamFramer framer(options.parse);
  std::array<char, 8192> buffer;
  while (!session.closing()) {
    session.set_deadline(SteadyClock::now() + options.idle_timeout);
    auto [ec, n] = co_await session.stream().async_read_some(asio::buffer(buffer), kTuple);
    if (ec || session.closed()) break;
    if (!end.received) {
      end.received = true;
      if (options.register_on_first_read && !up()) break;
    }
    const std::string_view bytes(buffer.data(), n);
    if (options.on_read) options.on_read(bytes);
    framer.feed(bytes);
    const FramesOutcome outcome = drain_frames(
        framer,
        [&](sip::Message&& m) {
          handler.on_peer_message(c->peer, sip::Inbound{std::move(m), c->remote, c->flow, c->local, c->domain});
        },
        [&](std::string reply) {
          if (!session.enqueue(std::move(reply))) session.close();
        },
        [&] { LinksAccess::count_parse_error(links); }, [&] { return session.closed(); });
    if (outcome == FramesOutcome::lost) {
      // Garbage or over the limits: answer if we can, then close. No more
      // sends are taken; the writer closes once the answer is out.
      session.close_after_flush();
      session.set_deadline(SteadyClock::now() + std::min<std::chrono::seconds>(options.idle_timeout, kFlushGrace));
    }
  }
  if (!session.closing()) session.close();
  if (end.registered()) {
    LinksAccess::remove(links, *c);
    handler.on_link_down(c->peer, c->flow);
  }
  co_return end;
}

}  // namespace detail

}  // namespace sipsite::transport
