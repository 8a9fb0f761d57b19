#include "federation_service.hpp"

#include "logging.hpp"
#include <sipsite/edge/peer_gateway.hpp>

#include <sipsite/pki/rotation_proof.hpp>
#include <sipsite/store/audit_repository.hpp>
#include <sipsite/store/pending_repository.hpp>
#include <sipsite/store/site_repository.hpp>
#include <sipsite/store/unix_time.hpp>

#include <algorithm>
#include <limits>

namespace sipsite::app {

namespace {
constexpr auto kPendingInterval = std::chrono::minutes(1);
constexpr int kPendingPerMinute = 30;
constexpr std::size_t kRateTableCap = 4096;
// Expired pins are looked for at least this often, whatever the earliest
// expiry (bounds the wait after a clock change).
constexpr std::int64_t kMaxExpiryWait = 3600;

using store::unix_now;

std::shared_ptr<const pki::Certificate> parse_pinned(const std::string& pem) {
  auto cert = pki::Certificate::from_pem(pem);
  if (!cert) return nullptr;
  return std::make_shared<const pki::Certificate>(std::move(*cert));
}
}  // namespace

FederationService::FederationService(boost::asio::io_context& io, const Config& config, store::Database& db,
                                     const pki::Certificate& cert, const pki::PrivateKey& key)
    : io_(io),
      config_(config),
      db_(db),
      verifier_(cert.fingerprint()),
      links_(cert.fingerprint(), verifier_),
      own_(cert.fingerprint()),
      expiry_timer_(io) {
  unknown_.since =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (auto ctx = pki::make_federation_server_context(cert, key, verifier_)) server_ctx_ = std::move(*ctx);
  if (auto ctx = pki::make_federation_client_context(cert, key, verifier_)) client_ctx_ = std::move(*ctx);
}

std::optional<std::string> FederationService::start() {
  if (!server_ctx_ || !client_ctx_) return "cannot set up the federation TLS contexts with the site certificate";
  listener_ =
      std::make_unique<transport::FederationListener>(io_, server_ctx_.get(), *this, links_, transport::Limits{});
  if (auto r = listener_->listen(config_.federation_listen); !r) return r.error().message;
  connector_ = std::make_unique<transport::FederationConnector>(
      io_, client_ctx_.get(), links_, *this, transport::ConnectorSettings{},
      [](const pki::Fingerprint&, const transport::PeerLink& link) {
        auto log = logger("federation");
        if (link.state == transport::LinkState::connected) {
          log->info("link to {}: connected", link.domain);
        } else if (link.state == transport::LinkState::refused_by_peer) {
          log->warn("link to {}: refused by peer ({} does not trust this site)", link.domain, link.domain);
        } else if (link.state == transport::LinkState::unreachable) {
          log->info("link to {}: unreachable ({})", link.domain, link.detail);
        }
      });
  return std::nullopt;
}

void FederationService::stop() {
  expiry_timer_.cancel();
  if (connector_) connector_->stop();
  if (listener_) listener_->stop();
}

boost::asio::awaitable<bool> FederationService::join(std::chrono::steady_clock::duration deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  const bool dialled = connector_ ? co_await connector_->join(deadline) : true;
  const bool accepted = listener_ ? co_await listener_->join(until - std::chrono::steady_clock::now()) : true;
  co_return dialled&& accepted;
}

std::map<pki::Fingerprint, transport::PeerLink> FederationService::links() const {
  return connector_ ? connector_->links() : std::map<pki::Fingerprint, transport::PeerLink>{};
}

void FederationService::replace_peers(const std::vector<store::PeerRecord>& peers) {
  reload_identity();
  pki::PinnedSet pins;
  trusted_.clear();
  std::map<std::string, bool> trusted_domains;
  for (const auto& p : peers) {
    if (p.state != store::PeerState::trusted) continue;
    if (auto fp = pki::Fingerprint::parse(p.fingerprint)) {
      pins.emplace(*fp, pki::PinnedPeer(p.domain, parse_pinned(p.certificate_pem)));
      trusted_.emplace(*fp, p.domain);
      trusted_domains[p.domain] = true;
    }
  }
  // Pins replaced by a rotation stay accepted (not dialled, not routed to)
  // until their overlap ends, while their peer is trusted.
  std::int64_t earliest = 0;
  const std::int64_t now = unix_now();
  if (auto previous = store::PeerRepository(db_).list_previous_pins(); !previous) {
    logger("store")->error("cannot read the previous pins: {}", previous.error().message);
  } else {
    for (const auto& pin : *previous) {
      if (earliest == 0 || pin.expires_at < earliest) earliest = pin.expires_at;
      auto fp = pki::Fingerprint::parse(pin.fingerprint);
      if (!fp || pin.expires_at <= now || trusted_domains.count(pin.domain) == 0 || pins.contains(*fp)) continue;
      pki::PinnedPeer peer(pin.domain, parse_pinned(pin.certificate_pem));
      peer.superseded = true;
      pins.emplace(*fp, std::move(peer));
    }
  }
  schedule_pin_expiry(earliest);
  const auto before = verifier_.snapshot();
  verifier_.replace(pins);
  if (connector_) {
    std::vector<transport::PeerTarget> targets;
    for (const auto& p : peers) {
      if (p.state != store::PeerState::trusted || p.address.empty()) continue;
      auto fp = pki::Fingerprint::parse(p.fingerprint);
      auto address = pki::parse_host_port(p.address);
      if (fp && address) targets.push_back({*fp, p.domain, *address});
    }
    targets_.clear();
    for (const auto& t : targets) targets_.insert_or_assign(t.fingerprint, t);
    connector_->set_targets(targets);
  }
  before->for_each([this, &pins](const pki::Fingerprint& fp, const pki::PinnedPeer& pinned) {
    if (pins.contains(fp)) return;
    if (const auto n = links_.close(fp); n > 0) {
      logger("federation")->info("peer {} no longer trusted: closed {} connection(s)", pinned.domain, n);
    }
  });
  if (gateway_ != nullptr) gateway_->replace_peers(trusted_);
}

void FederationService::apply(const LiveStateUpdate& update) {
  if (update.full || update.site_changed) reload_identity();
  bool targets_changed = false;
  std::vector<pki::Fingerprint> untrusted;
  for (const auto& peer : update.untrusted) {
    trusted_.erase(peer.fingerprint);
    targets_changed |= targets_.erase(peer.fingerprint) != 0;
    untrusted.push_back(peer.fingerprint);
  }
  std::vector<std::pair<pki::Fingerprint, std::string>> trusted;
  for (const auto& peer : update.trusted) {
    trusted_.insert_or_assign(peer.fingerprint, peer.domain);
    trusted.emplace_back(peer.fingerprint, peer.domain);
    const auto address = pki::parse_host_port(peer.address);  // an error when empty: a peer that dials in
    if (address) {
      targets_.insert_or_assign(peer.fingerprint, transport::PeerTarget{peer.fingerprint, peer.domain, *address});
      targets_changed = true;
    } else {
      targets_changed |= targets_.erase(peer.fingerprint) != 0;
    }
  }
  if (update.pins) {
    verifier_.swap_in(update.pins);  // a pointer swap: the set was built on the watcher's thread
    schedule_pin_expiry(update.earliest_pin_expiry);
  }
  // Only when a dialled peer came or went: peers that dial in (no address)
  // cost the connector nothing.
  if (connector_ && (targets_changed || update.full)) {
    std::vector<transport::PeerTarget> targets;
    targets.reserve(targets_.size());
    for (const auto& [fp, target] : targets_) targets.push_back(target);
    connector_->set_targets(targets);
  }
  for (const auto& fp : update.unpinned) {
    if (const auto n = links_.close(fp); n > 0) {
      std::string domain = fp.to_string();
      for (const auto& peer : update.untrusted) {
        if (peer.fingerprint == fp) domain = peer.domain;
      }
      logger("federation")->info("peer {} no longer trusted: closed {} connection(s)", domain, n);
    }
  }
  if (gateway_ != nullptr) gateway_->update_peers(trusted, untrusted);
}

bool FederationService::admit_pending(const pki::Fingerprint& fp) {
  const auto now = std::chrono::steady_clock::now();
  if (now - window_start_ >= kPendingInterval) {
    window_start_ = now;
    window_count_ = 0;
  }
  if (window_count_ >= kPendingPerMinute) return false;
  auto it = last_recorded_.find(fp);
  if (it != last_recorded_.end() && now - it->second < kPendingInterval) return false;
  if (last_recorded_.size() >= kRateTableCap) last_recorded_.clear();
  last_recorded_[fp] = now;
  ++window_count_;
  return true;
}

void FederationService::on_refused(const pki::PeerIdentity& identity, const sip::Endpoint& source) {
  auto log = logger("federation");
  const std::string from = source.host + ":" + std::to_string(source.port);
  if (identity.verdict != pki::PinVerdict::unknown || !identity.certificate) {
    log->info("refused handshake from {}: {}", from, pki::to_string(identity.verdict));
    return;
  }
  const auto fp = identity.certificate->fingerprint();
  ++unknown_.handshakes;
  if (!admit_pending(fp)) {
    ++unknown_.not_recorded;
    return;
  }
  const std::string domain = identity.certificate->domain();
  auto outcome = store::PendingRepository(db_).record(fp.to_string(), identity.certificate->to_pem(),
                                                      domain.empty() ? "(none)" : domain, from);
  if (!outcome) {
    ++unknown_.not_recorded;
    log->error("cannot record a pending request: {}", outcome.error().message);
    return;
  }
  switch (*outcome) {
    case store::PendingOutcome::replaced: ++unknown_.dropped; [[fallthrough]];
    case store::PendingOutcome::recorded:
      ++unknown_.new_requests;
      log->info("pending request from {} claiming {}: fingerprint {}", from, domain, fp.to_string());
      break;
    case store::PendingOutcome::updated: ++unknown_.repeats; break;
    case store::PendingOutcome::ignored: ++unknown_.ignored; break;
    case store::PendingOutcome::full: ++unknown_.not_recorded; break;
  }
}

void FederationService::on_peer_connected(const pki::Certificate& peer, const sip::Endpoint& source) {
  logger("federation")->info("peer {} connected from {}:{}", peer.domain(), source.host, source.port);
  // It connected, so it trusts us now: no need to wait out our backoff.
  if (connector_) connector_->retry_now(peer.fingerprint());
}

void FederationService::on_peer_disconnected(const pki::Fingerprint& peer) {
  const auto pins = verifier_.snapshot();
  const pki::PinnedPeer* pinned = pins->find(peer);
  logger("federation")->info("peer {} disconnected", pinned != nullptr ? pinned->domain : peer.to_string());
}

void FederationService::set_gateway(edge::PeerGateway& gateway) {
  gateway_ = &gateway;
  gateway_->replace_peers(trusted_);
}

void FederationService::on_link_up(const pki::Fingerprint& peer, sip::FlowId flow, const sip::Endpoint& remote) {
  logger("federation")->debug("link {:x} to {} up ({}:{})", flow, peer.to_string(), remote.host, remote.port);
  if (gateway_ != nullptr) gateway_->link_up(peer, flow, remote);
}

void FederationService::on_link_down(const pki::Fingerprint& peer, sip::FlowId flow) {
  logger("federation")->debug("link {:x} to {} down", flow, peer.to_string());
}

void FederationService::on_peer_message(const pki::Fingerprint& peer, sip::Inbound inbound) {
  if (gateway_ != nullptr) gateway_->receive(peer, std::move(inbound));
}

void FederationService::refresh() {
  auto peers = store::PeerRepository(db_).list();
  if (!peers) {
    logger("store")->error("cannot read the peers: {}", peers.error().message);
    return;
  }
  replace_peers(*peers);
}

bool FederationService::reload_identity() {
  auto log = logger("pki");
  auto site = store::SiteRepository(db_).load();
  if (!site) {
    log->error("cannot read the site identity: {}", site.error().message);
    return false;
  }
  auto cert = pki::Certificate::from_pem(site->certificate_pem);
  auto key = pki::PrivateKey::from_pem(site->private_key_pem);
  if (!cert || !key || !cert->matches(*key)) {
    log->error("the stored site certificate and key do not match; keeping the identity in use");
    return false;
  }
  std::vector<pki::Fingerprint> own{cert->fingerprint()};
  if (!site->previous_certificate_pem.empty()) {
    if (auto previous = pki::Certificate::from_pem(site->previous_certificate_pem)) {
      own.push_back(previous->fingerprint());
    }
  }
  // Also refuse the certificate federation still presents (a second
  // rotation before this poll saw the first).
  if (std::find(own.begin(), own.end(), own_) == own.end()) own.push_back(own_);
  verifier_.set_own(own);
  if (cert->fingerprint() == own_) return false;

  auto server_ctx = pki::make_federation_server_context(*cert, *key, verifier_);
  auto client_ctx = pki::make_federation_client_context(*cert, *key, verifier_);
  if (!server_ctx || !client_ctx) {
    log->error("cannot set up the federation TLS contexts with the new site certificate; keeping the old one");
    return false;
  }
  server_ctx_ = std::move(*server_ctx);
  client_ctx_ = std::move(*client_ctx);
  if (listener_) listener_->set_context(server_ctx_.get());
  if (connector_) connector_->set_context(client_ctx_.get());
  const pki::Fingerprint previous = own_;
  own_ = cert->fingerprint();
  links_.set_own(own_);
  // Re-established links present the new certificate: that handshake is
  // how each connected peer learns of the rotation (verified against the
  // pin it holds). Peers offline now learn it when they next connect.
  std::size_t closed = 0;
  for (const auto& [peer, links] : links_.snapshot()) closed += links_.close(peer);
  log->info("site key rotated: federation now presents {} (was {}); {} link(s) closed to re-establish them",
            own_.to_string(), previous.to_string(), closed);
  return true;
}

void FederationService::on_peer_rotated(const pki::Certificate& peer, const pki::Fingerprint& previous) {
  auto log = logger("federation");
  const auto fp = peer.fingerprint();
  const std::string domain = peer.domain();
  const auto pins = verifier_.snapshot();
  const pki::PinnedPeer* pinned = pins->find(previous);
  // The transport's verdict, checked again against what is pinned now.
  const auto pinned_cert = pinned == nullptr ? nullptr : pinned->parsed_certificate();
  if (pinned == nullptr || pinned->superseded || !pinned_cert || pinned->domain != domain) {
    log->warn("rotation of {} to {} no longer matches a pinned certificate; closing", domain, fp.to_string());
    links_.close(fp);
    return;
  }
  if (auto proof = pki::verify_rotation(peer, *pinned_cert); !proof) {
    log->warn("rotation of {} to {}: {}; closing", domain, fp.to_string(), proof.error().message);
    links_.close(fp);
    return;
  }
  const std::int64_t expires = unix_now() + config_.rotation_overlap.count();
  bool changed = false;
  store::PeerRepository repo(db_);
  auto r = db_.transaction([&]() -> store::Result<void> {
    auto applied = repo.apply_rotation(previous.to_string(), fp.to_string(), peer.to_pem(), expires);
    if (!applied) return applied.error();
    changed = *applied;
    if (!changed) return {};
    return store::AuditRepository(db_).append("daemon", "federation", "peer.rotated",
                                              domain + " " + previous.to_string() + " -> " + fp.to_string() +
                                                  " (old pin kept until " + pki::iso8601(expires) + ")");
  });
  if (!r) {
    log->error("cannot pin the rotated certificate of {}: {}; closing", domain, r.error().message);
    links_.close(fp);
    return;
  }
  if (changed) {
    log->info("peer {} rotated its key: {} -> {} (verified against the pinned certificate; old pin kept until {})",
              domain, previous.to_string(), fp.to_string(), pki::iso8601(expires));
  }
  refresh();
}

void FederationService::schedule_pin_expiry(std::int64_t earliest) {
  if (earliest == 0) {
    if (expiry_armed_for_ != 0) expiry_timer_.cancel();
    expiry_armed_for_ = 0;
    return;
  }
  if (earliest == expiry_armed_for_) return;
  expiry_armed_for_ = earliest;
  const std::int64_t wait = std::clamp<std::int64_t>(earliest - unix_now(), 0, kMaxExpiryWait);
  expiry_timer_.expires_after(std::chrono::seconds(wait));
  expiry_timer_.async_wait([this, earliest](const boost::system::error_code& ec) {
    if (ec || expiry_armed_for_ != earliest) return;
    expiry_armed_for_ = 0;
    expire_pins();
  });
}

void FederationService::expire_pins() {
  std::vector<store::PreviousPin> expired;
  auto r = db_.transaction([&]() -> store::Result<void> {
    auto taken = store::PeerRepository(db_).take_expired_pins(unix_now());
    if (!taken) return taken.error();
    expired = std::move(*taken);
    for (const auto& pin : expired) {
      if (auto a = store::AuditRepository(db_).append(
              "daemon", "federation", "peer.pin_expired",
              pin.domain + " " + pin.fingerprint + " (replaced by " + pin.superseded_by + ")");
          !a) {
        return a;
      }
    }
    return {};
  });
  if (!r) {
    logger("store")->error("cannot remove expired pins: {}; trying again in a minute", r.error().message);
    expiry_armed_for_ = -1;  // not a real expiry: replace_peers re-arms over it
    expiry_timer_.expires_after(std::chrono::minutes(1));
    expiry_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec && expiry_armed_for_ == -1) {
        expiry_armed_for_ = 0;
        expire_pins();
      }
    });
    return;
  }
  for (const auto& pin : expired) {
    logger("federation")
        ->info("old pin of {} expired: {} removed (replaced by {})", pin.domain, pin.fingerprint, pin.superseded_by);
  }
  refresh();  // re-arms the timer for the next pin, if any
}

}  // namespace sipsite::app
