#pragma once
// The RTP/RTCP relay that anchors the media of calls crossing the site edge
// and, by a setting, of local calls (phone to phone on the site's LAN).
//
// Each call (an opaque key chosen by the gateway, e.g. the dialog's Call-ID
// on the link) has one stream per m= line. A stream has two legs:
//   - the LAN leg, bound on RelaySettings::lan_bind, advertised to the phone
//     as lan_address:port;
//   - the peer leg, bound on public_bind, advertised to the peer site as
//     public_address:port. In a call of Scope::local the "peer" is the other
//     phone: that leg is bound on lan_bind and advertised as lan_address too,
//     and the origin is never anonymized (nothing leaves the LAN).
// What arrives on one leg from its remote goes out of the other leg to that
// leg's remote: RTP port to RTP port, RTCP port to RTCP port (to the RTP port
// when the other leg muxes). Phones' payloads are never looked into beyond
// the RTP header (for loss statistics): SRTP, ZRTP, DTLS and STUN pass
// untouched.
//
// A phone's leg is SDES-SRTP when the phone offers it or answers the
// relay's offer of it (media.lan_srtp, lan_srtp.hpp); the relay terminates
// it on that leg, so a phone's keys never reach the other side.
//
// Between two sites (Scope::edge) the peer leg is always encrypted and
// authenticated (inter_site_cipher.hpp): each stream has a fresh key per
// direction, sent to the peer relay in the SDP (a=sipsite-srtp) over the
// pinned federation link; what the phone sends is sealed into a tunnel
// packet, what comes from the peer relay must open under the peer's key or
// is dropped and counted (forged, tampered, replayed, or not yet keyed).
// Only packets that open can latch the peer leg. An SDP from the peer site
// without a usable key on every active m= line is refused (unprotected,
// 488): media never crosses between sites in clear. On the way out, plain
// RTCP loses its SDES items but an opaque per-call CNAME (rtcp_privacy.hpp)
// and SDP a=ssrc cname: values become that CNAME too.
//
// Remote addresses come first from the SDP each side sent (c=, m=, a=rtcp),
// then from symmetric latching (RFC 7362): the relay answers to where
// packets really come from, which is what works for phones behind a further
// NAT. The hijack guard:
//   - a leg latches to the first source it hears within `latch_window` of
//     the SDP that described its remote (offer/answer or re-INVITE); after
//     the window, only the exact SDP address:port can latch it;
//   - within the window, a packet from the exact SDP address:port takes the
//     latch over from any other source (declared beats guessed);
//   - once latched, packets from other sources are dropped (counted), unless
//     the latched source has been silent for `relatch_silence` AND one new
//     source sends `relatch_burst` packets in a row: then the leg re-latches
//     to it (a NAT rebinding mid-call, e.g. after hold). Until then the
//     new source's packets are dropped.
//
// Streams are freed by end(call key), when a later SDP rejects them (port
// 0), when a call has had no packet on any leg for `inactivity` after both
// sides' SDP were seen, or after `setup_timeout` when only one side's SDP
// ever was (a call that never got answered).
//
// Threading: every member function must be called on the thread that runs
// the io_context given to the constructor (the daemon's one I/O thread).
// Destroying the relay closes every socket; the io_context may outlive it.

#include "sipsite/media/lan_srtp.hpp"
#include "sipsite/media/media_error.hpp"
#include "sipsite/media/port_allocator.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::media {

