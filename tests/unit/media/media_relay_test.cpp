// The relay on loopback UDP: the "phone" and the "peer site" are sockets on
// 127.0.0.1; the relay's LAN leg is bound on 127.0.0.1 and its public leg on
// 127.0.0.2 (both loopback), so the test sees which leg advertised what.
// The io_context runs in bounded run_for slices; nothing asserts timing
// (waits are "at least", never "at most").

#include "sipsite/media/inter_site_cipher.hpp"
#include "sipsite/media/lan_srtp.hpp"
#include "sipsite/media/media_relay.hpp"
#include "sipsite/media/sdp.hpp"

#include <boost/asio/ip/udp.hpp>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <optional>
#include <string>

namespace sipsite::media {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using namespace std::chrono_literals;

// Outside Linux's ephemeral range (32768-60999), so the test's own sockets
// never land in the relay's range.
constexpr std::uint16_t kFirst = 23000;
constexpr std::uint16_t kLast = 23999;
const auto kLanIp = asio::ip::make_address("127.0.0.1");
const auto kPublicIp = asio::ip::make_address("127.0.0.2");

struct Datagram {
  udp::endpoint from;
  std::string bytes;
};

// A phone, or (with a tunnel) the peer site's relay: what it sends is
// sealed under its own key and what it receives must open under the key the
// relay under test put in its SDP, as a real peer relay does.
class Party {
 public:
  explicit Party(asio::io_context& io) : socket_(io, udp::endpoint(kLanIp, 0)) { socket_.non_blocking(true); }
  [[nodiscard]] std::uint16_t port() const { return socket_.local_endpoint().port(); }
  void send(const asio::ip::address& ip, std::uint16_t port, std::string_view bytes) {
    if (tunnel_) {
      std::string packet(kTunnelHeader + bytes.size() + kTunnelTrailer, '\0');
      std::copy(bytes.begin(), bytes.end(), packet.begin() + kTunnelHeader);
      const auto n = tunnel_->seal(reinterpret_cast<unsigned char*>(packet.data()), bytes.size());
      ASSERT_NE(n, 0U);
      packet.resize(n);
      send_raw(ip, port, packet);
      return;
    }
    send_raw(ip, port, bytes);
  }
  void send_raw(const asio::ip::address& ip, std::uint16_t port, std::string_view bytes) {
    socket_.send_to(asio::buffer(bytes.data(), bytes.size()), udp::endpoint(ip, port));
  }
  // A datagram as it arrived (sealed, for a peer relay).
  std::optional<Datagram> try_receive_raw() {
    std::array<char, 2048> buf{};
    udp::endpoint from;
    boost::system::error_code ec;
    const auto n = socket_.receive_from(asio::buffer(buf), from, 0, ec);
    if (ec) return std::nullopt;
    return Datagram{from, std::string(buf.data(), n)};
  }
  // A datagram as the party reads it: opened, for a peer relay (one that
  // does not open is a failure of the relay under test).
  std::optional<Datagram> try_receive() {
    auto d = try_receive_raw();
    if (!d || !tunnel_) return d;
    std::size_t inner = 0;
    const auto r = tunnel_->open(reinterpret_cast<unsigned char*>(d->bytes.data()), d->bytes.size(), inner);
    EXPECT_EQ(r, OpenResult::ok) << to_string(r);
    if (r != OpenResult::ok) return std::nullopt;
    d->bytes = d->bytes.substr(kTunnelHeader, inner);
    return d;
  }

  // Makes this party a peer site's relay with a fresh key.
  Party& as_peer_relay() {
    tunnel_ = InterSiteCipher::create(*InterSiteKey::generate());
    return *this;
  }
  // The SDP line that gives the relay under test this party's key.
  [[nodiscard]] std::string key_line() const {
    return tunnel_ ? "a=" + std::string(kInterSiteAttribute) + ":" + tunnel_->send_key().to_attribute() + "\r\n" : "";
  }
  // Takes the relay's key from the SDP it sent towards the peer site.
  void learn_key(const Sdp& to_peer, std::size_t index = 0) {
    ASSERT_TRUE(tunnel_);
    ASSERT_LT(index, to_peer.media.size());
    const auto a = to_peer.media[index].attribute(kInterSiteAttribute);
    ASSERT_TRUE(a) << "no relay key in the SDP towards the peer site";
    const auto key = InterSiteKey::from_attribute(*a);
    ASSERT_TRUE(key);
    ASSERT_TRUE(tunnel_->set_peer_key(*key));
  }

 private:
  udp::socket socket_;
  std::unique_ptr<InterSiteCipher> tunnel_;
};

void pump(asio::io_context& io, std::chrono::milliseconds slice = 5ms) {
  io.restart();
  io.run_for(slice);
}

// Runs the relay until `p` has a datagram, for at most ~3 s.
std::optional<Datagram> receive(asio::io_context& io, Party& p) {
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto d = p.try_receive()) return d;
    pump(io);
  }
  return std::nullopt;
}

// Runs the relay for at least `d`.
void pump_for(asio::io_context& io, std::chrono::milliseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) pump(io);
}

std::string rtp(std::uint16_t seq, std::uint32_t ssrc = 0x11223344, std::string_view payload = "voice") {
  std::string p(12, '\0');
  p[0] = static_cast<char>(0x80);
  p[1] = 0;  // PCMU
  p[2] = static_cast<char>(seq >> 8);
  p[3] = static_cast<char>(seq & 0xff);
  for (int i = 0; i < 4; ++i) p[static_cast<std::size_t>(8 + i)] = static_cast<char>((ssrc >> (24 - 8 * i)) & 0xff);
  return p + std::string(payload);
}

std::string rtcp_sr() {
  std::string p(28, '\0');
  p[0] = static_cast<char>(0x80);
  p[1] = static_cast<char>(200);  // SR
  p[3] = 6;
  return p;
}

std::string sdp(std::uint16_t port, std::string_view extra = "", std::string_view more_media = "") {
  return "v=0\r\no=user 100 200 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " +
         std::to_string(port) + " RTP/AVP 0\r\n" + std::string(extra) + std::string(more_media);
}

Sdp parsed(const Result<std::string>& r) {
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().reason);
  if (!r) return Sdp{};
  auto s = parse_sdp(*r);
  EXPECT_TRUE(s.has_value());
  return s ? *s : Sdp{};
}

RelaySettings settings() {
  RelaySettings s;
  s.lan_address = "127.0.0.1";
  s.public_address = "127.0.0.2";
  s.first_port = kFirst;
  s.last_port = kLast;
  return s;
}

struct Ports {
  std::uint16_t lan = 0;   // the relay port the phone sends to
  std::uint16_t peer = 0;  // the relay port the peer site sends to
};

// An SDP from the peer site: with a relay key (a fixed one, for tests that
// send no media from the peer) on its first m= line.
std::string peer_sdp(std::uint16_t port, std::string_view extra = "", std::string_view more_media = "",
                     const Party* peer_relay = nullptr) {
  static const std::string kFixedKey =
      "a=" + std::string(kInterSiteAttribute) + ":" + InterSiteKey::generate()->to_attribute() + "\r\n";
  return sdp(port, std::string(extra) + (peer_relay ? peer_relay->key_line() : kFixedKey), more_media);
}

