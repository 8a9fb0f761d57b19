// What the daemon is doing now: calls in progress (with their media) and
// phone registrations.

#include "api/rest.hpp"

namespace sipsite::webadmin {

using namespace rest;

namespace {

json media_direction_json(const MediaDirection& d) {
  return {{"packets", d.packets}, {"bytes", d.bytes}, {"loss", d.loss ? json(*d.loss) : json(nullptr)}};
}

json media_leg_json(const MediaLeg& l) {
  return {{"port", l.port},           {"latched", l.latched},         {"dropped", l.dropped},
          {"relatches", l.relatches}, {"auth_failed", l.auth_failed}, {"replayed", l.replayed}};
}

// One relayed call as the API shows it: no addresses, no Call-ID.
json relayed_call_json(const RelayedCall& c) {
  json streams = json::array();
  for (const auto& s : c.streams) {
    streams.push_back({{"media", s.media},
                       {"rtcp_mux", s.rtcp_mux},
                       {"lan", media_leg_json(s.lan)},
                       {"peer", media_leg_json(s.peer)},
                       {"lan_to_peer", media_direction_json(s.lan_to_peer)},
                       {"peer_to_lan", media_direction_json(s.peer_to_lan)}});
  }
  // Who could hear it: the sites that relay it, unless the phones encrypt
  // end to end; never a network observer between the sites.
  const bool e2e = c.protection.end_to_end != "none";
  json readable = json::array();
  if (!e2e) {
    readable.push_back("this site");
    if (c.scope == "edge") readable.push_back("the peer site");
  }
  json protection = {{"inter_site", c.scope == "edge" ? (c.protection.inter_site_srtp ? "srtp" : "none") : "n/a"},
                     {"lan", c.protection.lan_srtp ? "srtp" : "plain"},
                     {"end_to_end", c.protection.end_to_end},
                     {"readable_by", std::move(readable)}};
  return {{"id", c.id},
          {"scope", c.scope},
          {"age_s", c.age_s},
          {"idle_s", c.idle_s},
          {"protection", std::move(protection)},
          {"streams", std::move(streams)}};
}

}  // namespace

// Calls in progress with peer sites (the gateway's dialogs; local calls do
// not cross it), per trusted peer, with the gateway's counters; and the
// relay's calls (local ones too, when it anchors them).
Response Api::list_calls(Call&) {
  const auto federation = live_.federation();
  if (!federation) return live_state_unavailable();
  const auto media = live_.media();
  if (!media) return live_state_unavailable();
  json peers = json::array();
  std::int64_t total = 0;
  for (const auto& p : federation->peers) {
    total += p.calls;
    peers.push_back(
        {{"domain", p.domain}, {"fingerprint", p.fingerprint}, {"calls", p.calls}, {"connected", !p.links.empty()}});
  }
  json relay = nullptr;
  if (media->relay) {
    const auto& p = media->protection;
    relay = {{"calls", media->calls},
             {"free_ports", media->free_ports},
             {"expired", media->expired},
             {"srtp",
              {{"sealed", p.sealed},
               {"opened", p.opened},
               {"auth_failed", p.auth_failed},
               {"replayed", p.replayed},
               {"unkeyed", p.unkeyed},
               {"foreign", p.foreign},
               {"refused_sdp", p.refused_sdp}}}};
  }
  json relayed = json::array();
  for (const auto& c : media->relayed) relayed.push_back(relayed_call_json(c));
  const auto& n = federation->counters;
  return json_response(Status::ok, {{"total", total},
                                    {"peers", std::move(peers)},
                                    {"counters",
                                     {{"sent", n.sent},
                                      {"received", n.received},
                                      {"refused", n.refused},
                                      {"rate_limited", n.rate_limited},
                                      {"revoked_calls", n.revoked_calls}}},
                                    {"relay", relay},
                                    {"media", std::move(relayed)}});
}

Response Api::list_registrations(Call& c) {
  if (auto bad = c.read_page(settings_.max_page)) return *bad;
  const auto regs = live_.registrations();
  if (!regs) return live_state_unavailable();
  return json_response(Status::ok, paginate(*regs, c.page, [](const Registration& r) {
                         return json{{"aor", r.aor},
                                     {"contact", r.contact},
                                     {"transport", r.transport},
                                     {"source", r.source},
                                     {"expires_in", r.expires_in}};
                       }));
}

}  // namespace sipsite::webadmin
