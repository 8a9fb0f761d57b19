#include "sip_service.hpp"

#include "host_addresses.hpp"
#include "signaling_tap.hpp"
#include "site_records.hpp"

#include <sipsite/sip/message/accessors.hpp>
#include <sipsite/sip/message/uri.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

#include <openssl/rand.h>

#include <chrono>
#include <set>

namespace sipsite::app {

namespace {

std::vector<std::uint8_t> random_secret() {
  std::vector<std::uint8_t> secret(32);
  if (RAND_bytes(secret.data(), static_cast<int>(secret.size())) != 1) {
    OpenSslRandom fallback;
    for (auto& b : secret) b = static_cast<std::uint8_t>(fallback.next());
  }
  return secret;
}

transport::Listeners listeners_of(const Config& c) { return {c.sip_udp, c.sip_tcp, c.sip_tls}; }

sip::DigestAuthenticatorSettings digest_settings(const Config& c) {
  sip::DigestAuthenticatorSettings s;
  s.secret = random_secret();
  s.algorithms.clear();
  for (const auto& name : c.digest_algorithms) {
    s.algorithms.push_back(name == "MD5" ? sip::DigestAlgorithm::md5 : sip::DigestAlgorithm::sha256);
  }
  return s;
}

}  // namespace

SipService::SipService(boost::asio::io_context& io, const Config& config, const std::string& domain,
                       const pki::Certificate& cert, const pki::PrivateKey& key)
    : io_(io),
      config_(config),
      timers_(io),
      directory_(domain),
      location_(timers_, counters_),
      authenticator_(directory_, timers_, random_, counters_, digest_settings(config)),
      registrar_(directory_, authenticator_, location_, timers_,
                 sip::RegistrarSettings{.wall_clock = [] { return std::chrono::system_clock::now(); }}),
      memory_return_(
          io, [this] { return core_ ? core_->transactions().alive() : std::size_t{0}; },
          [this] {
            if (core_) core_->compact();
            timers_.compact();
            if (records_ != nullptr) records_->release_memory();
          }) {
  if (!config.sip_tls.empty()) {
    if (auto ctx = pki::make_lan_server_context(cert, key)) tls_ = std::move(*ctx);
  }
  transport::Limits limits;
  limits.message_timeout = config.sip_message_timeout;
  transport_ = std::make_unique<transport::SipTransport>(io_, limits, *this, counters_, tls_.get());
}

SipService::~SipService() { stop(); }

std::optional<std::string> SipService::start() {
  if (!config_.sip_tls.empty() && !tls_) return "cannot set up TLS with the site certificate";
  if (auto bound = transport_->listen(listeners_of(config_)); !bound) return bound.error().message;

  // Phones need a real address in Via and Record-Route: a wildcard
  // listener is advertised at sip.address, else the first LAN address.
  const std::string host_address =
      config_.sip_address.empty() ? first_non_loopback_ipv4().value_or("127.0.0.1") : config_.sip_address;
  std::vector<sip::Endpoint> receiving;
  for (sip::Endpoint ep : transport_->local_endpoints()) {
    bound_.push_back(ep);
    boost::system::error_code ec;
    const auto addr = boost::asio::ip::make_address(ep.host, ec);
    if (!ec && addr.is_unspecified()) {
      for (auto& a : machine_addresses(addr.is_v6())) receiving.push_back({ep.protocol, std::move(a), ep.port});
      ep.host = host_address;
    }
    receiving.push_back(ep);
    advertised_.push_back(std::move(ep));
  }
  sip::CoreSettings settings;
  settings.local_domain = directory_.local_domain();
  settings.listeners = advertised_;
  settings.receiving = std::move(receiving);
  settings.aliases = config_.sip_aliases;
  settings.transaction_limits.max_transactions = config_.sip_max_transactions;
  if (!config_.public_host.empty()) settings.aliases.push_back(config_.public_host);
  core_ = std::make_unique<sip::Core>(std::move(settings), static_cast<sip::Sender&>(*this), timers_, timers_, random_,
                                      directory_, authenticator_, location_,
                                      static_cast<sip::RegistrationHandler&>(*this), counters_, peers_);
  if (records_ != nullptr) {
    core_->set_call_observer(records_);
    core_->set_message_store(records_);
  }
  location_.start_sweeping(timers_);
  memory_return_.start();
  return std::nullopt;
}

void SipService::stop() {
  location_.stop_sweeping();
  memory_return_.stop();
  if (transport_) transport_->stop();
}

boost::asio::awaitable<bool> SipService::join(std::chrono::steady_clock::duration deadline) {
  co_return transport_ ? co_await transport_->join(deadline) : true;
}

void SipService::replace_users(const std::vector<store::UserRecord>& users) {
  const auto before = location_.snapshot();
  directory_.replace(users);
  // A deleted user's phones lose their registrations, and the TCP/TLS
  // connections they registered over are closed: nothing of theirs stays.
  std::set<sip::FlowId> flows;
  std::set<std::string> gone;
  for (const auto& [username, binding] : before) {
    if (directory_.find_user(username)) continue;
    gone.insert(username);
    if (binding.destination.flow != 0 && !sip::is_federation_flow(binding.destination.flow)) {
      flows.insert(binding.destination.flow);
    }
  }
  for (const auto& username : gone) location_.remove_all(username);
  for (const auto flow : flows) transport_->close_flow(flow);
}

void SipService::update_users(const std::vector<store::UserRecord>& users, const std::vector<std::string>& removed) {
  directory_.update(users, removed);
  // As in replace_users: a deleted user's registrations and connections go.
  std::set<sip::FlowId> flows;
  for (const auto& username : removed) {
    for (const auto& binding : location_.lookup(username)) {
      if (binding.destination.flow != 0 && !sip::is_federation_flow(binding.destination.flow)) {
        flows.insert(binding.destination.flow);
      }
    }
    location_.remove_all(username);
  }
  for (const auto flow : flows) transport_->close_flow(flow);
}

void SipService::on_message(sip::Inbound inbound) {
  if (tap_ != nullptr) tap_->observe("in", inbound.message);
  if (core_) core_->receive(std::move(inbound));
}

void SipService::on_flow_closed(sip::FlowId flow) {
  // A phone registered over a connection that is gone cannot be reached
  // until it registers again (RFC 5626 §4.4 behaviour, without outbound).
  location_.remove_flow(flow);
  if (core_) core_->on_flow_closed(flow);
}

void SipService::send(const sip::Destination& to, sip::Outgoing& out) {
  if (tap_ != nullptr) tap_->observe("out", out.message());
  if (!sip::is_federation_flow(to.flow)) {
    if (local_media_ && !anchor_local(to, out)) return;
    transport_->send(to, out.wire());
    return;
  }
  if (peers_ == nullptr) {
    on_send_failed(to);
    return;
  }
  auto result = peers_->send(to, out);
  if (result.answer) {
    answer_in_place(to, std::move(*result.answer));
  } else if (!result.sent) {
    on_send_failed(to);
  }
}

void SipService::send_wire(const sip::Destination& to, std::string bytes) {
  if (tap_ != nullptr) tap_->observe("out", bytes);
  if (!sip::is_federation_flow(to.flow)) {
    transport_->send(to, std::move(bytes));
  } else if (peers_ == nullptr || !peers_->send_wire(to, std::move(bytes))) {
    on_send_failed(to);
  }
}

void SipService::anchor_local_calls(media::SdpAnchor& relay, edge::EdgeObserver& reports) {
  if (!core_) return;
  local_media_ = std::make_unique<edge::LocalMediaAnchor>(relay, timers_, core_->site_names());
  local_media_->set_observer(reports);
}

bool SipService::anchor_local(const sip::Destination& to, sip::Outgoing& out) {
  auto answer = local_media_->filter(out);
  if (!out.stopped()) return true;
  if (answer) answer_in_place(to, std::move(*answer));
  return false;
}

// A request that stays home (sipsite/edge/media_refusal.hpp): the core hears `answer` as
// the answer of `to`, not from inside this send (posted).
void SipService::answer_in_place(const sip::Destination& to, sip::Message answer) {
  if (!core_) return;
  sip::Endpoint local = advertised_.empty() ? to.endpoint : advertised_.front();
  for (const auto& ep : advertised_) {
    if (ep.protocol == to.endpoint.protocol) {
      local = ep;
      break;
    }
  }
  boost::asio::post(io_, [this, inbound = sip::Inbound{std::move(answer), to.endpoint, to.flow, local, {}}]() mutable {
    if (core_) core_->receive(std::move(inbound));
  });
}

sip::Message SipService::handle_register(const sip::Inbound& request) {
  sip::Message response = registrar_.handle_register(request);
  if (records_ != nullptr && response.status_code() / 100 == 2 && response.count(sip::HeaderId::contact) > 0) {
    if (const auto to = sip::to_header(request.message); to && to->uri.is_sip()) {
      if (auto user = sip::unescape(to->uri.sip_uri.user)) records_->registered(*user);
    }
  }
  return response;
}

void SipService::on_send_failed(const sip::Destination& to) {
  if (!core_) return;
  // The core must not be re-entered from inside a send: report later.
  boost::asio::post(io_, [this, to] { core_->on_send_failed(to); });
}

}  // namespace sipsite::app