// Offer from the phone, answer from the peer site's relay `peer` (made one
// here), which learns the relay's key as a real one would.
Ports setup(MediaRelay& relay, std::string_view key, std::uint16_t phone_port, Party& peer,
            std::string_view phone_extra = "", std::string_view peer_extra = "") {
  peer.as_peer_relay();
  const auto to_peer = parsed(relay.rewrite(key, Side::lan, sdp(phone_port, phone_extra)));
  const auto to_lan = parsed(relay.rewrite(key, Side::peer, peer_sdp(peer.port(), peer_extra, "", &peer)));
  if (to_peer.media.empty() || to_lan.media.empty()) return {};
  peer.learn_key(to_peer);
  return Ports{to_lan.media[0].m.port, to_peer.media[0].m.port};
}

class MediaRelayTest : public ::testing::Test {
 protected:
  asio::io_context io;
};

TEST_F(MediaRelayTest, SdpTowardsEachSideAdvertisesThatSidesLeg) {
  MediaRelay relay(io, settings());
  const auto to_peer = relay.rewrite("call", Side::lan, sdp(5004));
  ASSERT_TRUE(to_peer) << to_peer.error().reason;
  EXPECT_NE(to_peer->find("c=IN IP4 127.0.0.2\r\n"), std::string::npos) << *to_peer;
  EXPECT_NE(to_peer->find("o=- 100 200 IN IP4 127.0.0.2\r\n"), std::string::npos) << *to_peer;
  const auto to_lan = relay.rewrite("call", Side::peer, peer_sdp(6004));
  ASSERT_TRUE(to_lan);
  EXPECT_NE(to_lan->find("c=IN IP4 127.0.0.1\r\n"), std::string::npos) << *to_lan;
  // Retransmitted SDP: same ports, same text.
  EXPECT_EQ(*relay.rewrite("call", Side::lan, sdp(5004)), *to_peer);
  EXPECT_EQ(relay.call_count(), 1U);
  EXPECT_EQ(relay.free_ports(), (kLast - kFirst + 1) - 4U);
}

TEST_F(MediaRelayTest, PacketsFlowBothWaysAndAreCounted) {
  MediaRelay relay(io, settings());
  Party phone(io);
  Party peer(io);
  const auto ports = setup(relay, "call", phone.port(), peer);
  ASSERT_NE(ports.lan, 0);

  // Phone -> peer, seq 1,2,3,5,6: one lost.
  for (std::uint16_t seq : {1, 2, 3, 5, 6}) {
    phone.send(kLanIp, ports.lan, rtp(seq));
    const auto d = receive(io, peer);
    ASSERT_TRUE(d) << "seq " << seq;
    EXPECT_EQ(d->bytes, rtp(seq));
    EXPECT_EQ(d->from, udp::endpoint(kPublicIp, ports.peer));  // from the advertised public leg
  }
  // Peer -> phone.
  for (std::uint16_t seq : {100, 101, 102}) {
    peer.send(kPublicIp, ports.peer, rtp(seq, 0x55667788, "from the other site"));
    const auto d = receive(io, phone);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->bytes, rtp(seq, 0x55667788, "from the other site"));
    EXPECT_EQ(d->from, udp::endpoint(kLanIp, ports.lan));
  }

  const auto st = relay.stats("call");
  ASSERT_TRUE(st);
  ASSERT_EQ(st->streams.size(), 1U);
  const auto& s = st->streams[0];
  EXPECT_EQ(s.media, "audio");
  EXPECT_EQ(s.lan_to_peer.packets, 5U);
  EXPECT_EQ(s.lan_to_peer.bytes, 5 * rtp(1).size());
  EXPECT_EQ(s.lan_to_peer.rtp_packets, 5U);
  EXPECT_EQ(s.lan_to_peer.rtp_expected, 6U);
  EXPECT_EQ(s.lan_to_peer.rtp_lost, 1U);
  EXPECT_EQ(s.peer_to_lan.packets, 3U);
  EXPECT_EQ(s.peer_to_lan.rtp_lost, 0U);
  EXPECT_EQ(s.lan.advertised, "127.0.0.1:" + std::to_string(ports.lan));
  EXPECT_EQ(s.peer.advertised, "127.0.0.2:" + std::to_string(ports.peer));
  EXPECT_EQ(s.lan.latched, "127.0.0.1:" + std::to_string(phone.port()));
  EXPECT_EQ(s.peer.latched, "127.0.0.1:" + std::to_string(peer.port()));
  EXPECT_EQ(s.lan.dropped, 0U);
  EXPECT_EQ(relay.stats().size(), 1U);
}

TEST_F(MediaRelayTest, PayloadsPassUntouched) {
  MediaRelay relay(io, settings());
  Party phone(io);
  Party peer(io);
  const auto ports = setup(relay, "call", phone.port(), peer);
  // A STUN binding request, a DTLS ClientHello-ish record, ZRTP, garbage.
  const std::string zrtp = std::string("\x10\x00\x00\x01ZRTP", 8) + "Hello   ";
  for (const std::string& p :
       {std::string("\x00\x01\x00\x00\x21\x12\xa4\x42", 8) + std::string(12, 'T'),
        std::string("\x16\xfe\xfd\x00\x00", 5) + std::string(40, 'D'), zrtp, std::string(1200, '\xff')}) {
    phone.send(kLanIp, ports.lan, p);
    const auto d = receive(io, peer);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->bytes, p);
  }
  EXPECT_EQ(relay.stats("call")->streams[0].lan_to_peer.rtp_packets, 0U);
}

TEST_F(MediaRelayTest, LatchesToTheRealSourceNotTheSdpPort) {
  MediaRelay relay(io, settings());
  Party declared(io);    // what the phone's SDP says; never sends
  Party behind_nat(io);  // where its packets really come from
  Party peer(io);
  const auto ports = setup(relay, "call", declared.port(), peer);

  behind_nat.send(kLanIp, ports.lan, rtp(1));
  ASSERT_TRUE(receive(io, peer));
  peer.send(kPublicIp, ports.peer, rtp(7, 9));
  const auto d = receive(io, behind_nat);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->bytes, rtp(7, 9));
  EXPECT_FALSE(declared.try_receive());
  EXPECT_EQ(relay.stats("call")->streams[0].lan.latched, "127.0.0.1:" + std::to_string(behind_nat.port()));
}

TEST_F(MediaRelayTest, HijackAfterLatchingIsDropped) {
  MediaRelay relay(io, settings());
  Party phone(io);
  Party peer(io);
  Party attacker(io);
  const auto ports = setup(relay, "call", phone.port(), peer);
  phone.send(kLanIp, ports.lan, rtp(1));
  ASSERT_TRUE(receive(io, peer));

  // Same relay socket, attacker first: had it been forwarded, it would
  // arrive before the phone's packet.
  attacker.send(kLanIp, ports.lan, "injected");
  phone.send(kLanIp, ports.lan, rtp(2));
  const auto d = receive(io, peer);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->bytes, rtp(2));

  // And the peer's media still goes to the phone only.
  peer.send(kPublicIp, ports.peer, rtp(50, 5));
  ASSERT_TRUE(receive(io, phone));
  EXPECT_FALSE(attacker.try_receive());
  // The attacker also tries the public leg.
  attacker.send(kPublicIp, ports.peer, "injected");
  peer.send(kPublicIp, ports.peer, rtp(51, 5));
  const auto e = receive(io, phone);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->bytes, rtp(51, 5));

  const auto st = relay.stats("call")->streams[0];
  EXPECT_EQ(st.lan.dropped, 1U);
  EXPECT_EQ(st.peer.dropped, 1U);
  EXPECT_EQ(st.lan.latched, "127.0.0.1:" + std::to_string(phone.port()));
  EXPECT_EQ(st.lan.relatches, 0U);
}

