#include "sipsite/media/media_relay.hpp"

#include "rtp_stats.hpp"
#include "sipsite/media/inter_site_cipher.hpp"
#include "sipsite/media/lan_srtp.hpp"
#include "sipsite/media/rtcp_privacy.hpp"
#include "sipsite/media/sdp.hpp"
#include "sipsite/media/sdp_rewrite.hpp"
#include "srtp_session.hpp"

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <array>
#include <functional>
#include <map>

namespace sipsite::media {

namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

constexpr int kLan = 0;
constexpr int kPeer = 1;
// Datagrams read per readiness event before other sockets get their turn.
constexpr int kDrainBatch = 64;
// Datagrams are read behind room for a tunnel header, so that sealing one
// for the peer relay needs no copy, and with room after for the tag.
constexpr std::size_t kHeadroom = kTunnelHeader;
constexpr std::size_t kBufferSize = 65536 + kHeadroom + kTunnelTrailer;

std::string to_string(const udp::endpoint& ep) {
  const auto a = ep.address();
  return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(ep.port());
}

std::string host_port(const std::string& address, std::uint16_t port) {
  return (address.find(':') != std::string::npos ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

std::optional<asio::ip::address> ip_of(std::string_view s) {
  error_code ec;
  auto a = asio::ip::make_address(std::string(s), ec);
  if (ec) return std::nullopt;
  return a;
}

MediaError settings_error(std::string reason) { return MediaError{MediaErrc::bad_settings, std::move(reason)}; }

// Where a leg's party receives: its latched source once known (symmetric
// RTP), else what its SDP said.
struct Latch {
  std::optional<udp::endpoint> source;
  Clock::time_point last_seen{};
  std::optional<udp::endpoint> candidate;  // a new source trying to take over
  unsigned candidate_count = 0;
};

struct Port {
  Port(asio::io_context& io, std::uint64_t id_) : socket(io), id(id_) {}
  udp::socket socket;
  std::uint64_t id;
  std::uint16_t number = 0;
  Latch latch;
};

struct Leg {
  std::unique_ptr<Port> rtp;
  std::unique_ptr<Port> rtcp;  // null: RTCP muxed on the RTP port
  std::optional<udp::endpoint> sdp_rtp;
  std::optional<udp::endpoint> sdp_rtcp;
  bool sdp_seen = false;
  bool mux = false;  // this leg's party asked for rtcp-mux in its latest SDP
  Clock::time_point window_start{};
  std::uint64_t dropped = 0;
  std::uint64_t relatches = 0;
  std::uint64_t auth_failed = 0;
  std::uint64_t replayed = 0;
};

struct Shared {
  std::vector<unsigned char> buffer = std::vector<unsigned char>(kBufferSize);
  ProtectionCounters protection;
  std::chrono::milliseconds latch_window{};
  std::chrono::milliseconds relatch_silence{};
  unsigned relatch_burst = 5;
  std::array<asio::ip::address, 4> self_addresses{};  // advertised and bound addresses
  std::uint16_t first_port = 0;
  std::uint16_t last_port = 0;
  // The relay's allocator while it lives (cleared by its destructor): only
  // ports it holds are its own. Another relay on the same address (two sites
  // on one host, as in tests and benchmarks) holds other ports of the range.
  const PortAllocator* ports = nullptr;

  // A packet to or from one of the relay's own ports would loop.
  [[nodiscard]] bool is_self(const udp::endpoint& ep) const {
    if (ep.port() < first_port || ep.port() > last_port) return false;
    if (ports != nullptr && !ports->allocated(ep.port())) return false;
    const auto a = ep.address();
    return std::any_of(self_addresses.begin(), self_addresses.end(),
                       [&](const asio::ip::address& s) { return s == a; });
  }
};

struct Stream {
  std::size_t index = 0;
  std::string media;
  std::array<Leg, 2> legs;
  std::array<DirectionStats, 2> dir;  // [kLan]: received on the LAN leg, sent to the peer
  std::array<detail::SequenceTracker, 2> seq;
  Clock::time_point last_activity{};
  bool closed = false;
  std::shared_ptr<Shared> shared;
  // Scope::edge: the peer leg's SRTP, and the CNAME the LAN party's RTCP
  // carries out of the site (empty: RTCP is left alone).
  std::unique_ptr<InterSiteCipher> tunnel;
  std::string cname;
  // What each party's latest SDP said about end-to-end encryption; while a
  // party uses its own SRTP its RTCP is encrypted and is not rewritten.
  std::array<EndToEnd, 2> e2e{EndToEnd::none, EndToEnd::none};
  // A phone's leg (kLan; kPeer too in a local call) with SDES-SRTP between
  // the phone and the relay (lan_srtp.hpp): the relay's key, and the
  // phone's once its SDP gave it. Null: plain (or the phone's own e2e).
  std::array<std::unique_ptr<SdesLeg>, 2> sdes;
  std::array<std::string, 2> crypto_tag{"1", "1"};
  std::array<bool, 2> phone_spoke{};  // the phone on this leg has sent SDP
  std::array<bool, 2> phone_savp{};   // ...with RTP/SAVP(F): SRTP mandatory
};

// A latched port drops what comes from elsewhere unread while its source is
// alive, so that a forged copy from another host cannot use up the real
// packet's place in an SRTP replay window.
bool foreign_source(const Shared& sh, const Port& port, const udp::endpoint& src, Clock::time_point now) {
  const Latch& l = port.latch;
  return l.source && *l.source != src && now - l.last_seen < sh.relatch_silence;
}

bool accept_source(const Shared& sh, Leg& leg, Port& port, bool rtcp, const udp::endpoint& src, Clock::time_point now) {
  Latch& l = port.latch;
  if (l.source && *l.source == src) {
    l.last_seen = now;
    l.candidate.reset();
    l.candidate_count = 0;
    return true;
  }
  if (sh.is_self(src)) return false;
  const auto& declared = rtcp ? leg.sdp_rtcp : leg.sdp_rtp;
  const bool in_window = now - leg.window_start <= sh.latch_window;
  const bool is_declared = declared && *declared == src;
  if (!l.source) {
    if (!in_window && !is_declared) return false;
  } else if (is_declared && in_window) {
    ++leg.relatches;  // the SDP's own address beats a guess made in the window
  } else {
    if (now - l.last_seen < sh.relatch_silence) {
      l.candidate.reset();
      l.candidate_count = 0;
      return false;
    }
    if (l.candidate && *l.candidate == src) {
      ++l.candidate_count;
    } else {
      l.candidate = src;
      l.candidate_count = 1;
    }
    if (l.candidate_count < sh.relatch_burst) return false;
    ++leg.relatches;
  }
  l.source = src;
  l.last_seen = now;
  l.candidate.reset();
  l.candidate_count = 0;
  return true;
}

// `data` has kHeadroom bytes in front of it and kTunnelTrailer after the
// datagram's `n` bytes (the shared buffer), for sealing in place.
void forward(Stream& s, int from, bool on_rtcp_port, unsigned char* data, std::size_t n) {
  Leg& out = s.legs[static_cast<std::size_t>(1 - from)];
  const auto kind = detail::classify_packet(data, n);
  // RTCP goes to the other party's RTCP port if it has one; RTCP seen on an
  // RTP port (muxed by this side before the answer said otherwise) too.
  const bool via_rtcp = out.rtcp && (on_rtcp_port || kind == detail::PacketKind::rtcp);
  Port& o = via_rtcp ? *out.rtcp : *out.rtp;
  std::optional<udp::endpoint> dest = o.latch.source;
  if (!dest) dest = via_rtcp ? out.sdp_rtcp : out.sdp_rtp;
  Leg& in = s.legs[static_cast<std::size_t>(from)];
  if (!dest || s.shared->is_self(*dest)) {
    ++in.dropped;
    return;
  }
  // Read before sealing changes the bytes; counted once sent.
  const bool is_rtp = kind == detail::PacketKind::rtp && !on_rtcp_port;
  const std::uint32_t ssrc = is_rtp ? detail::rtp_ssrc(data) : 0;
  const std::uint16_t seq = is_rtp ? detail::rtp_seq(data) : 0;
  const std::size_t plain = n;
  const unsigned char* wire = data;
  const auto out_side = static_cast<std::size_t>(1 - from);
  if (s.sdes[out_side] && kind != detail::PacketKind::other) {
    // To a phone with SDES-SRTP: encrypted for it (STUN and the like pass).
    const bool rtcp = on_rtcp_port || kind == detail::PacketKind::rtcp;
    if (s.sdes[out_side]->protect(data, n, rtcp) != LegResult::ok) {
      ++in.dropped;
      return;
    }
  }
  if (from == kLan && s.tunnel) {
    if (!s.cname.empty() && s.e2e[kLan] == EndToEnd::none && (on_rtcp_port || kind == detail::PacketKind::rtcp)) {
      n = anonymize_rtcp(data, n, kBufferSize - kHeadroom - kTunnelTrailer, s.cname);
      if (n == 0) {
        ++in.dropped;
        return;
      }
    }
    unsigned char* packet = data - kTunnelHeader;
    n = s.tunnel->seal(packet, n);
    if (n == 0) {
      ++s.shared->protection.seal_failed;
      ++in.dropped;
      return;
    }
    ++s.shared->protection.sealed;
    wire = packet;
  }
  error_code ec;
  o.socket.send_to(asio::buffer(wire, n), *dest, 0, ec);
  if (ec) {
    ++in.dropped;  // would block (socket buffer full) or unreachable: UDP loses it anyway
    return;
  }
  auto& d = s.dir[static_cast<std::size_t>(from)];
  ++d.packets;
  d.bytes += plain;
  if (is_rtp) {
    ++d.rtp_packets;
    s.seq[static_cast<std::size_t>(from)].on_packet(ssrc, seq);
  }
}

// The inter-site leg: a packet from the peer relay is opened in place before
// anything else looks at it. False: dropped (counted).
bool open_tunnel(Stream& s, Port& port, const udp::endpoint& src, unsigned char*& data, std::size_t& n,
                 Clock::time_point now) {
  Leg& leg = s.legs[kPeer];
  auto& counters = s.shared->protection;
  if (foreign_source(*s.shared, port, src, now)) {
    ++counters.foreign;
    return false;
  }
  std::size_t inner = 0;
  switch (s.tunnel->open(data, n, inner)) {
    case OpenResult::ok:
      ++counters.opened;
      data += kTunnelHeader;
      n = inner;
      return true;
    case OpenResult::not_keyed: ++counters.unkeyed; return false;
    case OpenResult::replayed:
      ++counters.replayed;
      ++leg.replayed;
      return false;
    case OpenResult::malformed:
    case OpenResult::auth_failed:
      ++counters.auth_failed;
      ++leg.auth_failed;
      return false;
  }
  return false;
}

// A phone's leg with SDES-SRTP: what it sends is decrypted in place (STUN
// and the like pass as they are). False: dropped (counted on the leg).
bool open_phone_srtp(Stream& s, int side, Port& port, bool on_rtcp_port, const udp::endpoint& src, unsigned char* data,
                     std::size_t& n, Clock::time_point now) {
  const auto kind = detail::classify_packet(data, n);
  if (kind == detail::PacketKind::other) return true;
  if (foreign_source(*s.shared, port, src, now)) return false;
  Leg& leg = s.legs[static_cast<std::size_t>(side)];
  const bool rtcp = on_rtcp_port || kind == detail::PacketKind::rtcp;
  switch (s.sdes[static_cast<std::size_t>(side)]->unprotect(data, n, rtcp)) {
    case LegResult::ok: return true;
    case LegResult::replayed: ++leg.replayed; return false;
    case LegResult::not_keyed:  // the phone has not answered the relay's offer yet
      return false;
    case LegResult::failed: ++leg.auth_failed; return false;
  }
  return false;
}

Port* port_of(Stream& s, int leg, bool rtcp) {
  auto& l = s.legs[static_cast<std::size_t>(leg)];
  return rtcp ? l.rtcp.get() : l.rtp.get();
}

void drain(Stream& s, int leg, bool rtcp) {
  Port* in = port_of(s, leg, rtcp);
  auto& buf = s.shared->buffer;
  for (int i = 0; i < kDrainBatch && in; ++i) {
    udp::endpoint src;
    error_code ec;
    unsigned char* data = buf.data() + kHeadroom;
    std::size_t n = in->socket.receive_from(asio::buffer(data, buf.size() - kHeadroom - kTunnelTrailer), src, 0, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec == asio::error::connection_refused || ec == asio::error::connection_reset) continue;  // ICMP of a send
    if (ec) break;
    const auto now = Clock::now();
    Leg& l = s.legs[static_cast<std::size_t>(leg)];
    if (leg == kPeer && s.tunnel && !open_tunnel(s, *in, src, data, n, now)) {
      ++l.dropped;
      continue;
    }
    if (s.sdes[static_cast<std::size_t>(leg)] && !open_phone_srtp(s, leg, *in, rtcp, src, data, n, now)) {
      ++l.dropped;
      continue;
    }
    if (!accept_source(*s.shared, l, *in, rtcp, src, now)) {
      ++l.dropped;
      continue;
    }
    s.last_activity = now;
    forward(s, leg, rtcp, data, n);
  }
}

// One readiness wait per socket; the handler drains what is queued (without
// a per-socket buffer) and waits again. The handler owns the stream, so a
// stream closed meanwhile is still valid memory; `id` tells a socket that
// was replaced from the one the wait was for.
void arm(const std::shared_ptr<Stream>& s, int leg, bool rtcp) {
  Port* p = port_of(*s, leg, rtcp);
  if (!p) return;
  p->socket.async_wait(udp::socket::wait_read, [s, leg, rtcp, id = p->id](const error_code& ec) {
    if (ec || s->closed) return;
    Port* now = port_of(*s, leg, rtcp);
    if (!now || now->id != id) return;
    drain(*s, leg, rtcp);
    arm(s, leg, rtcp);
  });
}

// A fresh opaque value (16 base64 characters from the CSPRNG), the CNAME of
// a call's party outside the site: per call, so that calls cannot be linked.
std::string opaque_cname() {
  std::array<std::uint8_t, 12> raw{};
  if (!detail::random_bytes(raw.data(), raw.size())) return "-";
  return detail::encode_base64(raw.data(), raw.size());
}

// What a party's SDP for one m= line says about its own encryption.
EndToEnd end_to_end_of(const Sdp& sdp, std::size_t index) {
  const auto& section = sdp.media[index];
  if (section.has_attribute("zrtp-hash") || sdp.attribute("zrtp-hash")) return EndToEnd::zrtp;
  const bool fingerprint = section.has_attribute("fingerprint") || sdp.attribute("fingerprint");
  if (fingerprint && section.m.proto.find("TLS") != std::string::npos) return EndToEnd::dtls_srtp;
  return EndToEnd::none;
}

// The peer site's key for each active m= line of its SDP; an error names the
// first line without a usable one.
Result<std::vector<std::optional<InterSiteKey>>> peer_keys(const Sdp& sdp) {
  std::vector<std::optional<InterSiteKey>> keys(sdp.media.size());
  for (std::size_t i = 0; i < sdp.media.size(); ++i) {
    if (sdp.media[i].m.port == 0) continue;
    const auto value = sdp.media[i].attribute(kInterSiteAttribute);
    keys[i] = value ? InterSiteKey::from_attribute(*value) : std::nullopt;
    if (!keys[i]) {
      return MediaError{MediaErrc::unprotected, std::string(value ? "the peer site's media key is not usable"
                                                                  : "the peer site offered no media key") +
                                                    " (a=" + std::string(kInterSiteAttribute) + " on m= line " +
                                                    std::to_string(i) + "): media between sites must be encrypted"};
    }
  }
  return keys;
}

// What a phone's SDP for one m= line asks of its leg (lan_srtp.hpp).
struct PhoneMedia {
  enum class Kind : std::uint8_t { plain, sdes, end_to_end } kind = Kind::plain;
  std::optional<CryptoOffer> crypto;  // sdes: the phone's key
  bool savp = false;                  // RTP/SAVP(F): the phone insists on SRTP
};

// Pure: decides before anything changes, so that a refusal leaves no trace.
Result<PhoneMedia> phone_media(const MediaSection& section, EndToEnd e2e, LanSrtp mode) {
  PhoneMedia out;
  out.savp = is_sdes_profile(section.m.proto);
  if (e2e != EndToEnd::none) {
    out.kind = PhoneMedia::Kind::end_to_end;
    return out;
  }
  bool any_crypto = false;
  for (const auto& l : section.lines) {
    if (l.type != 'a' || attribute_name(l.value) != "crypto") continue;
    any_crypto = true;
    if (!out.crypto) out.crypto = parse_crypto(attribute_value(l.value));
  }
  if (mode == LanSrtp::off) {
    if (out.savp)
      return MediaError{MediaErrc::bad_sdp,
                        "this site does not use SRTP with phones (media.lan_srtp = off): offer RTP/AVP"};
    return out;
  }
  if (out.crypto) {
    out.kind = PhoneMedia::Kind::sdes;
    return out;
  }
  if (out.savp || (any_crypto && mode == LanSrtp::require)) {
    return MediaError{MediaErrc::bad_sdp,
                      "no a=crypto line the relay supports (AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32 or "
                      "AEAD_AES_128_GCM, one inline key without MKI or session parameters)"};
  }
  if (mode == LanSrtp::require)
    return MediaError{MediaErrc::insecure_phone,
                      "this site requires phones to encrypt media (media.lan_srtp = require)"};
  return out;
}

struct Call {
  Scope scope = Scope::edge;
  std::string cname;                             // Scope::edge: the LAN party's CNAME outside the site
  std::vector<std::shared_ptr<Stream>> streams;  // by m= line; null: rejected
  Clock::time_point created{};
  std::array<bool, 2> seen{};  // SDP seen from [kLan], [kPeer]
  std::optional<Clock::time_point> answered;
};

}  // namespace

std::string_view to_string(Scope scope) noexcept { return scope == Scope::local ? "local" : "edge"; }

std::string_view to_string(EndToEnd e) noexcept {
  switch (e) {
    case EndToEnd::dtls_srtp: return "dtls-srtp";
    case EndToEnd::zrtp: return "zrtp";
    case EndToEnd::none: break;
  }
  return "none";
}

Result<void> validate(const RelaySettings& s) {
  if (!ip_of(s.lan_address)) return settings_error("media LAN address is not an IP address");
  if (!ip_of(s.public_address)) return settings_error("media public address is not an IP address");
  if (!s.lan_bind.empty() && !ip_of(s.lan_bind)) return settings_error("media LAN bind address is not an IP address");
  if (!s.public_bind.empty() && !ip_of(s.public_bind))
    return settings_error("media public bind address is not an IP address");
  if (s.first_port == 0 || s.first_port > s.last_port) return settings_error("media port range is empty");
  if (s.last_port - s.first_port < 3) return settings_error("media port range holds fewer than 4 ports");
  if (s.inactivity.count() <= 0 || s.setup_timeout.count() <= 0)
    return settings_error("media timeouts must be positive");
  if (s.relatch_burst == 0) return settings_error("media relatch burst must be at least 1");
  return {};
}

struct MediaRelay::Impl : std::enable_shared_from_this<MediaRelay::Impl> {
  Impl(asio::io_context& io_, RelaySettings settings_)
      : io(io_),
        settings(std::move(settings_)),
        valid(validate(settings)),
        ports(settings.first_port, settings.last_port),
        timer(io_),
        shared(std::make_shared<Shared>()) {
    if (!valid) return;
    lan_bind = *ip_of(settings.lan_bind.empty() ? settings.lan_address : settings.lan_bind);
    public_bind = *ip_of(settings.public_bind.empty() ? settings.public_address : settings.public_bind);
    shared->latch_window = settings.latch_window;
    shared->relatch_silence = settings.relatch_silence;
    shared->relatch_burst = settings.relatch_burst;
    shared->self_addresses = {*ip_of(settings.lan_address), *ip_of(settings.public_address), lan_bind, public_bind};
    shared->first_port = settings.first_port;
    shared->last_port = settings.last_port;
    shared->ports = &ports;
  }

  ~Impl() {
    shared->ports = nullptr;
    for (auto& [key, call] : calls) close_call(call);
  }

  asio::io_context& io;
  RelaySettings settings;
  Result<void> valid;
  asio::ip::address lan_bind;
  asio::ip::address public_bind;
  PortAllocator ports;
  std::map<std::string, Call, std::less<>> calls;
  asio::steady_timer timer;
  bool timer_armed = false;
  std::shared_ptr<Shared> shared;
  std::uint64_t next_port_id = 1;
  std::uint64_t expired = 0;

  // Where a leg's sockets are bound: a local call's "peer" is a phone too.
  [[nodiscard]] const asio::ip::address& bind_address(Scope scope, int side) const {
    return side == kLan || scope == Scope::local ? lan_bind : public_bind;
  }
  [[nodiscard]] const std::string& advertised_address(Scope scope, int side) const {
    return side == kLan || scope == Scope::local ? settings.lan_address : settings.public_address;
  }

  // Binds one allocated port; false (port released) when it cannot be bound.
  std::unique_ptr<Port> bind(std::uint16_t number, const asio::ip::address& addr) {
    auto p = std::make_unique<Port>(io, next_port_id++);
    p->number = number;
    error_code ec;
    p->socket.open(addr.is_v6() ? udp::v6() : udp::v4(), ec);
    if (!ec) p->socket.bind(udp::endpoint(addr, number), ec);
    if (!ec) p->socket.non_blocking(true, ec);
    if (ec) return nullptr;
    return p;
  }

  // A leg's ports: a pair (RTP, RTCP), bound. Ports that another program
  // holds are skipped (kept allocated until the call ends would leak them;
  // released, the random pick makes a retry unlikely to hit them again).
  Result<void> open_leg(Leg& leg, const asio::ip::address& addr) {
    for (int attempt = 0; attempt < 8; ++attempt) {
      auto block = ports.allocate_pair();
      if (!block) return block.error();
      auto rtp = bind(block->rtp, addr);
      auto rtcp = rtp ? bind(block->rtcp, addr) : nullptr;
      if (rtp && rtcp) {
        leg.rtp = std::move(rtp);
        leg.rtcp = std::move(rtcp);
        return {};
      }
      ports.release(*block);
    }
    return MediaError{MediaErrc::bind_failed, "media ports in the range are taken by other programs"};
  }

  Result<void> open_rtcp(Leg& leg, const asio::ip::address& addr) {
    for (int attempt = 0; attempt < 8; ++attempt) {
      auto port = ports.allocate_single();
      if (!port) return port.error();
      if (auto p = bind(*port, addr)) {
        leg.rtcp = std::move(p);
        return {};
      }
      ports.release(*port);
    }
    return MediaError{MediaErrc::bind_failed, "media ports in the range are taken by other programs"};
  }

  void close_port(std::unique_ptr<Port>& p) {
    if (!p) return;
    error_code ec;
    p->socket.close(ec);
    ports.release(p->number);
    p.reset();
  }

  void close_stream(const std::shared_ptr<Stream>& s) {
    if (!s || s->closed) return;
    s->closed = true;
    for (auto& leg : s->legs) {
      close_port(leg.rtp);
      close_port(leg.rtcp);
    }
  }

  void close_call(Call& call) {
    for (auto& s : call.streams) close_stream(s);
    call.streams.clear();
  }

  Result<std::shared_ptr<Stream>> open_stream(std::size_t index, const std::string& media, const Call& call) {
    const Scope scope = call.scope;
    auto s = std::make_shared<Stream>();
    s->index = index;
    s->media = media;
    s->shared = shared;
    if (scope == Scope::edge) {
      const auto key = InterSiteKey::generate();
      if (key) s->tunnel = InterSiteCipher::create(*key);
      if (!s->tunnel) return MediaError{MediaErrc::bad_settings, "no media key could be made for the peer site"};
      s->cname = call.cname;
    }
    const auto now = Clock::now();
    s->last_activity = now;
    for (auto& leg : s->legs) leg.window_start = now;
    if (auto r = open_leg(s->legs[kLan], bind_address(scope, kLan)); !r) {
      close_stream(s);
      return r.error();
    }
    if (auto r = open_leg(s->legs[kPeer], bind_address(scope, kPeer)); !r) {
      close_stream(s);
      return r.error();
    }
    for (int leg : {kLan, kPeer}) {
      arm(s, leg, false);
      arm(s, leg, true);
    }
    return s;
  }

  // What the SDP from a leg's party says about where it receives.
  void set_remote(Stream& s, int side, const Sdp& sdp, std::size_t index) {
    Leg& leg = s.legs[static_cast<std::size_t>(side)];
    const auto& section = sdp.media[index];
    std::optional<udp::endpoint> rtp;
    std::optional<udp::endpoint> rtcp;
    const auto c = sdp.connection_for(index);
    const auto addr = c ? ip_of(c->address) : std::nullopt;
    if (addr && !addr->is_unspecified()) rtp = udp::endpoint(*addr, section.m.port);
    const bool mux = section.rtcp_mux();
    if (mux) {
      rtcp = rtp;
    } else if (const auto r = section.rtcp()) {
      const auto raddr = r->connection ? ip_of(r->connection->address) : addr;
      if (raddr && !raddr->is_unspecified()) rtcp = udp::endpoint(*raddr, r->port);
    } else if (rtp && section.m.port < 65535) {
      rtcp = udp::endpoint(rtp->address(), static_cast<std::uint16_t>(section.m.port + 1));
    }
    if (rtp && shared->is_self(*rtp)) rtp.reset();
    if (rtcp && shared->is_self(*rtcp)) rtcp.reset();
    if (!leg.sdp_seen || rtp != leg.sdp_rtp || rtcp != leg.sdp_rtcp) {
      // New remote (or the first): what was latched belonged to the old one.
      leg.sdp_rtp = rtp;
      leg.sdp_rtcp = rtcp;
      leg.window_start = Clock::now();
      for (Port* p : {leg.rtp.get(), leg.rtcp.get()})
        if (p) p->latch = Latch{};
    }
    leg.sdp_seen = true;
    leg.mux = mux;
  }

  // What a phone's SDP chose for its leg takes effect.
  Result<void> take_phone_media(Stream& s, int side, const PhoneMedia& choice) {
    const auto i = static_cast<std::size_t>(side);
    s.phone_spoke[i] = true;
    s.phone_savp[i] = choice.savp;
    if (choice.kind != PhoneMedia::Kind::sdes) {
      s.sdes[i].reset();
      return {};
    }
    if (!s.sdes[i] || s.sdes[i]->suite() != choice.crypto->suite) s.sdes[i] = SdesLeg::create(choice.crypto->suite);
    if (!s.sdes[i] || !s.sdes[i]->set_phone_key(*choice.crypto)) {
      s.sdes[i].reset();
      return MediaError{MediaErrc::bad_sdp, "the phone's SRTP key was refused by the SRTP library"};
    }
    s.crypto_tag[i] = choice.crypto->tag;
    return {};
  }

  // The SDP going to the phone on leg `side` (not end to end): with the
  // relay's a=crypto if that phone uses SDES-SRTP, or if it has not spoken
  // yet and media.lan_srtp asks to offer it.
  Result<void> offer_to_phone(Stream& s, int side, const std::string& proto, std::vector<std::string>& attributes,
                              std::optional<std::string>& new_proto) {
    const auto i = static_cast<std::size_t>(side);
    const LanSrtp mode = settings.lan_srtp;
    if (!s.phone_spoke[i] && mode != LanSrtp::off) {
      if (!s.sdes[i]) s.sdes[i] = SdesLeg::create("AES_CM_128_HMAC_SHA1_80");
      if (!s.sdes[i]) return MediaError{MediaErrc::bad_settings, "no SRTP key could be made for the phone"};
      s.phone_savp[i] = mode == LanSrtp::require;
    }
    if (!s.sdes[i]) {
      new_proto = plain_profile(proto);
      return {};
    }
    attributes.push_back("crypto:" + s.sdes[i]->attribute(s.crypto_tag[i]));
    new_proto = s.phone_savp[i] ? secure_profile(proto) : plain_profile(proto);
    return {};
  }

  // Both parties asked for rtcp-mux: the RTCP ports go back to the pool.
  // One party stopped asking after that: RTCP ports again (advertised with
  // a=rtcp, as they are no longer next to the RTP port).
  Result<void> settle_mux(Stream& s, Scope scope) {
    const auto& [lan, peer] = s.legs;
    if (lan.sdp_seen && peer.sdp_seen && lan.mux && peer.mux) {
      for (auto& leg : s.legs) close_port(leg.rtcp);
      return {};
    }
    if ((lan.sdp_seen && !lan.mux) || (peer.sdp_seen && !peer.mux)) {
      for (int side : {kLan, kPeer}) {
        Leg& leg = s.legs[static_cast<std::size_t>(side)];
        if (leg.rtcp) continue;
        if (auto r = open_rtcp(leg, bind_address(scope, side)); !r) return r;
        leg.rtcp->latch = Latch{};
      }
    }
    return {};
  }

  void arm_new_rtcp(const std::shared_ptr<Stream>& s, const std::array<std::uint64_t, 2>& before) {
    for (int side : {kLan, kPeer}) {
      const Port* p = s->legs[static_cast<std::size_t>(side)].rtcp.get();
      if (p && p->id != before[static_cast<std::size_t>(side)]) arm(s, side, true);
    }
  }

  Result<std::string> rewrite(std::string_view key, Side from, std::string_view text, Scope scope) {
    if (!valid) return valid.error();
    auto it = calls.find(key);
    // A key is one call: a message of the other scope that happens to carry
    // it (a Call-ID chosen to collide) must not move that call's media.
    if (it != calls.end() && it->second.scope != scope) {
      return MediaError{MediaErrc::bad_plan, "the call key belongs to a call of another scope"};
    }
    auto parsed = parse_sdp(text);
    if (!parsed) return parsed.error();
    Sdp& sdp = *parsed;
    const int side = from == Side::lan ? kLan : kPeer;
    const int other = 1 - side;
    const auto now = Clock::now();
    // Checked before anything changes: a refused SDP leaves no trace.
    const bool inter_site = scope == Scope::edge;
    std::vector<std::optional<InterSiteKey>> keys;
    if (inter_site && from == Side::peer) {
      auto k = peer_keys(sdp);
      if (!k) {
        ++shared->protection.refused_sdp;
        return k.error();
      }
      keys = std::move(*k);
    }
    // A phone's own choice for its leg (SDES, plain, or end to end).
    const bool from_phone = from == Side::lan || scope == Scope::local;
    const bool to_phone = from == Side::peer || scope == Scope::local;
    std::vector<EndToEnd> e2e(sdp.media.size());
    for (std::size_t i = 0; i < sdp.media.size(); ++i) e2e[i] = end_to_end_of(sdp, i);
    std::vector<PhoneMedia> phone(sdp.media.size());
    if (from_phone) {
      for (std::size_t i = 0; i < sdp.media.size(); ++i) {
        if (sdp.media[i].m.port == 0) continue;
        auto choice = phone_media(sdp.media[i], e2e[i], settings.lan_srtp);
        if (!choice) return choice.error();
        phone[i] = std::move(*choice);
      }
    }

    const bool created = it == calls.end();
    if (created) {
      it = calls.emplace(std::string(key), Call{}).first;
      it->second.created = now;
      it->second.scope = scope;
      if (inter_site) it->second.cname = opaque_cname();
    }
    Call& call = it->second;
    std::vector<std::shared_ptr<Stream>> fresh;
    const auto fail = [&](MediaError e) -> Result<std::string> {
      for (auto& s : fresh) {
        close_stream(s);
        std::replace(call.streams.begin(), call.streams.end(), s, std::shared_ptr<Stream>{});
      }
      if (created) calls.erase(it);
      return e;
    };

    RewritePlan plan;
    plan.address = advertised_address(scope, other);
    plan.anchor = true;
    // A local call's SDP stays in the LAN: nothing to hide from its phones.
    plan.anonymize_origin = scope == Scope::edge && from == Side::lan && settings.anonymize_origin;
    plan.keep_public_candidates = scope == Scope::edge && settings.offer_public_candidates;
    plan.streams.resize(sdp.media.size());
    if (inter_site) {
      // No phone may send or see the relays' keys; what leaves gets ours.
      plan.remove_attributes.emplace_back(kInterSiteAttribute);
      if (from == Side::lan) {
        plan.add_attributes.resize(sdp.media.size());
        plan.cname = call.cname;
      }
    }
    // A phone's SDES keys stay on its own leg; the other leg gets the
    // relay's choice for it (and the profile that goes with it).
    plan.remove_attributes.emplace_back("crypto");
    plan.add_attributes.resize(sdp.media.size());
    plan.protos.resize(sdp.media.size());
    if (call.streams.size() < sdp.media.size()) call.streams.resize(sdp.media.size());

    for (std::size_t i = 0; i < sdp.media.size(); ++i) {
      if (sdp.media[i].m.port == 0) continue;
      auto& slot = call.streams[i];
      if (!slot) {
        auto s = open_stream(i, sdp.media[i].m.media, call);
        if (!s) return fail(s.error());
        slot = *s;
        fresh.push_back(slot);
      }
      const std::array<std::uint64_t, 2> rtcp_before{slot->legs[kLan].rtcp ? slot->legs[kLan].rtcp->id : 0,
                                                     slot->legs[kPeer].rtcp ? slot->legs[kPeer].rtcp->id : 0};
      set_remote(*slot, side, sdp, i);
      slot->e2e[static_cast<std::size_t>(side)] = e2e[i];
      if (auto r = settle_mux(*slot, scope); !r) return fail(r.error());
      arm_new_rtcp(slot, rtcp_before);
      const Leg& out = slot->legs[static_cast<std::size_t>(other)];
      plan.streams[i] = StreamEndpoint{out.rtp->number, out.rtcp ? out.rtcp->number : out.rtp->number};
      if (slot->tunnel && from == Side::lan)
        plan.add_attributes[i].push_back(std::string(kInterSiteAttribute) + ":" +
                                         slot->tunnel->send_key().to_attribute());
      if (from_phone) {
        if (auto r = take_phone_media(*slot, side, phone[i]); !r) return fail(r.error());
      }
      const bool own_encryption = e2e[i] != EndToEnd::none;
      if (!own_encryption) plan.protos[i] = plain_profile(sdp.media[i].m.proto);
      if (to_phone && !own_encryption) {
        if (auto r = offer_to_phone(*slot, other, sdp.media[i].m.proto, plan.add_attributes[i], plan.protos[i]); !r)
          return fail(r.error());
      }
    }
    if (auto r = rewrite_sdp(sdp, plan); !r) return fail(r.error());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (!keys[i] || !call.streams[i] || !call.streams[i]->tunnel) continue;
      if (!call.streams[i]->tunnel->set_peer_key(*keys[i]))
        return fail(MediaError{MediaErrc::unprotected, "the peer site's media key was refused by the SRTP library"});
    }

    // Committed: streams this SDP rejects (port 0) or no longer lists go.
    for (std::size_t i = 0; i < call.streams.size(); ++i) {
      if (i < sdp.media.size() && sdp.media[i].m.port != 0) continue;
      close_stream(call.streams[i]);
      call.streams[i].reset();
    }
    call.streams.resize(sdp.media.size());
    call.seen[static_cast<std::size_t>(side)] = true;
    if (call.seen[kLan] && call.seen[kPeer] && !call.answered) call.answered = now;
    arm_timer();
    return serialize(sdp);
  }

  void end(std::string_view key) {
    const auto it = calls.find(key);
    if (it == calls.end()) return;
    close_call(it->second);
    calls.erase(it);
  }

  [[nodiscard]] Clock::time_point last_activity(const Call& call) const {
    Clock::time_point t = call.answered.value_or(call.created);
    for (const auto& s : call.streams)
      if (s) t = std::max(t, s->last_activity);
    return t;
  }

  void sweep() {
    const auto now = Clock::now();
    for (auto it = calls.begin(); it != calls.end();) {
      const Call& call = it->second;
      const bool idle = call.answered ? now - last_activity(call) >= settings.inactivity
                                      : now - call.created >= settings.setup_timeout;
      if (idle) {
        close_call(it->second);
        it = calls.erase(it);
        ++expired;
      } else {
        ++it;
      }
    }
  }

  void arm_timer() {
    if (timer_armed || calls.empty()) return;
    const auto shortest = std::min(settings.inactivity, settings.setup_timeout);
    const auto period = std::clamp<std::chrono::milliseconds>(shortest / 4, std::chrono::milliseconds(10),
                                                              std::chrono::milliseconds(1000));
    timer_armed = true;
    timer.expires_after(period);
    timer.async_wait([weak = weak_from_this()](const error_code& ec) {
      const auto self = weak.lock();
      if (!self) return;
      self->timer_armed = false;
      if (ec) return;
      self->sweep();
      self->arm_timer();
    });
  }

  [[nodiscard]] CallStats call_stats(const std::string& key, const Call& call) const {
    const auto now = Clock::now();
    CallStats cs;
    cs.call_key = key;
    cs.scope = call.scope;
    cs.protection.inter_site_srtp = call.scope == Scope::edge;
    bool first = true;
    cs.age = std::chrono::duration_cast<std::chrono::seconds>(now - call.created);
    cs.idle = std::chrono::duration_cast<std::chrono::seconds>(now - last_activity(call));
    for (const auto& s : call.streams) {
      if (!s) continue;
      StreamStats st;
      st.index = s->index;
      st.media = s->media;
      st.rtcp_mux = !s->legs[kLan].rtcp && !s->legs[kPeer].rtcp;
      for (int side : {kLan, kPeer}) {
        const Leg& leg = s->legs[static_cast<std::size_t>(side)];
        LegStats& ls = side == kLan ? st.lan : st.peer;
        const std::string& addr = advertised_address(call.scope, side);
        if (leg.rtp) ls.advertised = host_port(addr, leg.rtp->number);
        if (leg.sdp_rtp) ls.sdp_remote = to_string(*leg.sdp_rtp);
        if (leg.rtp && leg.rtp->latch.source) ls.latched = to_string(*leg.rtp->latch.source);
        ls.dropped = leg.dropped;
        ls.relatches = leg.relatches;
        ls.auth_failed = leg.auth_failed;
        ls.replayed = leg.replayed;
        const auto& sdes = s->sdes[static_cast<std::size_t>(side)];
        ls.srtp = sdes && sdes->keyed();
        DirectionStats& d = side == kLan ? st.lan_to_peer : st.peer_to_lan;
        d = s->dir[static_cast<std::size_t>(side)];
        const auto& seq = s->seq[static_cast<std::size_t>(side)];
        d.rtp_expected = seq.expected();
        d.rtp_lost = seq.lost();
      }
      // End to end only if both parties said so for every stream.
      const EndToEnd agreed = s->e2e[kLan] == s->e2e[kPeer] ? s->e2e[kLan] : EndToEnd::none;
      cs.protection.end_to_end = first || cs.protection.end_to_end == agreed ? agreed : EndToEnd::none;
      const bool lan_ok = agreed != EndToEnd::none || (st.lan.srtp && (call.scope == Scope::edge || st.peer.srtp));
      cs.protection.lan_srtp = (first || cs.protection.lan_srtp) && lan_ok;
      first = false;
      cs.streams.push_back(std::move(st));
    }
    return cs;
  }
};

MediaRelay::MediaRelay(asio::io_context& io, RelaySettings settings)
    : impl_(std::make_shared<Impl>(io, std::move(settings))) {}

MediaRelay::~MediaRelay() = default;

Result<std::string> MediaRelay::rewrite(std::string_view call_key, Side from, std::string_view sdp, Scope scope) {
  return impl_->rewrite(call_key, from, sdp, scope);
}

void MediaRelay::end(std::string_view call_key) { impl_->end(call_key); }

std::vector<CallStats> MediaRelay::stats() const {
  std::vector<CallStats> out;
  out.reserve(impl_->calls.size());
  for (const auto& [key, call] : impl_->calls) out.push_back(impl_->call_stats(key, call));
  return out;
}

std::optional<CallStats> MediaRelay::stats(std::string_view call_key) const {
  const auto it = impl_->calls.find(call_key);
  if (it == impl_->calls.end()) return std::nullopt;
  return impl_->call_stats(it->first, it->second);
}

std::optional<CallProtection> MediaRelay::protection(std::string_view call_key) const {
  const auto it = impl_->calls.find(call_key);
  if (it == impl_->calls.end()) return std::nullopt;
  return impl_->call_stats(it->first, it->second).protection;
}

std::size_t MediaRelay::call_count() const { return impl_->calls.size(); }

std::size_t MediaRelay::free_ports() const { return impl_->ports.free_ports(); }

std::uint64_t MediaRelay::expired_calls() const { return impl_->expired; }

ProtectionCounters MediaRelay::protection_counters() const { return impl_->shared->protection; }

}  // namespace sipsite::media
