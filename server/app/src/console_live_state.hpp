#pragma once
// The console's view of the running daemon (webadmin::LiveState): counters
// are atomics read from any thread; registrations are copied on the SIP
// thread, which the console thread waits for with a bound.

#include "federation_service.hpp"
#include "sip_service.hpp"

#include <sipsite/webadmin/live_state.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <string>

namespace sipsite::app {

class ConsoleLiveState final : public webadmin::LiveState {
 public:
  // `io` runs `sip`; both must outlive this object.
  ConsoleLiveState(boost::asio::io_context& io, const SipService& sip, const FederationService& federation,
                   std::string domain)
      : io_(io), sip_(sip), federation_(federation), domain_(std::move(domain)) {}

  std::string metrics() override;
  std::vector<webadmin::Registration> registrations() override;
  std::vector<webadmin::PeerLinkStatus> peer_links() override;

 private:
  static constexpr auto kWait = std::chrono::seconds(1);
  boost::asio::io_context& io_;
  // Runs `work` on the SIP thread and waits for its answer up to kWait.
  template <class T, class Work>
  T on_sip_thread(Work work);

  const SipService& sip_;
  const FederationService& federation_;
  std::string domain_;
};

}  // namespace sipsite::app
