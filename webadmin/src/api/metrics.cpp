// /metrics: the daemon's counters (Prometheus text format), with the
// federation gateway's and the media relay's, and the site-wide families
// (site_metrics.hpp: build, process, certificate expiry, console latency).

#include "api/rest.hpp"
#include "site_metrics.hpp"

#include <sipsite/metrics/exposition.hpp>
#include <sipsite/store/peer_repository.hpp>

#include <utility>

namespace sipsite::webadmin {

using namespace rest;

namespace {

using metrics::label_value;

// The federation part of /metrics: the gateway's counters and, per trusted
// peer, its live calls and links.
std::string federation_metrics(const FederationState& f) {
  std::string out;
  const auto counter = [&](std::string_view name, std::string_view help, std::uint64_t v) {
    out += "# HELP " + std::string(name) + " " + std::string(help) + "\n# TYPE " + std::string(name) + " counter\n";
    out += std::string(name) + " " + std::to_string(v) + "\n";
  };
  out +=
      "# HELP sipsite_federation_messages_total SIP messages exchanged with peer sites.\n"
      "# TYPE sipsite_federation_messages_total counter\n";
  out += "sipsite_federation_messages_total{direction=\"sent\"} " + std::to_string(f.counters.sent) + "\n";
  out += "sipsite_federation_messages_total{direction=\"received\"} " + std::to_string(f.counters.received) + "\n";
  counter("sipsite_federation_refused_total",
          "Messages from or to peer sites refused by edge privacy or identity checks.", f.counters.refused);
  counter("sipsite_federation_rate_limited_total", "Requests from peer sites refused by the per-peer rate limit.",
          f.counters.rate_limited);
  counter("sipsite_federation_revoked_calls_total", "Calls ended because their peer site was revoked.",
          f.counters.revoked_calls);
  out +=
      "# HELP sipsite_federation_calls Calls established with a peer site now.\n"
      "# TYPE sipsite_federation_calls gauge\n";
  for (const auto& p : f.peers) {
    out += "sipsite_federation_calls{peer=\"" + label_value(p.domain) + "\"} " + std::to_string(p.calls) + "\n";
  }
  out +=
      "# HELP sipsite_federation_links Live mutual-TLS links with a peer site now.\n"
      "# TYPE sipsite_federation_links gauge\n";
  for (const auto& p : f.peers) {
    out += "sipsite_federation_links{peer=\"" + label_value(p.domain) + "\"} " + std::to_string(p.links.size()) + "\n";
  }
  return out;
}

// The media relay part of /metrics: its totals and the packets of the calls
// it relays now (a sum over live calls: it falls when a call ends).
std::string media_metrics(const MediaState& m) {
  std::uint64_t lan_to_peer = 0;
  std::uint64_t peer_to_lan = 0;
  for (const auto& c : m.relayed) {
    for (const auto& s : c.streams) {
      lan_to_peer += s.lan_to_peer.packets;
      peer_to_lan += s.peer_to_lan.packets;
    }
  }
  std::string out;
  out +=
      "# HELP sipsite_media_calls Calls whose media the relay carries now.\n"
      "# TYPE sipsite_media_calls gauge\n"
      "sipsite_media_calls " +
      std::to_string(m.calls) + "\n";
  out +=
      "# HELP sipsite_media_free_ports UDP ports left in the media relay's range.\n"
      "# TYPE sipsite_media_free_ports gauge\n"
      "sipsite_media_free_ports " +
      std::to_string(m.free_ports) + "\n";
  const auto& p = m.protection;
  out +=
      "# HELP sipsite_media_srtp_packets_total Packets on the SRTP leg between relays, by outcome.\n"
      "# TYPE sipsite_media_srtp_packets_total counter\n";
  for (const auto& [result, n] : {std::pair<const char*, std::uint64_t>{"sealed", p.sealed},
                                  {"opened", p.opened},
                                  {"auth_failed", p.auth_failed},
                                  {"replayed", p.replayed},
                                  {"unkeyed", p.unkeyed},
                                  {"foreign", p.foreign}}) {
    out += std::string("sipsite_media_srtp_packets_total{result=\"") + result + "\"} " + std::to_string(n) + "\n";
  }
  out +=
      "# HELP sipsite_media_unprotected_refused_total SDPs from peer sites refused for want of a usable media key.\n"
      "# TYPE sipsite_media_unprotected_refused_total counter\n"
      "sipsite_media_unprotected_refused_total " +
      std::to_string(p.refused_sdp) + "\n";
  std::uint64_t e2e_calls = 0;
  for (const auto& c : m.relayed) e2e_calls += c.protection.end_to_end != "none" ? 1 : 0;
  out +=
      "# HELP sipsite_media_end_to_end_calls Relayed calls whose phones encrypt end to end (DTLS-SRTP or ZRTP) now.\n"
      "# TYPE sipsite_media_end_to_end_calls gauge\n"
      "sipsite_media_end_to_end_calls " +
      std::to_string(e2e_calls) + "\n";
  out +=
      "# HELP sipsite_media_live_packets Packets forwarded by the relay for the calls it carries now, summed.\n"
      "# TYPE sipsite_media_live_packets gauge\n";
  out += "sipsite_media_live_packets{direction=\"lan_to_peer\"} " + std::to_string(lan_to_peer) + "\n";
  out += "sipsite_media_live_packets{direction=\"peer_to_lan\"} " + std::to_string(peer_to_lan) + "\n";
  return out;
}

// What became of the handshakes refused for an unknown certificate.
std::string unknown_certificate_metrics(const UnknownCertificates& u) {
  std::string out =
      "# HELP sipsite_federation_unknown_handshakes_total Handshakes refused for a certificate not pinned here, by "
      "what became of them.\n"
      "# TYPE sipsite_federation_unknown_handshakes_total counter\n";
  for (const auto& [outcome, n] : {std::pair{"new_request", u.new_requests}, std::pair{"repeat", u.repeats},
                                   std::pair{"ignored", u.ignored}, std::pair{"not_recorded", u.not_recorded}}) {
    out += "sipsite_federation_unknown_handshakes_total{outcome=\"" + std::string(outcome) + "\"} " +
           std::to_string(n) + "\n";
  }
  out +=
      "# HELP sipsite_federation_pending_dropped_total Pending requests dropped from the list to make room for "
      "newer ones.\n"
      "# TYPE sipsite_federation_pending_dropped_total counter\n"
      "sipsite_federation_pending_dropped_total " +
      std::to_string(u.dropped) + "\n";
  return out;
}

}  // namespace

Response Api::metrics(Call&) {
  const auto federation = live_.federation();
  if (!federation) return live_state_unavailable();
  const auto media = live_.media();
  if (!media) return live_state_unavailable();
  const auto unknown = live_.unknown_certificates();
  if (!unknown) return live_state_unavailable();
  const auto peers = store::PeerRepository(db_).list();
  if (!peers) return store_error(peers.error());
  Response res{Status::ok, 11};
  res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  res.body() = live_.metrics() + federation_metrics(*federation) + unknown_certificate_metrics(*unknown);
  if (media->relay) res.body() += media_metrics(*media);
  res.body() += site_metrics({settings_.certificate_pem, *peers, request_durations_});
  return res;
}

}  // namespace sipsite::webadmin