TEST_F(MediaRelayTest, AfterTheLatchWindowOnlyTheSdpAddressLatches) {
  auto s = settings();
  s.latch_window = 0ms;
  MediaRelay relay(io, s);
  Party phone(io);
  Party stranger(io);
  Party peer(io);
  const auto ports = setup(relay, "call", phone.port(), peer);
  pump_for(io, 5ms);  // the (empty) window is over
  stranger.send(kLanIp, ports.lan, "first!");
  phone.send(kLanIp, ports.lan, rtp(1));
  const auto d = receive(io, peer);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->bytes, rtp(1));
  EXPECT_EQ(relay.stats("call")->streams[0].lan.dropped, 1U);
}

TEST_F(MediaRelayTest, SdpAddressTakesOverAGuessWithinTheWindow) {
  MediaRelay relay(io, settings());
  Party phone(io);
  Party early(io);
  Party peer(io);
  const auto ports = setup(relay, "call", phone.port(), peer);
  early.send(kLanIp, ports.lan, rtp(1, 1));  // latched: first source in the window
  ASSERT_TRUE(receive(io, peer));
  phone.send(kLanIp, ports.lan, rtp(1, 2));  // the SDP's own address wins
  ASSERT_TRUE(receive(io, peer));
  peer.send(kPublicIp, ports.peer, rtp(9, 3));
  ASSERT_TRUE(receive(io, phone));
  EXPECT_FALSE(early.try_receive());
}

TEST_F(MediaRelayTest, RelatchAfterSilenceAndABurst) {
  auto s = settings();
  s.relatch_silence = 100ms;
  s.relatch_burst = 3;
  MediaRelay relay(io, s);
  Party phone(io);
  Party rebound(io);  // the phone after its NAT changed its mapping
  Party peer(io);
  const auto ports = setup(relay, "call", phone.port(), peer);
  phone.send(kLanIp, ports.lan, rtp(1));
  ASSERT_TRUE(receive(io, peer));
  pump_for(io, 150ms);  // at least the silence

  for (std::uint16_t seq : {2, 3, 4}) rebound.send(kLanIp, ports.lan, rtp(seq));
  const auto d = receive(io, peer);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->bytes, rtp(4));  // the burst's first two were dropped
  peer.send(kPublicIp, ports.peer, rtp(60, 6));
  ASSERT_TRUE(receive(io, rebound));
  EXPECT_FALSE(phone.try_receive());
  const auto st = relay.stats("call")->streams[0];
  EXPECT_EQ(st.lan.relatches, 1U);
  EXPECT_EQ(st.lan.dropped, 2U);
}

TEST_F(MediaRelayTest, RtcpOnTheOddPorts) {
  MediaRelay relay(io, settings());
  Party phone(io);
  Party phone_rtcp(io);
  Party peer(io);
  Party peer_rtcp(io);
  peer_rtcp.as_peer_relay();  // the peer relay's RTCP socket is the one that talks here
  const auto to_peer = parsed(
      relay.rewrite("call", Side::lan, sdp(phone.port(), "a=rtcp:" + std::to_string(phone_rtcp.port()) + "\r\n")));
  const auto to_lan = parsed(relay.rewrite(
      "call", Side::peer,
      peer_sdp(peer.port(), "a=rtcp:" + std::to_string(peer_rtcp.port()) + " IN IP4 127.0.0.1\r\n", "", &peer_rtcp)));
  ASSERT_FALSE(to_lan.media.empty());
  peer_rtcp.learn_key(to_peer);
  const Ports ports{to_lan.media[0].m.port, to_peer.media[0].m.port};
  EXPECT_EQ(ports.lan % 2, 0);
  EXPECT_EQ(to_peer.media[0].rtcp()->port, ports.peer + 1);
  EXPECT_EQ(to_lan.media[0].rtcp()->port, ports.lan + 1);
  EXPECT_EQ(to_lan.media[0].rtcp()->connection->address, "127.0.0.1");

  phone_rtcp.send(kLanIp, ports.lan + 1, rtcp_sr());
  const auto d = receive(io, peer_rtcp);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->from, udp::endpoint(kPublicIp, static_cast<std::uint16_t>(ports.peer + 1)));
  peer_rtcp.send(kPublicIp, ports.peer + 1, rtcp_sr());
  const auto e = receive(io, phone_rtcp);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->from, udp::endpoint(kLanIp, static_cast<std::uint16_t>(ports.lan + 1)));
  EXPECT_FALSE(relay.stats("call")->streams[0].rtcp_mux);
}

TEST_F(MediaRelayTest, RtcpMuxGivesBackTheRtcpPorts) {
  MediaRelay relay(io, settings());
  Party phone(io);
  Party peer(io);
  const auto ports = setup(relay, "call", phone.port(), peer, "a=rtcp-mux\r\n", "a=rtcp-mux\r\n");
  EXPECT_EQ(relay.free_ports(), (kLast - kFirst + 1) - 2U);
  phone.send(kLanIp, ports.lan, rtcp_sr());
  const auto d = receive(io, peer);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->bytes, rtcp_sr());
  EXPECT_EQ(d->from, udp::endpoint(kPublicIp, ports.peer));
  EXPECT_TRUE(relay.stats("call")->streams[0].rtcp_mux);
  EXPECT_EQ(relay.stats("call")->streams[0].lan_to_peer.rtp_packets, 0U);  // RTCP is not RTP

  // A re-INVITE without mux: RTCP ports again (with a=rtcp unless the new
  // one happens to be the next port).
  const auto again = parsed(relay.rewrite("call", Side::peer, peer_sdp(peer.port(), "", "", &peer)));
  ASSERT_FALSE(again.media.empty());
  EXPECT_EQ(again.media[0].m.port, ports.lan);
  const auto rtcp = again.media[0].rtcp();
  const auto rtcp_port = rtcp ? rtcp->port : ports.lan + 1;
  EXPECT_NE(rtcp_port, ports.lan);
  EXPECT_EQ(relay.stats("call")->streams[0].lan.advertised, "127.0.0.1:" + std::to_string(ports.lan));
  EXPECT_FALSE(relay.stats("call")->streams[0].rtcp_mux);
  EXPECT_EQ(relay.free_ports(), (kLast - kFirst + 1) - 4U);
}

TEST_F(MediaRelayTest, MuxOfferedButDeclinedKeepsRtcpPorts) {
  MediaRelay relay(io, settings());
  const auto to_peer = parsed(relay.rewrite("call", Side::lan, sdp(5004, "a=rtcp-mux\r\n")));
  ASSERT_FALSE(to_peer.media.empty());
  EXPECT_TRUE(to_peer.media[0].rtcp_mux());
  const auto to_lan = parsed(relay.rewrite("call", Side::peer, peer_sdp(6004)));
  EXPECT_FALSE(relay.stats("call")->streams[0].rtcp_mux);
  EXPECT_EQ(relay.free_ports(), (kLast - kFirst + 1) - 4U);
}

