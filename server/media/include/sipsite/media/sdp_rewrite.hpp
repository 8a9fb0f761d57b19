#pragma once
// Rewriting an SDP so that media goes through the relay (anchoring) and no
// LAN address leaves the site (seed sip-privacy-threats.txt, DESIGN.md threat
// model 5). Sans-I/O; pure functions on a parsed Sdp.

#include "sipsite/media/media_error.hpp"
#include "sipsite/media/sdp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::media {

enum class AddressClass : std::uint8_t {
  public_ip,   // a global unicast IP literal
  private_ip,  // RFC 1918, CGNAT 100.64/10, loopback, link-local, ULA fc00::/7, unspecified, ...
  local_name,  // an mDNS name (*.local), as WebRTC stacks put in candidates
  hostname,    // another name: not known to be public
  invalid,
};
// IPv4-mapped IPv6 addresses are classified as the IPv4 address they carry.
[[nodiscard]] AddressClass classify_address(std::string_view address);
// True for everything but a public IP literal: names are withheld too, since
// a LAN name says as much about a site as a LAN address.
[[nodiscard]] bool is_private_address(std::string_view address);

// The relay ports advertised for one m= line. rtcp_port == rtp_port: RTCP
// is muxed on the RTP port (RFC 5761) and a=rtcp, if present, says so.
struct StreamEndpoint {
  std::uint16_t rtp_port = 0;
  std::uint16_t rtcp_port = 0;
};

struct RewritePlan {
  // The relay address (IP literal) for o=, c= and the relay candidate.
  std::string address;
  // One entry per m= line. A stream whose m= port is not 0 needs an
  // endpoint (else bad_plan); a rejected stream (port 0) keeps port 0 and
  // needs none (its c=/a=rtcp addresses still become the relay's).
  std::vector<std::optional<StreamEndpoint>> streams;
  // Media goes through the relay: o=, c= (session and media level), m=
  // ports and a=rtcp are rewritten; every a=candidate and
  // a=remote-candidates goes, and where the stream had candidates one host
  // candidate per component for the relay replaces them (ufrag/pwd kept).
  // False: only candidate stripping (and the origin) below apply.
  bool anchor = true;
  // With anchoring: the candidates with a public IP address (raddr/rport
  // hidden as below) are kept too, after the relay's, so that ICE-capable
  // phones with public addresses may reach each other directly. Private
  // ones go whatever this says.
  bool keep_public_candidates = false;
  // Without anchoring: drop candidates whose address is not a public IP
  // (and unparsable ones); a public candidate's private raddr/rport become
  // 0.0.0.0/0 (RFC 8839 allows hiding them).
  bool strip_private_candidates = true;
  // o= username becomes "-" and its address the relay's (session id and
  // version are kept: the far end uses them to spot changed offers); s=
  // becomes "-", and u=, e=, p= and session i= lines are removed.
  bool anonymize_origin = true;
  // Attributes removed by name from the session and every m= section: the
  // relays' own key attribute, which no phone may send or be shown.
  std::vector<std::string> remove_attributes;
  // Attribute values ("name:value") appended to each m= section that is not
  // rejected; indexed like the m= lines (shorter: none for the rest).
  std::vector<std::vector<std::string>> add_attributes;
  // New transport profiles (m= proto, e.g. RTP/SAVP -> RTP/AVP), indexed
  // like the m= lines; nullopt or shorter: unchanged.
  std::vector<std::optional<std::string>> protos;
  // Replaces the CNAME of every a=ssrc:<id> cname:<value> line (RFC 5576),
  // which phones often make from their user and private address.
  std::optional<std::string> cname;
};

// Rewrites `sdp` in place. On error `sdp` may be partly rewritten.
[[nodiscard]] Result<void> rewrite_sdp(Sdp& sdp, const RewritePlan& plan);

// The priority RFC 8445 §5.1.2.1 gives a host candidate (type preference
// 126, local preference 65535) for `component`.
[[nodiscard]] std::uint32_t host_candidate_priority(std::uint32_t component);

}  // namespace sipsite::media
