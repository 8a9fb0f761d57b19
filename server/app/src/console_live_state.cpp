#include "console_live_state.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <future>
#include <memory>

namespace sipsite::app {

std::string ConsoleLiveState::metrics() { return sip_.counters().prometheus(); }

template <class T, class Work>
T ConsoleLiveState::on_sip_thread(Work work) {
  auto result = std::make_shared<std::promise<T>>();
  auto future = result->get_future();
  boost::asio::post(io_, [result, work = std::move(work)] { result->set_value(work()); });
  // The SIP thread is busy or stopping: answer empty rather than hang the console.
  if (future.wait_for(kWait) != std::future_status::ready) return {};
  return future.get();
}

std::vector<webadmin::Registration> ConsoleLiveState::registrations() {
  return on_sip_thread<std::vector<webadmin::Registration>>([this] {
    std::vector<webadmin::Registration> out;
    const auto now = std::chrono::steady_clock::now();
    for (const auto& [username, b] : sip_.location().snapshot()) {
      const auto& ep = b.destination.endpoint;
      const bool v6 = ep.host.find(':') != std::string::npos;
      out.push_back({username + "@" + domain_, b.contact, std::string(sip::to_string(ep.protocol)),
                     (v6 ? "[" + ep.host + "]" : ep.host) + ":" + std::to_string(ep.port),
                     std::chrono::duration_cast<std::chrono::seconds>(b.expires - now).count()});
    }
    return out;
  });
}

std::vector<webadmin::PeerLinkStatus> ConsoleLiveState::peer_links() {
  return on_sip_thread<std::vector<webadmin::PeerLinkStatus>>([this] {
    std::vector<webadmin::PeerLinkStatus> out;
    const auto unix = [](std::chrono::system_clock::time_point t) -> std::int64_t {
      return t == std::chrono::system_clock::time_point{} ? 0 : std::chrono::system_clock::to_time_t(t);
    };
    for (const auto& [fp, link] : federation_.links()) {
      std::string state(transport::to_string(link.state));
      std::replace(state.begin(), state.end(), ' ', '_');  // an identifier for the API: refused_by_peer
      out.push_back({fp.to_string(), state, unix(link.since),
                     unix(link.last_seen), static_cast<std::int64_t>(link.rtt.count()), link.detail});
    }
    return out;
  });
}

}  // namespace sipsite::app