TEST_F(MediaRelayTest, RejectedStreamFreedAndEndFreesEverything) {
  MediaRelay relay(io, settings());
  const std::string video = "m=video 5006 RTP/AVP 99\r\n";
  const auto to_peer = parsed(relay.rewrite("call", Side::lan, sdp(5004, "", video)));
  ASSERT_EQ(to_peer.media.size(), 2U);
  EXPECT_NE(to_peer.media[1].m.port, 0);
  EXPECT_EQ(relay.free_ports(), (kLast - kFirst + 1) - 8U);
  const auto to_lan = parsed(relay.rewrite("call", Side::peer, peer_sdp(6004, "", "m=video 0 RTP/AVP 99\r\n")));
  ASSERT_EQ(to_lan.media.size(), 2U);
  EXPECT_EQ(to_lan.media[1].m.port, 0);
  EXPECT_EQ(relay.free_ports(), (kLast - kFirst + 1) - 4U);
  EXPECT_EQ(relay.stats("call")->streams.size(), 1U);

  relay.end("call");
  relay.end("call");
  relay.end("never-existed");
  EXPECT_EQ(relay.call_count(), 0U);
  EXPECT_EQ(relay.free_ports(), kLast - kFirst + 1U);
  EXPECT_FALSE(relay.stats("call"));
}

TEST_F(MediaRelayTest, InactivityFreesThePorts) {
  auto s = settings();
  s.inactivity = 200ms;
  MediaRelay relay(io, s);
  Party phone(io);
  Party peer(io);
  const auto ports = setup(relay, "call", phone.port(), peer);
  phone.send(kLanIp, ports.lan, rtp(1));
  ASSERT_TRUE(receive(io, peer));
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (relay.call_count() != 0 && std::chrono::steady_clock::now() < deadline) pump(io, 20ms);
  EXPECT_EQ(relay.call_count(), 0U);
  EXPECT_EQ(relay.expired_calls(), 1U);
  EXPECT_EQ(relay.free_ports(), kLast - kFirst + 1U);
  // The ports are closed: nothing comes back through them.
  phone.send(kLanIp, ports.lan, rtp(2));
  pump_for(io, 20ms);
  EXPECT_FALSE(peer.try_receive());
}

TEST_F(MediaRelayTest, UnansweredCallsExpireAfterTheSetupTimeout) {
  auto s = settings();
  s.setup_timeout = 100ms;
  MediaRelay relay(io, s);
  ASSERT_TRUE(relay.rewrite("ringing", Side::lan, sdp(5004)));
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (relay.call_count() != 0 && std::chrono::steady_clock::now() < deadline) pump(io, 20ms);
  EXPECT_EQ(relay.call_count(), 0U);
  EXPECT_EQ(relay.free_ports(), kLast - kFirst + 1U);
}

TEST_F(MediaRelayTest, ExhaustionIs503AndLeavesNothingBehind) {
  auto s = settings();
  s.first_port = 24100;  // outside the other tests' range (ctest may run them at once)
  s.last_port = 24107;   // four pairs: two calls of one stream
  MediaRelay relay(io, s);
  ASSERT_TRUE(relay.rewrite("a", Side::lan, sdp(5004)));
  ASSERT_TRUE(relay.rewrite("b", Side::lan, sdp(5006)));
  const auto c = relay.rewrite("c", Side::lan, sdp(5008));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().sip_status(), 503);
  // Two streams: the first is allocated, the second is not; neither stays.
  relay.end("b");
  const auto d = relay.rewrite("d", Side::lan, sdp(5008, "", "m=video 5010 RTP/AVP 99\r\n"));
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().sip_status(), 503);
  EXPECT_EQ(relay.call_count(), 1U);
  EXPECT_EQ(relay.free_ports(), 4U);
  EXPECT_TRUE(relay.rewrite("e", Side::lan, sdp(5012)));
}

TEST_F(MediaRelayTest, BadSdpIs488AndCreatesNothing) {
  MediaRelay relay(io, settings());
  const auto r = relay.rewrite("call", Side::lan, "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\nm=audio x RTP/AVP 0\r\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().sip_status(), 488);
  EXPECT_FALSE(r.error().reason.empty());
  EXPECT_EQ(relay.call_count(), 0U);
}

TEST_F(MediaRelayTest, BadSettingsAreReported) {
  auto s = settings();
  s.public_address = "site.example";
  EXPECT_FALSE(validate(s));
  MediaRelay relay(io, s);
  const auto r = relay.rewrite("call", Side::lan, sdp(5004));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, MediaErrc::bad_settings);
  s = settings();
  s.first_port = 0;
  EXPECT_FALSE(validate(s));
  EXPECT_TRUE(validate(settings()));
}

TEST_F(MediaRelayTest, SdpPointingAtTheRelayItselfDoesNotLoop) {
  MediaRelay relay(io, settings());
  Party phone(io);
  // A hostile peer answers with the relay's own LAN-leg port as its address.
  const auto to_peer = parsed(relay.rewrite("call", Side::lan, sdp(phone.port())));
  const auto lan_port = relay.stats("call")->streams[0].lan.advertised;
  const auto own = static_cast<std::uint16_t>(std::stoi(lan_port.substr(lan_port.rfind(':') + 1)));
  const auto to_lan = parsed(relay.rewrite("call", Side::peer, peer_sdp(own)));
  phone.send(kLanIp, own, rtp(1));
  pump_for(io, 50ms);
  const auto st = relay.stats("call")->streams[0];
  EXPECT_EQ(st.lan_to_peer.packets, 0U);
  EXPECT_EQ(st.peer_to_lan.packets, 0U);
  EXPECT_EQ(st.lan.dropped, 1U);
}

// --- the inter-site leg: SRTP between the relays, whatever the phones send

TEST_F(MediaRelayTest, NoPhonePayloadOrSsrcCrossesToThePeerSiteInClear) {
  MediaRelay relay(io, settings());
  Party phone(io);
  Party peer(io);
  const auto ports = setup(relay, "call", phone.port(), peer);
  const std::string voice = rtp(1, 0xA1B2C3D4, "MARKER-voice-payload");
  phone.send(kLanIp, ports.lan, voice);
  std::optional<Datagram> wire;
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (!wire && std::chrono::steady_clock::now() < deadline) {
    pump(io);
    wire = peer.try_receive_raw();
  }
  ASSERT_TRUE(wire);
  EXPECT_EQ(wire->bytes.find("MARKER"), std::string::npos);
  EXPECT_EQ(wire->bytes.find("\xA1\xB2\xC3\xD4"), std::string::npos);
  EXPECT_EQ(static_cast<unsigned char>(wire->bytes[1]), 127);  // a tunnel packet, not the phone's PT 0

  // The peer relay's sealed media opens here and reaches the phone as sent.
  peer.send(kPublicIp, ports.peer, rtp(9, 0x01020304, "from the other site"));
  const auto d = receive(io, phone);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->bytes, rtp(9, 0x01020304, "from the other site"));
  const auto c = relay.protection_counters();
  EXPECT_EQ(c.sealed, 1U);
  EXPECT_EQ(c.opened, 1U);
  EXPECT_TRUE(relay.stats("call")->protection.inter_site_srtp);
}

