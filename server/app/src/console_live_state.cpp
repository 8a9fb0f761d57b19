#include "console_live_state.hpp"

#include <boost/asio/post.hpp>

#include <future>
#include <memory>

namespace sipsite::app {

std::string ConsoleLiveState::metrics() { return sip_.counters().prometheus(); }

std::vector<webadmin::Registration> ConsoleLiveState::registrations() {
  auto result = std::make_shared<std::promise<std::vector<webadmin::Registration>>>();
  auto future = result->get_future();
  boost::asio::post(io_, [this, result] {
    std::vector<webadmin::Registration> out;
    const auto now = std::chrono::steady_clock::now();
    for (const auto& [username, b] : sip_.location().snapshot()) {
      const auto& ep = b.destination.endpoint;
      const bool v6 = ep.host.find(':') != std::string::npos;
      out.push_back({username + "@" + domain_, b.contact, std::string(sip::to_string(ep.protocol)),
                     (v6 ? "[" + ep.host + "]" : ep.host) + ":" + std::to_string(ep.port),
                     std::chrono::duration_cast<std::chrono::seconds>(b.expires - now).count()});
    }
    result->set_value(std::move(out));
  });
  // The SIP thread is busy or stopping: answer empty rather than hang the console.
  if (future.wait_for(kWait) != std::future_status::ready) return {};
  return future.get();
}

}  // namespace sipsite::app