struct RelaySettings {
  // Advertised in SDP (IP literals): to the phones, and to peer sites (the
  // site's public address as seen through its NAT's port forwards).
  std::string lan_address;
  std::string public_address;
  // Where the legs' sockets are bound; empty: the advertised address.
  // Behind a NAT, public_bind is the WAN-side interface (or 0.0.0.0).
  std::string lan_bind;
  std::string public_bind;
  std::uint16_t first_port = 40000;
  std::uint16_t last_port = 40999;
  std::chrono::milliseconds inactivity{std::chrono::seconds(60)};
  std::chrono::milliseconds setup_timeout{std::chrono::minutes(5)};
  std::chrono::milliseconds latch_window{std::chrono::seconds(10)};
  std::chrono::milliseconds relatch_silence{std::chrono::seconds(5)};
  unsigned relatch_burst = 5;
  // In SDP sent to the peer site, the o= username becomes "-" (the o=
  // address is always the relay's).
  bool anonymize_origin = true;
  // Calls with other sites: also pass on the parties' ICE candidates that
  // have a public IP address (after the relay's own), so that ICE-capable
  // phones may go direct. Off (safe): the relay is the only candidate and
  // peers learn no address of a phone at all. Private candidates never pass.
  bool offer_public_candidates = false;
  // SDES-SRTP between the relay and the site's phones (lan_srtp.hpp).
  LanSrtp lan_srtp = LanSrtp::offer;
};

// Checks addresses (IP literals, bindable families) and the port range.
[[nodiscard]] Result<void> validate(const RelaySettings& settings);

// Which side SENT the SDP passed to rewrite(). In a local call, `lan` is
// the party the caller of rewrite() chose for it (e.g. the calling phone)
// and `peer` the other phone.
enum class Side : std::uint8_t { lan, peer };

// Where a call's parties are: `edge`, a phone and a peer site (the peer leg
// on the public side); `local`, two phones of the site (both legs on the LAN).
// Fixed by the call's first rewrite().
enum class Scope : std::uint8_t { edge, local };

[[nodiscard]] std::string_view to_string(Scope scope) noexcept;

struct DirectionStats {
  std::uint64_t packets = 0;       // forwarded
  std::uint64_t bytes = 0;         // forwarded, UDP payload
  std::uint64_t rtp_packets = 0;   // of those, recognised as RTP (not RTCP/STUN/DTLS/ZRTP)
  std::uint64_t rtp_expected = 0;  // from sequence numbers (RFC 3550 A.3), per SSRC, summed
  std::uint64_t rtp_lost = 0;      // expected - received, never negative
  [[nodiscard]] double loss_fraction() const {
    return rtp_expected == 0 ? 0.0 : static_cast<double>(rtp_lost) / static_cast<double>(rtp_expected);
  }
};

struct LegStats {
  std::string advertised;     // "addr:port" as put in the SDP sent to this leg's party
  std::string sdp_remote;     // "addr:port" from the SDP this leg's party sent ("" unknown)
  std::string latched;        // "addr:port" of the latched RTP source ("" not yet)
  std::uint64_t dropped = 0;  // from sources not accepted (hijack guard), or with nowhere to go
  std::uint64_t relatches = 0;
  // The inter-site leg only: packets that did not open (also in `dropped`).
  std::uint64_t auth_failed = 0;  // forged, tampered with, or not tunnel packets
  std::uint64_t replayed = 0;
  // A phone's leg: SDES-SRTP between the phone and the relay, keyed both ways.
  bool srtp = false;
};

// Who could hear a call's media, as far as the relay can tell.
enum class EndToEnd : std::uint8_t {
  none,       // the phones' media is readable by the sites that relay it
  dtls_srtp,  // both parties' SDP: DTLS-SRTP (a=fingerprint on a UDP/TLS profile)
  zrtp,       // both parties' SDP: a=zrtp-hash
};
[[nodiscard]] std::string_view to_string(EndToEnd e) noexcept;

struct CallProtection {
  // Scope::edge: the leg between the two relays is SRTP (always, or the
  // call is refused); Scope::local has no such leg.
  bool inter_site_srtp = false;
  EndToEnd end_to_end = EndToEnd::none;  // the weakest over the call's streams
  // Every phone leg of every stream is SRTP (SDES with the relay) or end to
  // end: nothing of the call is in clear on the site's LAN either.
  bool lan_srtp = false;
};

struct StreamStats {
  std::size_t index = 0;  // m= line
  std::string media;      // "audio", "video", ...
  bool rtcp_mux = false;
  LegStats lan;
  LegStats peer;
  DirectionStats lan_to_peer;
  DirectionStats peer_to_lan;
};