TEST_F(MediaRelayTest, TamperedReplayedAndForeignPacketsNeverReachThePhone) {
  MediaRelay relay(io, settings());
  Party phone(io);
  Party peer(io);
  Party forger(io);
  const auto ports = setup(relay, "call", phone.port(), peer);
  peer.send(kPublicIp, ports.peer, rtp(1, 5, "genuine"));
  ASSERT_TRUE(receive(io, phone));

  // Tampered: a byte flipped in a sealed packet from the peer relay.
  std::string sealed;
  {
    Party tap(io);  // receives what `peer` seals, to keep a copy to play with
    peer.send(asio::ip::make_address("127.0.0.1"), tap.port(), rtp(2, 5, "copy me"));
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    std::optional<Datagram> got;
    while (!got && std::chrono::steady_clock::now() < deadline) got = tap.try_receive_raw();
    ASSERT_TRUE(got);
    sealed = got->bytes;
  }
  std::string tampered = sealed;
  tampered[tampered.size() / 2] = static_cast<char>(tampered[tampered.size() / 2] ^ 0x40);
  peer.send_raw(kPublicIp, ports.peer, tampered);
  peer.send_raw(kPublicIp, ports.peer, sealed);    // genuine: opens
  peer.send_raw(kPublicIp, ports.peer, sealed);    // the same again: a replay
  forger.send_raw(kPublicIp, ports.peer, sealed);  // from another host
  const auto d = receive(io, phone);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->bytes, rtp(2, 5, "copy me"));
  pump_for(io, 50ms);
  EXPECT_FALSE(phone.try_receive()) << "a forged, replayed or foreign packet reached the phone";

  const auto c = relay.protection_counters();
  EXPECT_EQ(c.auth_failed, 1U);
  EXPECT_EQ(c.replayed, 1U);
  EXPECT_EQ(c.foreign, 1U);
  const auto st = relay.stats("call")->streams[0];
  EXPECT_EQ(st.peer.auth_failed, 1U);
  EXPECT_EQ(st.peer.replayed, 1U);
  EXPECT_EQ(st.peer.dropped, 3U);
  EXPECT_EQ(st.peer.latched, "127.0.0.1:" + std::to_string(peer.port()));
}

TEST_F(MediaRelayTest, UnsealedMediaFromThePeerCannotLatchTheLeg) {
  MediaRelay relay(io, settings());
  Party phone(io);
  Party peer(io);
  Party early(io);
  const auto ports = setup(relay, "call", phone.port(), peer);
  early.send(kPublicIp, ports.peer, rtp(1, 1, "plain, first in the window"));
  peer.send(kPublicIp, ports.peer, rtp(2, 2, "sealed"));
  const auto d = receive(io, phone);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->bytes, rtp(2, 2, "sealed"));
  EXPECT_EQ(relay.stats("call")->streams[0].peer.latched, "127.0.0.1:" + std::to_string(peer.port()));
}

TEST_F(MediaRelayTest, PeerSdpWithoutAUsableKeyIsRefusedAnd488) {
  MediaRelay relay(io, settings());
  ASSERT_TRUE(relay.rewrite("call", Side::lan, sdp(5004)));
  for (const std::string& bad :
       {sdp(6004), sdp(6004, "a=sipsite-srtp:AES_CM_128_HMAC_SHA1_80 inline:AAAA\r\n"),
        sdp(6004, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n")}) {
    const auto r = relay.rewrite("call", Side::peer, bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, MediaErrc::unprotected);
    EXPECT_EQ(r.error().sip_status(), 488);
    EXPECT_NE(r.error().reason.find("encrypted"), std::string::npos) << r.error().reason;
  }
  // A second, active m= line without a key refuses the whole SDP; a rejected one needs none.
  const auto two = relay.rewrite("call", Side::peer, peer_sdp(6004, "", "m=video 6006 RTP/AVP 99\r\n"));
  ASSERT_FALSE(two);
  EXPECT_TRUE(relay.rewrite("call", Side::peer, peer_sdp(6004, "", "m=video 0 RTP/AVP 99\r\n")));
  EXPECT_EQ(relay.protection_counters().refused_sdp, 4U);
  // An offer from the peer without a key creates no call at all.
  ASSERT_FALSE(relay.rewrite("incoming", Side::peer, sdp(6008)));
  EXPECT_FALSE(relay.stats("incoming"));
}

TEST_F(MediaRelayTest, RelayKeysAreNeverShownToPhonesAndFreshPerCallAndDirection) {
  MediaRelay relay(io, settings());
  const std::string injected = "a=sipsite-srtp:" + InterSiteKey::generate()->to_attribute() + "\r\n";
  const auto to_peer = parsed(relay.rewrite("one", Side::lan, sdp(5004, injected)));
  ASSERT_FALSE(to_peer.media.empty());
  const auto serialized = serialize(to_peer);
  EXPECT_EQ(serialized.find(injected), std::string::npos) << "a phone chose the relay key";
  const auto mine = to_peer.media[0].attribute("sipsite-srtp");
  ASSERT_TRUE(mine);
  const std::string peer_key_line = "a=sipsite-srtp:" + InterSiteKey::generate()->to_attribute() + "\r\n";
  const auto to_lan = relay.rewrite("one", Side::peer, sdp(6004, peer_key_line));
  ASSERT_TRUE(to_lan);
  EXPECT_EQ(to_lan->find("sipsite-srtp"), std::string::npos) << *to_lan;
  EXPECT_NE(std::string(*mine), peer_key_line.substr(15, peer_key_line.size() - 17));
  // A retransmission keeps the key; another call gets another.
  const auto again = parsed(relay.rewrite("one", Side::lan, sdp(5004)));
  EXPECT_EQ(again.media[0].attribute("sipsite-srtp"), mine);
  const auto other = parsed(relay.rewrite("two", Side::lan, sdp(5006)));
  EXPECT_NE(other.media[0].attribute("sipsite-srtp"), mine);
}

std::string sdes_rtcp(std::uint32_t ssrc, std::string_view cname) {
  std::string body(4, '\0');
  for (int i = 0; i < 4; ++i) body[static_cast<std::size_t>(i)] = static_cast<char>((ssrc >> (24 - 8 * i)) & 0xff);
  body += '\x01';
  body += static_cast<char>(cname.size());
  body += cname;
  body += '\0';
  while (body.size() % 4 != 0) body += '\0';
  std::string p{'\x81', static_cast<char>(202), 0, static_cast<char>(body.size() / 4)};
  return rtcp_sr() + p + body;
}

TEST_F(MediaRelayTest, PhonesCnameIsReplacedInRtcpAndSdpOnTheWayOut) {
  MediaRelay relay(io, settings());
  Party phone(io);
  Party peer(io);
  const auto ports = setup(relay, "call", phone.port(), peer, "a=rtcp-mux\r\na=ssrc:287 cname:alice@192.168.77.5\r\n",
                           "a=rtcp-mux\r\n");
  const auto to_peer = serialize(parsed(
      relay.rewrite("call", Side::lan, sdp(phone.port(), "a=rtcp-mux\r\na=ssrc:287 cname:alice@192.168.77.5\r\n"))));
  EXPECT_EQ(to_peer.find("alice"), std::string::npos) << to_peer;
  const auto at = to_peer.find("a=ssrc:287 cname:");
  ASSERT_NE(at, std::string::npos) << to_peer;
  const auto opaque = to_peer.substr(at + 17, to_peer.find("\r\n", at) - at - 17);
  EXPECT_EQ(opaque.size(), 16U);

  phone.send(kLanIp, ports.lan, sdes_rtcp(287, "alice@192.168.77.5"));
  const auto d = receive(io, peer);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->bytes.find("alice"), std::string::npos);
  EXPECT_EQ(d->bytes, sdes_rtcp(287, opaque));

  // The other way, nothing is rewritten (it is the peer site's to hide).
  peer.send(kPublicIp, ports.peer, sdes_rtcp(9, "bob@example"));
  const auto e = receive(io, phone);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->bytes, sdes_rtcp(9, "bob@example"));
}

