#pragma once
// The console's view of the running daemon (webadmin::LiveState): SIP
// counters are atomics read from any thread; registrations, links, calls
// and the gateway's counters belong to the daemon's io thread (the SIP
// strand), so the console thread posts the copy there and waits for it with
// a bound (kWait). When that thread does not answer in time (busy, or
// stopping), the answer is nullopt and the console says 503 — it never
// hangs and never shows an empty list as if it were the truth.

#include "federation_service.hpp"
#include <sipsite/edge/peer_gateway.hpp>
#include "sip_service.hpp"

#include <sipsite/media/media_relay.hpp>
#include <sipsite/webadmin/live_state.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace sipsite::app {

class ConsoleLiveState final : public webadmin::LiveState {
 public:
  // Gives the media relay, or nullptr while there is none; called on the io
  // thread only (the relay is built after this object, in start_media()).
  using RelayGetter = std::function<const media::MediaRelay*()>;
  // Waits until the daemon applied every committed change (LiveStateWatcher::catch_up).
  using CatchUp = std::function<bool()>;

  // `io` runs `sip`, `federation`, `gateway` and the relay; all must outlive
  // this object.
  ConsoleLiveState(boost::asio::io_context& io, const SipService& sip, const FederationService& federation,
                   const edge::PeerGateway& gateway, std::string domain, RelayGetter relay = {}, CatchUp catch_up = {})
      : io_(io),
        sip_(sip),
        federation_(federation),
        gateway_(gateway),
        domain_(std::move(domain)),
        relay_(std::move(relay)),
        catch_up_(std::move(catch_up)) {}

  std::string metrics() override;
  std::optional<std::vector<webadmin::Registration>> registrations() override;
  std::optional<std::vector<webadmin::PeerLinkStatus>> peer_links() override;
  std::optional<webadmin::FederationState> federation() override;
  std::optional<webadmin::MediaState> media() override;
  std::optional<webadmin::UnknownCertificates> unknown_certificates() override;
  bool changes_applied() override { return !catch_up_ || catch_up_(); }

  // Long enough for a loaded machine (sanitizers, two cores shared by
  // several daemons), well under a browser's or a test client's patience.
  static constexpr auto kWait = std::chrono::seconds(5);

 private:
  // Runs `work` on the io thread and waits for its answer up to kWait.
  template <class T, class Work>
  std::optional<T> on_sip_thread(Work work);

  boost::asio::io_context& io_;
  const SipService& sip_;
  const FederationService& federation_;
  const edge::PeerGateway& gateway_;
  std::string domain_;
  RelayGetter relay_;
  CatchUp catch_up_;
};

}  // namespace sipsite::app