struct CallStats {
  std::string call_key;
  Scope scope = Scope::edge;
  CallProtection protection;
  std::chrono::seconds age{0};
  std::chrono::seconds idle{0};  // since the last packet on any leg (or since setup)
  std::vector<StreamStats> streams;
};

// Relay-wide counters of the inter-site leg, since the relay started.
struct ProtectionCounters {
  std::uint64_t sealed = 0;       // packets sent encrypted to peer relays
  std::uint64_t opened = 0;       // packets from peer relays that authenticated
  std::uint64_t auth_failed = 0;  // dropped: forged, tampered, another key, not a tunnel packet
  std::uint64_t replayed = 0;     // dropped: a sequence number already seen
  std::uint64_t unkeyed = 0;      // dropped: arrived before the peer's key (its SDP)
  std::uint64_t foreign = 0;      // dropped unread: from a source other than the latched peer relay
  std::uint64_t seal_failed = 0;  // not sent: the cipher refused (never expected)
  std::uint64_t refused_sdp = 0;  // SDPs from peer sites refused for want of a usable key
};

// What the SIP side asks of the relay (server/edge): anchor an SDP, end a
// call, say who could hear it. MediaRelay is the real one; a fuzzer or a
// test may rewrite without sockets.
class SdpAnchor {
 public:
  virtual ~SdpAnchor() = default;
  // As MediaRelay::rewrite().
  [[nodiscard]] virtual Result<std::string> rewrite(std::string_view call_key, Side from, std::string_view sdp,
                                                    Scope scope) = 0;
  // Frees the call's streams. Unknown keys are ignored.
  virtual void end(std::string_view call_key) = 0;
  // nullopt: no such call (ended, or expired by the relay's own timeouts).
  [[nodiscard]] virtual std::optional<CallProtection> protection(std::string_view call_key) const = 0;
};

class MediaRelay final : public SdpAnchor {
 public:
  // Precondition: validate(settings) succeeded (otherwise every rewrite()
  // fails with bad_settings).
  MediaRelay(boost::asio::io_context& io, RelaySettings settings);
  ~MediaRelay() override;
  MediaRelay(const MediaRelay&) = delete;
  MediaRelay& operator=(const MediaRelay&) = delete;

  // Rewrites `sdp`, sent by `from`, for the other side, creating or updating
  // the call's streams: the result advertises public_address and peer-leg
  // ports (from == lan), or lan_address and LAN-leg ports (from == peer);
  // in a call of Scope::local, lan_address either way. Offer and answer
  // both pass here (retransmissions and re-INVITEs too; the same m= line
  // keeps its ports). `scope` applies when this creates the call. Errors:
  // bad_sdp (488) with a reason, unprotected (488) for an SDP from the peer
  // site (Scope::edge) without a usable relay key on an active m= line,
  // ports_exhausted / bind_failed (503),
  // bad_plan (500) when the key belongs to a call of the other scope (that
  // call is left untouched); on error no stream (or call) that this SDP
  // would have created is left behind.
  [[nodiscard]] Result<std::string> rewrite(std::string_view call_key, Side from, std::string_view sdp,
                                            Scope scope = Scope::edge) override;

  // Frees the call's streams and ports. Unknown keys are ignored.
  void end(std::string_view call_key) override;
  [[nodiscard]] std::optional<CallProtection> protection(std::string_view call_key) const override;

  [[nodiscard]] std::vector<CallStats> stats() const;
  [[nodiscard]] std::optional<CallStats> stats(std::string_view call_key) const;
  [[nodiscard]] std::size_t call_count() const;
  [[nodiscard]] std::size_t free_ports() const;

  // Calls freed by the inactivity/setup timeouts so far.
  [[nodiscard]] std::uint64_t expired_calls() const;
  [[nodiscard]] ProtectionCounters protection_counters() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace sipsite::media