TEST_F(MediaRelayTest, EndToEndEncryptionIsDetectedOnlyWhenBothPartiesUseIt) {
  MediaRelay relay(io, settings());
  const std::string dtls = "a=fingerprint:sha-256 AB:CD\r\na=setup:actpass\r\n";
  const auto savpf = [](std::string s) {
    const auto at = s.find("RTP/AVP");
    return s.replace(at, 7, "UDP/TLS/RTP/SAVPF");
  };
  ASSERT_TRUE(relay.rewrite("dtls", Side::lan, savpf(sdp(5004, dtls))));
  EXPECT_EQ(relay.stats("dtls")->protection.end_to_end, EndToEnd::none);  // not answered yet
  const auto answer = relay.rewrite("dtls", Side::peer, savpf(peer_sdp(6004, dtls)));
  ASSERT_TRUE(answer);
  EXPECT_NE(answer->find("a=fingerprint:sha-256 AB:CD"), std::string::npos) << "passes untouched";
  EXPECT_EQ(relay.stats("dtls")->protection.end_to_end, EndToEnd::dtls_srtp);

  ASSERT_TRUE(relay.rewrite("zrtp", Side::lan, sdp(5008, "a=zrtp-hash:1.10 abcdef\r\n")));
  ASSERT_TRUE(relay.rewrite("zrtp", Side::peer, peer_sdp(6008, "a=zrtp-hash:1.10 012345\r\n")));
  EXPECT_EQ(relay.stats("zrtp")->protection.end_to_end, EndToEnd::zrtp);

  ASSERT_TRUE(relay.rewrite("half", Side::lan, sdp(5012, "a=zrtp-hash:1.10 abcdef\r\n")));
  ASSERT_TRUE(relay.rewrite("half", Side::peer, peer_sdp(6012)));
  EXPECT_EQ(relay.stats("half")->protection.end_to_end, EndToEnd::none);
}

// --- SDES-SRTP between the relay and the site's phones (media.lan_srtp)

// A phone that speaks SDES-SRTP: its key in its SDP, the relay's taken from
// the SDP the relay sent it.
struct SrtpPhone {
  explicit SrtpPhone(asio::io_context& io) : party(io) {}
  Party party;
  std::unique_ptr<SdesLeg> srtp = SdesLeg::create("AES_CM_128_HMAC_SHA1_80");

  [[nodiscard]] std::string crypto_line() const { return "a=crypto:1 " + srtp->attribute("1").substr(2) + "\r\n"; }
  void learn(const Sdp& from_relay) {
    ASSERT_FALSE(from_relay.media.empty());
    const auto a = from_relay.media[0].attribute("crypto");
    ASSERT_TRUE(a) << "the relay sent the phone no a=crypto";
    const auto offer = parse_crypto(*a);
    ASSERT_TRUE(offer) << *a;
    ASSERT_TRUE(srtp->set_phone_key(*offer));
  }
  void send(std::uint16_t port, std::string packet) {
    std::size_t n = packet.size();
    packet.resize(n + kTunnelTrailer);
    ASSERT_EQ(srtp->protect(reinterpret_cast<unsigned char*>(packet.data()), n, false), LegResult::ok);
    packet.resize(n);
    party.send(kLanIp, port, packet);
  }
  std::optional<std::string> receive(asio::io_context& io) {
    auto d = ::sipsite::media::receive(io, party);
    if (!d) return std::nullopt;
    std::size_t n = d->bytes.size();
    if (srtp->unprotect(reinterpret_cast<unsigned char*>(d->bytes.data()), n, false) != LegResult::ok)
      return std::nullopt;
    return d->bytes.substr(0, n);
  }
};

std::string savp(std::string sdp_text) { return sdp_text.replace(sdp_text.find("RTP/AVP"), 7, "RTP/SAVP"); }

TEST_F(MediaRelayTest, PhoneOfferingSdesGetsSrtpOnItsLegAndItsKeyNeverLeaves) {
  MediaRelay relay(io, settings());
  SrtpPhone phone(io);
  Party peer(io);
  peer.as_peer_relay();
  const auto phone_sdp = savp(sdp(phone.party.port(), phone.crypto_line()));
  const auto to_peer = parsed(relay.rewrite("call", Side::lan, phone_sdp));
  ASSERT_FALSE(to_peer.media.empty());
  EXPECT_EQ(to_peer.media[0].m.proto, "RTP/AVP");  // the peer site's relay chooses for its own phone
  EXPECT_FALSE(to_peer.media[0].has_attribute("crypto"));
  const auto to_lan = parsed(relay.rewrite("call", Side::peer, peer_sdp(peer.port(), "", "", &peer)));
  peer.learn_key(to_peer);
  ASSERT_FALSE(to_lan.media.empty());
  EXPECT_EQ(to_lan.media[0].m.proto, "RTP/SAVP");
  const auto relay_crypto = to_lan.media[0].attribute("crypto");
  ASSERT_TRUE(relay_crypto);
  EXPECT_EQ(std::string(*relay_crypto).find(phone.srtp->attribute("1").substr(2 + 24)), std::string::npos)
      << "the relay handed the phone its own key back";
  phone.learn(to_lan);
  const auto ports = Ports{to_lan.media[0].m.port, to_peer.media[0].m.port};

  phone.send(ports.lan, rtp(1, 7, "MARKER-srtp-phone"));
  const auto d = receive(io, peer);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->bytes, rtp(1, 7, "MARKER-srtp-phone"));  // decrypted at the relay, sealed for the peer
  peer.send(kPublicIp, ports.peer, rtp(5, 9, "to the srtp phone"));
  const auto e = phone.receive(io);
  ASSERT_TRUE(e) << "the phone could not decrypt what the relay sent it";
  EXPECT_EQ(*e, rtp(5, 9, "to the srtp phone"));

  // A tampered SRTP packet from the phone's address goes nowhere.
  std::string packet = rtp(2, 7, "MARKER-srtp-phone");
  std::size_t n = packet.size();
  packet.resize(n + kTunnelTrailer);
  ASSERT_EQ(phone.srtp->protect(reinterpret_cast<unsigned char*>(packet.data()), n, false), LegResult::ok);
  packet.resize(n);
  packet[14] = static_cast<char>(packet[14] ^ 1);
  phone.party.send(kLanIp, ports.lan, packet);
  pump_for(io, 50ms);
  EXPECT_FALSE(peer.try_receive());
  const auto st = relay.stats("call");
  EXPECT_EQ(st->streams[0].lan.auth_failed, 1U);
  EXPECT_TRUE(st->streams[0].lan.srtp);
  EXPECT_TRUE(st->protection.lan_srtp);
}

