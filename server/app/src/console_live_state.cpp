#include "console_live_state.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <future>
#include <memory>

namespace sipsite::app {

namespace {

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return t == std::chrono::system_clock::time_point{} ? 0 : std::chrono::system_clock::to_time_t(t);
}

std::string host_port(const sip::Endpoint& ep) {
  const bool v6 = ep.host.find(':') != std::string::npos;
  return (v6 ? "[" + ep.host + "]" : ep.host) + ":" + std::to_string(ep.port);
}

}  // namespace

std::string ConsoleLiveState::metrics() { return sip_.counters().prometheus(); }

template <class T, class Work>
std::optional<T> ConsoleLiveState::on_sip_thread(Work work) {
  // A stopped loop runs nothing posted to it: say so at once.
  if (io_.stopped()) return std::nullopt;
  // Shared with the posted work, which may run after we stopped waiting.
  auto result = std::make_shared<std::promise<T>>();
  auto future = result->get_future();
  boost::asio::post(io_, [result, work = std::move(work)] { result->set_value(work()); });
  if (future.wait_for(kWait) != std::future_status::ready) return std::nullopt;
  return future.get();
}

std::optional<std::vector<webadmin::Registration>> ConsoleLiveState::registrations() {
  return on_sip_thread<std::vector<webadmin::Registration>>([this] {
    std::vector<webadmin::Registration> out;
    const auto now = std::chrono::steady_clock::now();
    for (const auto& [username, b] : sip_.location().snapshot()) {
      out.push_back({username + "@" + domain_, b.contact, std::string(sip::to_string(b.destination.endpoint.protocol)),
                     host_port(b.destination.endpoint),
                     std::chrono::duration_cast<std::chrono::seconds>(b.expires - now).count()});
    }
    return out;
  });
}

std::optional<std::vector<webadmin::PeerLinkStatus>> ConsoleLiveState::peer_links() {
  return on_sip_thread<std::vector<webadmin::PeerLinkStatus>>([this] {
    std::vector<webadmin::PeerLinkStatus> out;
    for (const auto& [fp, link] : federation_.links()) {
      std::string state(transport::to_string(link.state));
      std::replace(state.begin(), state.end(), ' ', '_');  // an identifier for the API: refused_by_peer
      out.push_back({fp.to_string(), state, unix_seconds(link.since), unix_seconds(link.last_seen),
                     static_cast<std::int64_t>(link.rtt.count()), link.detail});
    }
    return out;
  });
}

std::optional<webadmin::FederationState> ConsoleLiveState::federation() {
  return on_sip_thread<webadmin::FederationState>([this] {
    webadmin::FederationState out;
    const PeerGatewayCounters& c = gateway_.counters();
    out.counters = {c.sent, c.received, c.refused, c.rate_limited, c.revoked_calls};
    const auto links = federation_.sip_links().snapshot();
    for (const auto& [fp, domain] : gateway_.trusted_peers()) {
      webadmin::FederationPeer peer;
      peer.fingerprint = fp.to_string();
      peer.domain = domain;
      peer.calls = static_cast<std::int64_t>(gateway_.privacy().established_dialogs(domain));
      if (const auto it = links.find(fp); it != links.end()) {
        for (const auto& l : it->second) {
          peer.links.push_back(
              {std::string(transport::to_string(l.direction)), host_port(l.remote), unix_seconds(l.since), l.canonical});
        }
      }
      out.peers.push_back(std::move(peer));
    }
    return out;
  });
}

}  // namespace sipsite::app
