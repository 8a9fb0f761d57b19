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

// The port of an "addr:port" / "[v6]:port" string; 0 when there is none.
std::uint16_t port_of(const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos) return 0;
  unsigned long v = 0;
  for (std::size_t i = colon + 1; i < host_port.size(); ++i) {
    const char c = host_port[i];
    if (c < '0' || c > '9' || v > 65535) return 0;
    v = v * 10 + static_cast<unsigned long>(c - '0');
  }
  return v > 65535 ? 0 : static_cast<std::uint16_t>(v);
}

webadmin::MediaLeg leg_of(const media::LegStats& l) {
  // Never the parties' addresses: only the relay's own port and whether it latched.
  return {port_of(l.advertised), !l.latched.empty(), l.dropped, l.relatches, l.auth_failed, l.replayed};
}

webadmin::MediaDirection direction_of(const media::DirectionStats& d) {
  webadmin::MediaDirection out{d.packets, d.bytes, std::nullopt};
  if (d.rtp_expected > 0) out.loss = d.loss_fraction();
  return out;
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
    const edge::PeerGatewayCounters& c = gateway_.counters();
    out.counters = {c.sent, c.received, c.refused, c.rate_limited, c.revoked_calls};
    const auto links = federation_.sip_links().snapshot();
    for (const auto& [fp, domain] : gateway_.trusted_peers()) {
      webadmin::FederationPeer peer;
      peer.fingerprint = fp.to_string();
      peer.domain = domain;
      peer.calls = static_cast<std::int64_t>(gateway_.privacy().established_dialogs(domain));
      if (const auto it = links.find(fp); it != links.end()) {
        for (const auto& l : it->second) {
          peer.links.push_back({std::string(transport::to_string(l.direction)), host_port(l.remote),
                                unix_seconds(l.since), l.canonical});
        }
      }
      out.peers.push_back(std::move(peer));
    }
    return out;
  });
}

std::optional<webadmin::UnknownCertificates> ConsoleLiveState::unknown_certificates() {
  return on_sip_thread<webadmin::UnknownCertificates>([this] { return federation_.unknown_certificates(); });
}

std::optional<webadmin::MediaState> ConsoleLiveState::media() {
  return on_sip_thread<webadmin::MediaState>([this] {
    webadmin::MediaState out;
    const media::MediaRelay* relay = relay_ ? relay_() : nullptr;
    if (relay == nullptr) return out;
    out.relay = true;
    out.calls = relay->call_count();
    out.free_ports = relay->free_ports();
    out.expired = relay->expired_calls();
    const auto p = relay->protection_counters();
    out.protection = {p.sealed, p.opened, p.auth_failed, p.replayed, p.unkeyed, p.foreign, p.refused_sdp};
    for (const auto& c : relay->stats()) {
      webadmin::RelayedCall call;
      call.id = webadmin::media_call_id(c.call_key);
      call.scope = media::to_string(c.scope);
      call.protection = {c.protection.inter_site_srtp, std::string(media::to_string(c.protection.end_to_end)),
                         c.protection.lan_srtp};
      call.age_s = c.age.count();
      call.idle_s = c.idle.count();
      for (const auto& s : c.streams) {
        call.streams.push_back({s.media, s.rtcp_mux, leg_of(s.lan), leg_of(s.peer), direction_of(s.lan_to_peer),
                                direction_of(s.peer_to_lan)});
      }
      out.relayed.push_back(std::move(call));
    }
    return out;
  });
}

}  // namespace sipsite::app