TEST_F(MediaRelayTest, CallsToPhonesOfferBestEffortSrtpAndAPlainAnswerStaysPlain) {
  MediaRelay relay(io, settings());
  Party phone(io);
  Party peer(io);
  peer.as_peer_relay();
  // A call from the other site: the phone is offered SRTP, best effort.
  const auto to_lan = parsed(relay.rewrite("in", Side::peer, peer_sdp(peer.port(), "", "", &peer)));
  ASSERT_FALSE(to_lan.media.empty());
  EXPECT_EQ(to_lan.media[0].m.proto, "RTP/AVP");
  EXPECT_TRUE(to_lan.media[0].has_attribute("crypto"));
  // The phone answers without SRTP: its leg stays plain, media flows.
  const auto to_peer = parsed(relay.rewrite("in", Side::lan, sdp(phone.port())));
  peer.learn_key(to_peer);
  phone.send(kLanIp, to_lan.media[0].m.port, rtp(1));
  const auto d = receive(io, peer);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->bytes, rtp(1));
  peer.send(kPublicIp, to_peer.media[0].m.port, rtp(3, 3));
  const auto e = receive(io, phone);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->bytes, rtp(3, 3));
  EXPECT_FALSE(relay.stats("in")->protection.lan_srtp);
  // A re-INVITE towards the phone offers it nothing it declined.
  const auto again = parsed(relay.rewrite("in", Side::peer, peer_sdp(peer.port(), "", "", &peer)));
  EXPECT_FALSE(again.media[0].has_attribute("crypto"));
}

TEST_F(MediaRelayTest, CalledPhoneThatAnswersSdesGetsSrtp) {
  MediaRelay relay(io, settings());
  SrtpPhone phone(io);
  Party peer(io);
  peer.as_peer_relay();
  const auto to_lan = parsed(relay.rewrite("in", Side::peer, peer_sdp(peer.port(), "", "", &peer)));
  phone.learn(to_lan);
  const auto to_peer = parsed(relay.rewrite("in", Side::lan, sdp(phone.party.port(), phone.crypto_line())));
  peer.learn_key(to_peer);
  phone.send(to_lan.media[0].m.port, rtp(1, 4, "answered with srtp"));
  const auto d = receive(io, peer);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->bytes, rtp(1, 4, "answered with srtp"));
  EXPECT_TRUE(relay.stats("in")->protection.lan_srtp);
}

TEST_F(MediaRelayTest, RequireRefusesPlainPhonesButNotEndToEndOnes) {
  auto s = settings();
  s.lan_srtp = LanSrtp::require;
  MediaRelay relay(io, s);
  const auto plain = relay.rewrite("a", Side::lan, sdp(5004));
  ASSERT_FALSE(plain);
  EXPECT_EQ(plain.error().code, MediaErrc::insecure_phone);
  EXPECT_EQ(plain.error().sip_status(), 488);
  EXPECT_NE(plain.error().reason.find("media.lan_srtp"), std::string::npos);
  EXPECT_FALSE(relay.stats("a"));
  EXPECT_TRUE(relay.rewrite("z", Side::lan, sdp(5004, "a=zrtp-hash:1.10 abcdef\r\n")));
  // Calls to phones offer RTP/SAVP.
  const auto to_lan = parsed(relay.rewrite("in", Side::peer, peer_sdp(6004)));
  ASSERT_FALSE(to_lan.media.empty());
  EXPECT_EQ(to_lan.media[0].m.proto, "RTP/SAVP");
  EXPECT_TRUE(to_lan.media[0].has_attribute("crypto"));
}

TEST_F(MediaRelayTest, OffRefusesMandatorySrtpAndIgnoresBestEffortCrypto) {
  auto s = settings();
  s.lan_srtp = LanSrtp::off;
  MediaRelay relay(io, s);
  SrtpPhone phone(io);
  const auto mandatory = relay.rewrite("a", Side::lan, savp(sdp(5004, phone.crypto_line())));
  ASSERT_FALSE(mandatory);
  EXPECT_EQ(mandatory.error().sip_status(), 488);
  const auto best_effort = parsed(relay.rewrite("b", Side::lan, sdp(5006, phone.crypto_line())));
  EXPECT_FALSE(best_effort.media[0].has_attribute("crypto"));
  const auto to_lan = parsed(relay.rewrite("b", Side::peer, peer_sdp(6004)));
  EXPECT_FALSE(to_lan.media[0].has_attribute("crypto"));
  EXPECT_EQ(to_lan.media[0].m.proto, "RTP/AVP");
}

TEST_F(MediaRelayTest, EndToEndPhonesKeepTheirProfileAndNoCryptoIsAdded) {
  MediaRelay relay(io, settings());
  const std::string dtls = "a=fingerprint:sha-256 AB:CD\r\na=setup:actpass\r\n";
  std::string offer = sdp(5004, dtls);
  offer.replace(offer.find("RTP/AVP"), 7, "UDP/TLS/RTP/SAVPF");
  const auto to_peer = parsed(relay.rewrite("e2e", Side::lan, offer));
  EXPECT_EQ(to_peer.media[0].m.proto, "UDP/TLS/RTP/SAVPF");
  std::string answer = peer_sdp(6004, dtls);
  answer.replace(answer.find("RTP/AVP"), 7, "UDP/TLS/RTP/SAVPF");
  const auto to_lan = parsed(relay.rewrite("e2e", Side::peer, answer));
  EXPECT_EQ(to_lan.media[0].m.proto, "UDP/TLS/RTP/SAVPF");
  EXPECT_FALSE(to_lan.media[0].has_attribute("crypto"));
  EXPECT_TRUE(relay.stats("e2e")->protection.lan_srtp);  // end to end covers the LAN too
}

// --- local calls (Scope::local): both parties are phones on the LAN

// Offer from the calling phone (Side::lan), answer from the called one.
Ports setup_local(MediaRelay& relay, std::string_view key, std::uint16_t caller_port, std::uint16_t callee_port) {
  const auto to_callee = parsed(relay.rewrite(key, Side::lan, sdp(caller_port), Scope::local));
  const auto to_caller = parsed(relay.rewrite(key, Side::peer, sdp(callee_port), Scope::local));
  if (to_callee.media.empty() || to_caller.media.empty()) return {};
  return Ports{to_caller.media[0].m.port, to_callee.media[0].m.port};
}

std::uint16_t port_in(const std::string& host_port) {
  return static_cast<std::uint16_t>(std::stoi(host_port.substr(host_port.rfind(':') + 1)));
}

TEST_F(MediaRelayTest, LocalCallAdvertisesTheLanAddressToBothPhones) {
  MediaRelay relay(io, settings());
  const std::string offer =
      "v=0\r\no=alice 100 200 IN IP4 127.0.0.1\r\ns=Talk\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
      "m=audio 5004 RTP/AVP 0\r\n";
  const auto to_callee = relay.rewrite("local-call", Side::lan, offer, Scope::local);
  ASSERT_TRUE(to_callee) << to_callee.error().reason;
  EXPECT_NE(to_callee->find("c=IN IP4 127.0.0.1\r\n"), std::string::npos) << *to_callee;
  EXPECT_EQ(to_callee->find("127.0.0.2"), std::string::npos) << *to_callee;
  // Not anonymized: the SDP stays in the LAN (the o= address is still the relay's).
  EXPECT_NE(to_callee->find("o=alice 100 200 IN IP4 127.0.0.1\r\n"), std::string::npos) << *to_callee;
  EXPECT_NE(to_callee->find("s=Talk\r\n"), std::string::npos) << *to_callee;
  const auto to_caller = relay.rewrite("local-call", Side::peer, sdp(6004), Scope::local);
  ASSERT_TRUE(to_caller);
  EXPECT_NE(to_caller->find("c=IN IP4 127.0.0.1\r\n"), std::string::npos) << *to_caller;
  EXPECT_EQ(to_caller->find("127.0.0.2"), std::string::npos) << *to_caller;

  const auto st = relay.stats("local-call");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->scope, Scope::local);
  ASSERT_EQ(st->streams.size(), 1U);
  const auto callee_sends_to = parsed(to_callee).media[0].m.port;
  const auto caller_sends_to = parsed(to_caller).media[0].m.port;
  EXPECT_EQ(st->streams[0].lan.advertised, "127.0.0.1:" + std::to_string(caller_sends_to));
  EXPECT_EQ(st->streams[0].peer.advertised, "127.0.0.1:" + std::to_string(callee_sends_to));
  EXPECT_NE(caller_sends_to, callee_sends_to);
  for (const auto port : {caller_sends_to, callee_sends_to}) {
    EXPECT_GE(port, kFirst);
    EXPECT_LE(port, kLast);
    EXPECT_NE(port, 5004);
    EXPECT_NE(port, 6004);
  }
  EXPECT_EQ(to_string(Scope::local), "local");
  EXPECT_EQ(to_string(Scope::edge), "edge");
}

