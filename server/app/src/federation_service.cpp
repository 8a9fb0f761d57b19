#include "federation_service.hpp"

#include "logging.hpp"
#include "peer_gateway.hpp"

#include <sipsite/store/pending_repository.hpp>

namespace sipsite::app {

namespace {
constexpr auto kPendingInterval = std::chrono::minutes(1);
constexpr int kPendingPerMinute = 30;
constexpr std::size_t kRateTableCap = 4096;
}  // namespace

FederationService::FederationService(boost::asio::io_context& io, const Config& config, store::Database& db,
                                     const pki::Certificate& cert, const pki::PrivateKey& key)
    : io_(io), config_(config), db_(db), verifier_(cert.fingerprint()), links_(cert.fingerprint(), verifier_) {
  if (auto ctx = pki::make_federation_server_context(cert, key, verifier_)) server_ctx_ = std::move(*ctx);
  if (auto ctx = pki::make_federation_client_context(cert, key, verifier_)) client_ctx_ = std::move(*ctx);
}

std::optional<std::string> FederationService::start() {
  if (!server_ctx_ || !client_ctx_) return "cannot set up the federation TLS contexts with the site certificate";
  listener_ = std::make_unique<transport::FederationListener>(io_, server_ctx_.get(), *this, links_, transport::Limits{});
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
  if (connector_) connector_->stop();
  if (listener_) listener_->stop();
}

std::map<pki::Fingerprint, transport::PeerLink> FederationService::links() const {
  return connector_ ? connector_->links() : std::map<pki::Fingerprint, transport::PeerLink>{};
}

void FederationService::replace_peers(const std::vector<store::PeerRecord>& peers) {
  pki::PinnedSet pins;
  for (const auto& p : peers) {
    if (p.state != store::PeerState::trusted) continue;
    if (auto fp = pki::Fingerprint::parse(p.fingerprint)) pins.emplace(*fp, p.domain);
  }
  const auto before = verifier_.snapshot();
  verifier_.replace(pins);
  trusted_.clear();
  for (const auto& [fp, domain] : pins) trusted_.emplace(fp, domain);
  if (connector_) {
    std::vector<transport::PeerTarget> targets;
    for (const auto& p : peers) {
      if (p.state != store::PeerState::trusted || p.address.empty()) continue;
      auto fp = pki::Fingerprint::parse(p.fingerprint);
      auto address = pki::parse_host_port(p.address);
      if (fp && address) targets.push_back({*fp, p.domain, *address});
    }
    connector_->set_targets(targets);
  }
  for (const auto& [fp, domain] : *before) {
    if (pins.count(fp) == 0) {
      if (const auto n = links_.close(fp); n > 0) {
        logger("federation")->info("peer {} no longer trusted: closed {} connection(s)", domain, n);
      }
    }
  }
  if (gateway_ != nullptr) gateway_->replace_peers(trusted_);
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
  if (!admit_pending(fp)) return;
  const std::string domain = identity.certificate->domain();
  auto outcome = store::PendingRepository(db_).record(fp.to_string(), identity.certificate->to_pem(),
                                                      domain.empty() ? "(none)" : domain, from);
  if (!outcome) {
    log->error("cannot record a pending request: {}", outcome.error().message);
  } else if (*outcome == store::PendingOutcome::recorded) {
    log->info("pending request from {} claiming {}: fingerprint {}", from, domain, fp.to_string());
  }
}

void FederationService::on_peer_connected(const pki::Certificate& peer, const sip::Endpoint& source) {
  logger("federation")->info("peer {} connected from {}:{}", peer.domain(), source.host, source.port);
  // It connected, so it trusts us now: no need to wait out our backoff.
  if (connector_) connector_->retry_now(peer.fingerprint());
}

void FederationService::on_peer_disconnected(const pki::Fingerprint& peer) {
  const auto pins = verifier_.snapshot();
  const auto it = pins->find(peer);
  logger("federation")->info("peer {} disconnected", it != pins->end() ? it->second : peer.to_string());
}

void FederationService::set_gateway(PeerGateway& gateway) {
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

}  // namespace sipsite::app
