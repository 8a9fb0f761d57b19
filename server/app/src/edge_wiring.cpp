#include "edge_wiring.hpp"

#include "logging.hpp"
#include "signaling_tap.hpp"
#include "site_records.hpp"

namespace sipsite::app {

std::optional<sip::FlowId> FederationPeerLinks::flow_for(const pki::Fingerprint& peer) const {
  return links_.flow_for(peer);
}

std::optional<pki::Fingerprint> FederationPeerLinks::peer_of(sip::FlowId flow) const { return links_.peer_of(flow); }

bool FederationPeerLinks::send(sip::FlowId flow, std::string bytes) { return links_.send(flow, std::move(bytes)); }

void EdgeReports::sdp_refused(edge::RefusedSdp where, std::string_view peer, std::string_view reason) {
  switch (where) {
    case edge::RefusedSdp::toward_peer: logger("media")->warn("SDP towards {} not anchored: {}", peer, reason); return;
    case edge::RefusedSdp::from_peer: logger("media")->info("SDP from {} refused: {}", peer, reason); return;
    case edge::RefusedSdp::local_call: logger("media")->warn("SDP of a local call not anchored: {}", reason); return;
  }
}

void EdgeReports::calls_ended_by_revocation(std::string_view peer, std::size_t count) {
  logger("federation")->info("peer {} revoked: ending {} call(s)", peer, count);
}

void EdgeReports::call_protection(std::string_view call_id, const media::CallProtection& p) {
  records_.call_media(call_id, {p.inter_site_srtp ? "srtp" : "", p.lan_srtp ? "srtp" : "plain",
                                std::string(media::to_string(p.end_to_end))});
}

void EdgeReports::received_from_peer(const sip::Message& message) { tap_.observe("in", message); }

}  // namespace sipsite::app
