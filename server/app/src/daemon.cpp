#include "daemon.hpp"

#include "logging.hpp"
#include "public_address.hpp"

#include <sipsite/pki/domain_name.hpp>
#include <sipsite/pki/invite.hpp>
#include <sipsite/store/peer_repository.hpp>
#include <sipsite/store/retention_settings.hpp>
#include <sipsite/store/state_dir.hpp>
#include <sipsite/store/user_repository.hpp>

#include <sipsite/asio/task_group.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <systemd/sd-daemon.h>

#include <csignal>
#include <iostream>

namespace sipsite::app {

namespace asio = boost::asio;

namespace {

// On SIGTERM, how long the site waits for the parties of the calls it ends
// to answer its BYEs before it closes their connections.
constexpr auto kGoodbyeWait = std::chrono::seconds(2);
// How long the cancelled tasks of the transport and the federation get to
// unwind at shutdown before the loop stops.
constexpr auto kTaskDeadline = std::chrono::seconds(2);

// Rethrows what one of the daemon's own coroutines (signals, database
// watch, systemd watchdog) threw: without them the daemon cannot be
// stopped or kept in sync, so a bug there stops it loudly. The services'
// tasks are in task groups, whose escapes are logged instead.
void rethrow(const std::exception_ptr& e) {
  if (e) std::rethrow_exception(e);
}

webadmin::ConsoleSettings console_settings(const Config& config, const store::SiteRecord& site) {
  webadmin::ConsoleSettings s;
  s.listen = config.admin_listen;
  s.api.domain = site.domain;
  s.api.certificate_pem = site.certificate_pem;
  s.api.network.running = network_values(config);
  s.api.network.file_keys = config.file_keys;
  s.api.network.next_start = [config](const std::vector<admin::NetworkSetting>& stored) {
    return next_start_values(config, stored);
  };
  return s;
}

// The invite as `sipsite invite` prints it, but with the bound federation
// port when the configured one is 0 (kernel-chosen).
std::string site_invite(const Config& config, const store::SiteRecord& site, const pki::Certificate& cert,
                        std::uint16_t bound_federation_port) {
  pki::Invite invite;
  invite.domain = site.domain;
  invite.address.host = config.public_host.empty() ? site.domain : config.public_host;
  invite.address.port = config.public_federation_port != 0   ? config.public_federation_port
                        : config.federation_listen.port != 0 ? config.federation_listen.port
                                                             : bound_federation_port;
  invite.fingerprint = cert.fingerprint();
  return invite.to_string();
}

std::string host_port_text(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

edge::PeerGatewaySettings gateway_settings(const Config& config, const store::SiteRecord& site) {
  edge::PeerGatewaySettings s;
  s.privacy.local_domain = site.domain;
  s.privacy.strip_headers = config.privacy_strip_headers;
  s.requests_per_second = config.federation_peer_request_rate;
  s.burst = 2.0 * config.federation_peer_request_rate;
  return s;
}

}  // namespace

Daemon::Daemon(Config config, OpenSite site, pki::PrivateKey key, pki::Certificate cert, store::Database console_db,
               store::Database retention_db, store::Database records_db, store::Database live_db)
    : config_(std::move(config)),
      site_(std::move(site)),
      key_(std::move(key)),
      cert_(std::move(cert)),
      records_(io_, std::move(records_db)),
      tap_(records_, config_.log_trace_aors),
      sip_(io_, config_, site_.site.domain, cert_, key_),
      federation_(io_, config_, site_.db, cert_, key_),
      edge_reports_(records_, tap_),
      gateway_(gateway_settings(config_, site_.site), sip_.clock(), sip_.timers(), sip_.random()),
      live_state_(
          io_, sip_, federation_, gateway_, site_.site.domain, [this] { return relay_.get(); },
          [this] { return watcher_.catch_up(ConsoleLiveState::kWait); }),
      console_(console_settings(config_, site_.site), std::move(console_db), live_state_),
      retention_(std::move(retention_db)),
      watcher_(io_, std::move(live_db), site_.site.domain,
               [this](LiveStateUpdate update) { apply_live_state(std::move(update)); }) {}

// What each socket is bound to; a wildcard listener also says the address
// written in Via and Record-Route for it.
void Daemon::log_listeners() const {
  auto log = logger("app");
  const auto& bound = sip_.bound();
  const auto& advertised = sip_.advertised();
  for (std::size_t i = 0; i < bound.size() && i < advertised.size(); ++i) {
    const std::string_view protocol = sip::transport_param(bound[i].protocol);
    const std::string at = host_port_text(bound[i].host, bound[i].port);
    const std::string shown = host_port_text(advertised[i].host, advertised[i].port);
    log->info("listening sip/{} {}{}", protocol, at, shown == at ? "" : " (advertised as " + shown + ")");
  }
  const auto fed = federation_.local_endpoint();
  log->info("listening federation/mtls {}", host_port_text(fed.host, fed.port));
  log->info("listening admin/https {}", console_.local_address().to_string());
  if (relay_) {
    log->info("media relay ports {} (udp), {} free{}", config_.media_ports.to_string(), relay_->free_ports(),
              sip_.local_media() != nullptr ? ", local calls anchored too" : "");
  }
}

// On the io thread: what the watcher prepared on its own thread, applied in
// O(changed) (a full load only at start or after a gap in the change log).
void Daemon::apply_live_state(LiveStateUpdate update) {
  if (stopping_) return;
  if (update.full) {
    sip_.replace_users(update.users);
  } else if (!update.users.empty() || !update.users_removed.empty()) {
    sip_.update_users(update.users, update.users_removed);
  }
  if (update.signaling_log) tap_.set_log_enabled(*update.signaling_log);
  federation_.apply(update);
  auto log = logger("store");
  if (update.full) {
    ++live_state_loads_.full;
    log->info("state loaded: {} users, {} peers ({} trusted)", update.user_count, update.peer_count,
              update.trusted_count);
  } else {
    ++live_state_loads_.incremental;
    log->info(
        "{} change(s) applied incrementally ({} user(s) changed, {} removed; {} peer(s) trusted, {} untrusted); "
        "state now: {} users, {} peers ({} trusted)",
        update.changes, update.users.size(), update.users_removed.size(), update.trusted.size(),
        update.untrusted.size(), update.user_count, update.peer_count, update.trusted_count);
  }
}

asio::awaitable<void> Daemon::wait_for_signal() {
  asio::signal_set signals(io_, SIGTERM, SIGINT);
  const int signal = co_await signals.async_wait(asio::use_awaitable);
  logger("app")->info("received {}, stopping", signal == SIGTERM ? "SIGTERM" : "SIGINT");
  sd_notify(0, "STOPPING=1");
  stopping_ = true;
  co_await end_calls();
  watcher_.stop();
  console_.stop();
  retention_.stop();
  sip_.stop();
  records_.stop();
  federation_.stop();
  // Shutdown is cancel, deadline, close: the cancelled tasks unwind (and
  // release what they hold) before the loop stops; what is left then is
  // closed with the loop.
  const bool sip_ended = co_await sip_.join(kTaskDeadline);
  const bool federation_ended = co_await federation_.join(kTaskDeadline);
  if (sip_ended && federation_ended) {
    logger("app")->info("every task of the SIP transport and the federation ended");
  } else {
    logger("app")->warn("{} tasks still running {} s after stop; closing them with the loop",
                        !sip_ended && !federation_ended ? "SIP transport and federation"
                        : !sip_ended                    ? "SIP transport"
                                                        : "federation",
                        kTaskDeadline.count());
  }
  io_.stop();
}

// Ends every call politely (a BYE to both parties, 503 to calls still
// ringing) while the links that carry the BYEs are still up.
asio::awaitable<void> Daemon::end_calls() {
  sip::Core* core = sip_.core();
  if (core == nullptr) co_return;
  if (const auto ended = core->end_calls("site shutting down"); ended > 0) {
    logger("app")->info("ending {} call(s)", ended);
  }
  asio::steady_timer timer(io_);
  const auto deadline = std::chrono::steady_clock::now() + kGoodbyeWait;
  while (core->pending_goodbyes() > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(asio::use_awaitable);
  }
  if (core->pending_goodbyes() > 0) {
    logger("app")->info("{} goodbye(s) unanswered after {} s", core->pending_goodbyes(), kGoodbyeWait.count());
  }
}

asio::awaitable<void> Daemon::feed_watchdog(std::chrono::microseconds interval) {
  asio::steady_timer timer(io_);
  while (!stopping_) {
    sd_notify(0, "WATCHDOG=1");
    timer.expires_after(interval / 2);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

// The relay's LAN leg is on the address phones reach the site at; its
// public leg is advertised at the site's public address (as peers see it
// through the NAT) and bound where the federation listener is.
std::optional<std::string> Daemon::start_media() {
  media::RelaySettings s;
  for (const auto& ep : sip_.advertised()) {
    if (ep.host.find(':') == std::string::npos) {
      s.lan_address = ep.host;
      break;
    }
  }
  if (s.lan_address.empty() && !sip_.advertised().empty()) s.lan_address = sip_.advertised().front().host;
  const std::string fed_host = config_.federation_listen.host;
  const bool fed_wildcard = fed_host == "0.0.0.0" || fed_host == "::";
  boost::system::error_code ec;
  boost::asio::ip::make_address(config_.public_host, ec);
  s.public_address = !config_.public_host.empty() && !ec ? config_.public_host
                     : !fed_wildcard                     ? fed_host
                                                         : s.lan_address;
  s.public_bind = fed_host;
  s.first_port = config_.media_ports.first;
  s.last_port = config_.media_ports.last;
  s.offer_public_candidates = config_.media_offer_public_candidates;
  s.lan_srtp = config_.media_lan_srtp;
  if (auto valid = media::validate(s); !valid) return "media relay: " + valid.error().reason;
  relay_ = std::make_unique<media::MediaRelay>(io_, s);
  return std::nullopt;
}

int Daemon::run() {
  auto log = logger("app");
  // A task of the SIP transport, the federation or the console that ends by
  // an exception (a bug): logged here with its component, counted, and only
  // that task (and its connection) ends (sipsite/asio/task_group.hpp).
  async::set_escape_reporter([](std::string_view component, std::string_view what) {
    logger("app")->error("{}: a task ended by an exception: {}", component, what);
  });
  log->info("site {} fingerprint {}", site_.site.domain, cert_.fingerprint().to_string());
  sip_.set_peers(gateway_);
  sip_.set_records(records_);
  sip_.set_tap(tap_);
  gateway_.set_observer(edge_reports_);
  auto failed = sip_.start();
  if (!failed) failed = federation_.start();
  if (!failed) failed = start_media();
  if (!failed) {
    peer_links_ = std::make_unique<FederationPeerLinks>(federation_.sip_links());
    gateway_.attach(*sip_.core(), *peer_links_, relay_.get());
    if (config_.media_anchor_local_calls) sip_.anchor_local_calls(*relay_, edge_reports_);
    records_.attach(*sip_.core());
    federation_.set_gateway(gateway_);
  }
  if (!failed) {
    failed = console_.start(cert_, key_, site_invite(config_, site_.site, cert_, federation_.local_endpoint().port));
  }
  if (failed) {
    log->error("{}", *failed);
    return fail(kExitRuntime, *failed);
  }
  // Users and peers known before the first SIP message is read.
  watcher_.start();
  log_listeners();

  asio::co_spawn(io_, wait_for_signal(), rethrow);
  retention_.start(io_);
  std::uint64_t watchdog_usec = 0;
  if (sd_watchdog_enabled(0, &watchdog_usec) > 0) {
    asio::co_spawn(io_, feed_watchdog(std::chrono::microseconds(watchdog_usec)), rethrow);
  }
  sd_notify(0, ("READY=1\nSTATUS=serving " + site_.site.domain).c_str());
  log->info("ready");
  io_.run();
  log->info("stopped");
  return kExitOk;
}

int cmd_run(const GlobalOptions& g, bool check_only) {
  Config config;
  if (auto path = resolve_config_path(g)) {
    auto loaded = load_config_file(*path);
    if (!loaded) return fail(kExitUsage, loaded.error().message);
    config = std::move(*loaded);
  }
  if (!init_logging(g.log_level.empty() ? config.log_level : g.log_level)) {
    return fail(kExitUsage, "--log-level must be one of trace, debug, info, warn, error, off");
  }
  auto site = open_site(g);
  if (!site) return fail(site.error());
  use_stored_settings(config, site->db);
  auto cert = pki::Certificate::from_pem(site->site.certificate_pem);
  auto key = pki::PrivateKey::from_pem(site->site.private_key_pem);
  if (!cert || !key || !cert->matches(*key)) {
    return fail(kExitRuntime, "the stored site certificate and key do not match; restore from backup");
  }
  if (auto valid = cert->check_validity(); !valid) {
    logger("pki")->warn("site certificate: {}", valid.error().message);
  }
  if (check_only) {
    std::cout << "configuration and site " << site->site.domain << " are valid" << std::endl;
    return kExitOk;
  }
  // One daemon per state directory (and none while a restore runs).
  auto state_lock = store::StateLock::try_acquire(g.state_dir);
  if (!state_lock) return fail(state_lock.error());
  auto console_db = open_site(g);
  if (!console_db) return fail(console_db.error());
  auto retention_db = open_site(g);
  if (!retention_db) return fail(retention_db.error());
  auto records_db = open_site(g);
  if (!records_db) return fail(records_db.error());
  auto live_db = open_site(g);
  if (!live_db) return fail(live_db.error());
  Daemon daemon(std::move(config), std::move(*site), std::move(*key), std::move(*cert), std::move(console_db->db),
                std::move(retention_db->db), std::move(records_db->db), std::move(live_db->db));
  return daemon.run();
}

}  // namespace sipsite::app
