#pragma once
// What the daemon gives the edge library (server/edge): the real federation
// links behind edge::PeerLinks, and an edge::EdgeObserver that turns the
// edge's reports into log lines, call-record media columns and the
// signaling log. Threading: the SIP strand.

#include <sipsite/edge/edge_observer.hpp>
#include <sipsite/edge/peer_links.hpp>
#include <sipsite/transport/federation_links.hpp>

namespace sipsite::app {

class SignalingTap;
class SiteRecords;

class FederationPeerLinks final : public edge::PeerLinks {
 public:
  explicit FederationPeerLinks(transport::FederationLinks& links) : links_(links) {}
  [[nodiscard]] std::optional<sip::FlowId> flow_for(const pki::Fingerprint& peer) const override;
  [[nodiscard]] std::optional<pki::Fingerprint> peer_of(sip::FlowId flow) const override;
  bool send(sip::FlowId flow, std::string bytes) override;

 private:
  transport::FederationLinks& links_;
};

class EdgeReports final : public edge::EdgeObserver {
 public:
  // Both must outlive this object.
  EdgeReports(SiteRecords& records, SignalingTap& tap) : records_(records), tap_(tap) {}
  void sdp_refused(edge::RefusedSdp where, std::string_view peer, std::string_view reason) override;
  void calls_ended_by_revocation(std::string_view peer, std::size_t count) override;
  void call_protection(std::string_view call_id, const media::CallProtection& protection) override;
  void received_from_peer(const sip::Message& message) override;

 private:
  SiteRecords& records_;
  SignalingTap& tap_;
};

}  // namespace sipsite::app
