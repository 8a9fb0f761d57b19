// The relay on loopback UDP: the "phone" and the "peer site" are sockets on
// 127.0.0.1; the relay's LAN leg is bound on 127.0.0.1 and its public leg on
// 127.0.0.2 (both loopback), so the test sees which leg advertised what.
// The io_context runs in bounded run_for slices; nothing asserts timing
// (waits are "at least", never "at most").

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

class Party {
 public:
  explicit Party(asio::io_context& io) : socket_(io, udp::endpoint(kLanIp, 0)) { socket_.non_blocking(true); }
  [[nodiscard]] std::uint16_t port() const { return socket_.local_endpoint().port(); }
  void send(const asio::ip::address& ip, std::uint16_t port, std::string_view bytes) {
    socket_.send_to(asio::buffer(bytes.data(), bytes.size()), udp::endpoint(ip, port));
  }
  std::optional<Datagram> try_receive() {
    std::array<char, 2048> buf{};
    udp::endpoint from;
    boost::system::error_code ec;
    const auto n = socket_.receive_from(asio::buffer(buf), from, 0, ec);
    if (ec) return std::nullopt;
    return Datagram{from, std::string(buf.data(), n)};
  }

 private:
  udp::socket socket_;
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

// Offer from the phone, answer from the peer site.
Ports setup(MediaRelay& relay, std::string_view key, std::uint16_t phone_port, std::uint16_t peer_port,
            std::string_view phone_extra = "", std::string_view peer_extra = "") {
  const auto to_peer = parsed(relay.rewrite(key, Side::lan, sdp(phone_port, phone_extra)));
  const auto to_lan = parsed(relay.rewrite(key, Side::peer, sdp(peer_port, peer_extra)));
  if (to_peer.media.empty() || to_lan.media.empty()) return {};
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
  const auto to_lan = relay.rewrite("call", Side::peer, sdp(6004));
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
  const auto ports = setup(relay, "call", phone.port(), peer.port());
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
  const auto ports = setup(relay, "call", phone.port(), peer.port());
  // A STUN binding request, a DTLS ClientHello-ish record, ZRTP, garbage.
  const std::string zrtp = std::string("\x10\x00\x00\x01ZRTP", 8) + "Hello   ";
  for (const std::string& p : {std::string("\x00\x01\x00\x00\x21\x12\xa4\x42", 8) + std::string(12, 'T'),
                               std::string("\x16\xfe\xfd\x00\x00", 5) + std::string(40, 'D'), zrtp,
                               std::string(1200, '\xff')}) {
    phone.send(kLanIp, ports.lan, p);
    const auto d = receive(io, peer);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->bytes, p);
  }
  EXPECT_EQ(relay.stats("call")->streams[0].lan_to_peer.rtp_packets, 0U);
}

TEST_F(MediaRelayTest, LatchesToTheRealSourceNotTheSdpPort) {
  MediaRelay relay(io, settings());
  Party declared(io);  // what the phone's SDP says; never sends
  Party behind_nat(io);  // where its packets really come from
  Party peer(io);
  const auto ports = setup(relay, "call", declared.port(), peer.port());

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
  const auto ports = setup(relay, "call", phone.port(), peer.port());
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
  const auto ports = setup(relay, "call", phone.port(), peer.port());
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
  const auto ports = setup(relay, "call", phone.port(), peer.port());
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
  const auto ports = setup(relay, "call", phone.port(), peer.port());
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
  const auto to_peer = parsed(relay.rewrite(
      "call", Side::lan, sdp(phone.port(), "a=rtcp:" + std::to_string(phone_rtcp.port()) + "\r\n")));
  const auto to_lan = parsed(relay.rewrite(
      "call", Side::peer,
      sdp(peer.port(), "a=rtcp:" + std::to_string(peer_rtcp.port()) + " IN IP4 127.0.0.1\r\n")));
  ASSERT_FALSE(to_lan.media.empty());
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
  const auto ports = setup(relay, "call", phone.port(), peer.port(), "a=rtcp-mux\r\n", "a=rtcp-mux\r\n");
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
  const auto again = parsed(relay.rewrite("call", Side::peer, sdp(peer.port())));
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
  const auto to_lan = parsed(relay.rewrite("call", Side::peer, sdp(6004)));
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
  const auto to_lan = parsed(relay.rewrite("call", Side::peer, sdp(6004, "", "m=video 0 RTP/AVP 99\r\n")));
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
  const auto ports = setup(relay, "call", phone.port(), peer.port());
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
  const auto to_lan = parsed(relay.rewrite("call", Side::peer, sdp(own)));
  phone.send(kLanIp, own, rtp(1));
  pump_for(io, 50ms);
  const auto st = relay.stats("call")->streams[0];
  EXPECT_EQ(st.lan_to_peer.packets, 0U);
  EXPECT_EQ(st.peer_to_lan.packets, 0U);
  EXPECT_EQ(st.lan.dropped, 1U);
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
  const std::string offer = "v=0\r\no=alice 100 200 IN IP4 127.0.0.1\r\ns=Talk\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
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
  const auto to_callee = relay.rewrite(
      "local-call", Side::lan,
      sdp(5004, "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\n"
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
  const auto ports = setup(relay, "call", phone.port(), peer.port());
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
  s.last_port = static_cast<std::uint16_t>(kFirst + 3);  // one call's worth: two pairs
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
