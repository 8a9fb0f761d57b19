#pragma once
// The composition root of `sipsite run`: owns every service in dependency
// order, wires them, and runs the event loop until SIGTERM or SIGINT.

#include "config.hpp"
#include "console_live_state.hpp"
#include "federation_service.hpp"
#include "live_state_watcher.hpp"
#include "edge_wiring.hpp"
#include "retention_service.hpp"
#include "signaling_tap.hpp"
#include "site_records.hpp"
#include "sip_service.hpp"
#include "site_access.hpp"

#include <sipsite/edge/peer_gateway.hpp>
#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/private_key.hpp>
#include <sipsite/webadmin/console.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

namespace sipsite::app {

class Daemon {
 public:
  // `console_db`, `retention_db`, `records_db`: the admin console's, the
  // retention purge's and the call/message records' own connections (each
  // runs on a thread of its own); `live_db`: the live-state watcher's (a
  // thread of its own too).
  Daemon(Config config, OpenSite site, pki::PrivateKey key, pki::Certificate cert, store::Database console_db,
         store::Database retention_db, store::Database records_db, store::Database live_db);
  // Blocks until a stop signal; returns the exit code (1 when a listener
  // cannot be opened).
  int run();

 private:
  boost::asio::awaitable<void> wait_for_signal();
  boost::asio::awaitable<void> end_calls();
  boost::asio::awaitable<void> feed_watchdog(std::chrono::microseconds interval);
  void apply_live_state(LiveStateUpdate update);
  void log_listeners() const;
  std::optional<std::string> start_media();

  Config config_;
  OpenSite site_;
  pki::PrivateKey key_;
  pki::Certificate cert_;
  boost::asio::io_context io_;
  SiteRecords records_;
  SignalingTap tap_;
  SipService sip_;
  FederationService federation_;
  EdgeReports edge_reports_;
  edge::PeerGateway gateway_;
  std::unique_ptr<FederationPeerLinks> peer_links_;  // once the federation service has started
  ConsoleLiveState live_state_;
  webadmin::Console console_;
  RetentionService retention_;
  std::unique_ptr<media::MediaRelay> relay_;  // built once the SIP listeners' addresses are known
  LiveStateWatcher watcher_;                  // last: its thread posts to what is above
  bool stopping_ = false;
  struct {
    std::uint64_t full = 0, incremental = 0;
  } live_state_loads_;
};

}  // namespace sipsite::app