TEST_F(MediaRelayTest, LocalCallPacketsFlowBothWaysOnTheLan) {
  MediaRelay relay(io, settings());
  Party caller(io);
  Party callee(io);
  const auto ports = setup_local(relay, "local-call", caller.port(), callee.port());
  ASSERT_NE(ports.lan, 0);
  for (std::uint16_t seq : {1, 2, 3}) {
    caller.send(kLanIp, ports.lan, rtp(seq, 1, "from the caller"));
    const auto d = receive(io, callee);
    ASSERT_TRUE(d) << "seq " << seq;
    EXPECT_EQ(d->bytes, rtp(seq, 1, "from the caller"));
    EXPECT_EQ(d->from, udp::endpoint(kLanIp, ports.peer));  // the callee's leg is on the LAN address too
  }
  for (std::uint16_t seq : {10, 11}) {
    callee.send(kLanIp, ports.peer, rtp(seq, 2, "from the callee"));
    const auto d = receive(io, caller);
    ASSERT_TRUE(d) << "seq " << seq;
    EXPECT_EQ(d->bytes, rtp(seq, 2, "from the callee"));
    EXPECT_EQ(d->from, udp::endpoint(kLanIp, ports.lan));
  }
  const auto st = relay.stats("local-call");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->streams[0].lan_to_peer.packets, 3U);
  EXPECT_EQ(st->streams[0].peer_to_lan.packets, 2U);
  EXPECT_EQ(st->streams[0].lan.latched, "127.0.0.1:" + std::to_string(caller.port()));
  EXPECT_EQ(st->streams[0].peer.latched, "127.0.0.1:" + std::to_string(callee.port()));
}

TEST_F(MediaRelayTest, LocalCallRetransmissionsAndForkedAnswersKeepThePorts) {
  MediaRelay relay(io, settings());
  const auto first = relay.rewrite("local-call", Side::lan, sdp(5004), Scope::local);
  ASSERT_TRUE(first);
  // The same offer again (a retransmission, or the INVITE to a second phone of the callee).
  EXPECT_EQ(*relay.rewrite("local-call", Side::lan, sdp(5004), Scope::local), *first);
  // Two phones of the callee answer (183 from one, 200 from the other): the
  // caller is told the same relay port each time.
  const auto from_one = parsed(relay.rewrite("local-call", Side::peer, sdp(6004), Scope::local));
  const auto from_two = parsed(relay.rewrite("local-call", Side::peer, sdp(7004), Scope::local));
  ASSERT_FALSE(from_one.media.empty());
  ASSERT_FALSE(from_two.media.empty());
  EXPECT_EQ(from_one.media[0].m.port, from_two.media[0].m.port);
  EXPECT_EQ(relay.stats("local-call")->streams[0].peer.sdp_remote, "127.0.0.1:7004");
  EXPECT_EQ(relay.call_count(), 1U);
  EXPECT_EQ(relay.free_ports(), (kLast - kFirst + 1) - 4U);
}

TEST_F(MediaRelayTest, LocalCallCandidatesAreReplacedByTheRelayOnTheLan) {
  MediaRelay relay(io, settings());
  const auto to_callee =
      relay.rewrite("local-call", Side::lan,
                    sdp(5004,
                        "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\n"
                        "a=candidate:1 1 UDP 2130706431 192.168.7.20 5004 typ host\r\n"
                        "a=candidate:2 1 UDP 1694498815 203.0.113.9 61000 typ srflx raddr 192.168.7.20 rport 5004\r\n"),
                    Scope::local);
  ASSERT_TRUE(to_callee) << to_callee.error().reason;
  EXPECT_EQ(to_callee->find("192.168.7.20"), std::string::npos) << *to_callee;
  EXPECT_EQ(to_callee->find("203.0.113.9"), std::string::npos) << *to_callee;
  const auto port = parsed(to_callee).media[0].m.port;
  EXPECT_NE(to_callee->find(" 127.0.0.1 " + std::to_string(port) + " typ host"), std::string::npos) << *to_callee;
  EXPECT_NE(to_callee->find("a=ice-ufrag:abcd\r\n"), std::string::npos) << *to_callee;
}

TEST_F(MediaRelayTest, LocalCallEndFreesItsPorts) {
  MediaRelay relay(io, settings());
  Party caller(io);
  Party callee(io);
  const auto ports = setup_local(relay, "local-call", caller.port(), callee.port());
  ASSERT_NE(ports.lan, 0);
  EXPECT_EQ(relay.free_ports(), (kLast - kFirst + 1) - 4U);
  relay.end("local-call");
  EXPECT_EQ(relay.call_count(), 0U);
  EXPECT_FALSE(relay.stats("local-call"));
  EXPECT_EQ(relay.free_ports(), kLast - kFirst + 1U);
  // The ports are closed: nothing is forwarded any more.
  caller.send(kLanIp, ports.lan, rtp(1));
  pump_for(io, 50ms);
  EXPECT_FALSE(callee.try_receive());
}

TEST_F(MediaRelayTest, AKeyOfOneScopeCannotBeTakenOverByTheOther) {
  MediaRelay relay(io, settings());
  Party phone(io);
  Party peer(io);
  const auto ports = setup(relay, "call", phone.port(), peer);
  ASSERT_NE(ports.lan, 0);
  const auto before = relay.stats("call");
  const auto r = relay.rewrite("call", Side::peer, sdp(9999), Scope::local);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, MediaErrc::bad_plan);
  const auto after = relay.stats("call");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->scope, Scope::edge);
  EXPECT_EQ(after->streams[0].peer.sdp_remote, before->streams[0].peer.sdp_remote);
  EXPECT_EQ(after->streams[0].peer.advertised, "127.0.0.2:" + std::to_string(ports.peer));
  EXPECT_EQ(relay.call_count(), 1U);
  EXPECT_EQ(port_in(after->streams[0].lan.advertised), ports.lan);
}

TEST_F(MediaRelayTest, LocalCallsExhaustThePortsLikeOthers) {
  auto s = settings();
  s.first_port = 24200;  // outside the other tests' ranges (ctest may run them at once)
  s.last_port = 24203;   // one call's worth: two pairs
  MediaRelay relay(io, s);
  ASSERT_TRUE(relay.rewrite("one", Side::lan, sdp(5004), Scope::local));
  const auto r = relay.rewrite("two", Side::lan, sdp(5006), Scope::local);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().sip_status(), 503);
  EXPECT_EQ(relay.call_count(), 1U);
  relay.end("one");
  EXPECT_TRUE(relay.rewrite("two", Side::lan, sdp(5006), Scope::local));
}

}  // namespace
}  // namespace sipsite::media
