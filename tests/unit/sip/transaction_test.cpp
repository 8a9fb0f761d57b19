// RFC 3261 §17 transaction state machines, driven by ManualTimers: every
// timer's schedule, retransmission absorption, loss and reordering over
// UDP, no retransmissions over TCP, hop-by-hop ACK, transport errors, and
// transactions freed when they terminate.

#include "fake_sender.hpp"
#include "sipsite/sip/manual_timers.hpp"
#include "sipsite/sip/message/parser.hpp"
#include "sipsite/sip/message/response.hpp"
#include "sipsite/sip/message/serializer.hpp"
#include "sipsite/sip/transaction/transaction.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace sipsite::sip {
namespace {

using namespace std::chrono_literals;
using test::FakeSender;
using test::same;

struct Event {
  enum class Type { response, client_error, server_error } type;
  std::uint64_t id;
  int code = 0;
  TransactionError error = TransactionError::timeout;
};

class RecordingUser final : public TransactionUser {
 public:
  void on_response(ClientTransactionId id, const Inbound& r) override {
    events.push_back({Event::Type::response, id, r.message.status_code()});
  }
  void on_client_error(ClientTransactionId id, TransactionError e) override {
    events.push_back({Event::Type::client_error, id, 0, e});
  }
  void on_server_error(ServerTransactionId id, TransactionError e) override {
    events.push_back({Event::Type::server_error, id, 0, e});
  }
  std::vector<Event> events;
};

Message request(std::string_view method, std::string_view branch = "z9hG4bKabc",
                std::string_view via_host = "10.0.0.2:5060", std::string_view via_params = "") {
  std::string text = std::string(method) + " sip:bob@10.0.0.3 SIP/2.0\r\n" + "Via: SIP/2.0/UDP " +
                     std::string(via_host) + ";branch=" + std::string(branch) + std::string(via_params) +
                     "\r\n"
                     "Max-Forwards: 70\r\n"
                     "From: <sip:alice@site.example>;tag=ft\r\n"
                     "To: <sip:bob@site.example>\r\n"
                     "Call-ID: call-1\r\n"
                     "CSeq: 1 " +
                     std::string(method) + "\r\n\r\n";
  return parse_datagram(text).value();
}

// A response the far end sends to `req`.
Inbound response_to(const Message& req, int code, Protocol p = Protocol::udp) {
  auto r = make_response(req, code, code == 200 ? "OK" : "Reason", "bobtag");
  return Inbound{
      parse_datagram(serialize(r)).value(), Endpoint{p, "10.0.0.3", 5060}, 0, Endpoint{p, "10.0.0.1", 5060}, {}};
}

Inbound inbound(Message m, Protocol p = Protocol::udp, FlowId flow = 0) {
  return Inbound{std::move(m), Endpoint{p, "10.0.0.2", 5060}, flow, Endpoint{p, "10.0.0.1", 5060}, {}};
}

class TransactionTest : public ::testing::Test {
 protected:
  ManualTimers timers;
  FakeSender sender;
  RecordingUser user;
  Counters counters;
  TransactionLayer layer{TimerSettings{}, user, sender, timers, counters};

  const Destination kUdp{Endpoint{Protocol::udp, "10.0.0.3", 5060}, 0};
  const Destination kTcp{Endpoint{Protocol::tcp, "10.0.0.3", 5060}, 7};

  // Times (ms since start) at which messages were sent, by advancing 100 ms
  // at a time up to `until`.
  std::vector<long> send_times(std::chrono::milliseconds until) {
    std::vector<long> times;
    const auto start = timers.now();
    for (auto t = 0ms; t <= until; t += 100ms) {
      for (std::size_t i = 0; i < sender.sent.size(); ++i) {
        times.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(timers.now() - start).count());
      }
      sender.sent.clear();
      timers.advance(100ms);
    }
    return times;
  }

  std::string gauge() const {
    const auto text = counters.prometheus();
    const auto pos = text.find("\nsipsite_sip_transactions ");
    return pos == std::string::npos ? "" : text.substr(pos + 1, text.find('\n', pos + 1) - pos - 1);
  }
};

TEST_F(TransactionTest, InviteClientTimerADoublesUntilTimerB) {
  const auto id = layer.start_client(request("INVITE"), kUdp);
  ASSERT_NE(id, 0U);
  EXPECT_EQ(layer.alive(), 1U);
  const auto times = send_times(33s);
  // Timer A: T1, then doubling without ceiling (§17.1.1.2); Timer B at 64*T1.
  EXPECT_EQ(times, (std::vector<long>{0, 500, 1500, 3500, 7500, 15500, 31500}));
  ASSERT_EQ(user.events.size(), 1U);
  EXPECT_EQ(user.events[0].type, Event::Type::client_error);
  EXPECT_EQ(user.events[0].error, TransactionError::timeout);
  EXPECT_EQ(layer.alive(), 0U);
  EXPECT_EQ(timers.pending(), 0U);
  EXPECT_EQ(gauge(), "sipsite_sip_transactions 0");
}

TEST_F(TransactionTest, NonInviteClientTimerECappedAtT2UntilTimerF) {
  layer.start_client(request("MESSAGE"), kUdp);
  const auto times = send_times(33s);
  EXPECT_EQ(times, (std::vector<long>{0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500}));
  ASSERT_EQ(user.events.size(), 1U);
  EXPECT_EQ(user.events[0].type, Event::Type::client_error);
  EXPECT_EQ(layer.alive(), 0U);
}

TEST_F(TransactionTest, NonInviteClientProceedingRetransmitsEveryT2) {
  const auto req = request("OPTIONS");
  layer.start_client(req, kUdp);
  timers.advance(100ms);
  EXPECT_TRUE(layer.receive_response(response_to(req, 100)));
  sender.sent.clear();
  const auto times = send_times(12s);
  // E was due at 500 ms: in Proceeding it fires then and re-arms at T2.
  EXPECT_EQ(times, (std::vector<long>{400, 4400, 8400}));
}

TEST_F(TransactionTest, NoRetransmissionsOverTcp) {
  layer.start_client(request("INVITE"), kTcp);
  layer.start_client(request("MESSAGE", "z9hG4bKm"), kTcp);
  const auto times = send_times(31s);
  EXPECT_EQ(times, (std::vector<long>{0, 0}));
  timers.advance(2s);  // B and F still apply
  EXPECT_EQ(user.events.size(), 2U);
  EXPECT_EQ(layer.alive(), 0U);
}

TEST_F(TransactionTest, InviteClientAcksNonTwoHundredHopByHop) {
  const auto req = request("INVITE");
  const auto id = layer.start_client(req, kUdp);
  sender.sent.clear();
  EXPECT_TRUE(layer.receive_response(response_to(req, 486)));
  ASSERT_EQ(sender.sent.size(), 1U);
  const Message& ack = sender.sent[0].message;
  EXPECT_EQ(ack.method(), "ACK");
  EXPECT_EQ(ack.request_uri(), "sip:bob@10.0.0.3");
  EXPECT_EQ(ack.values(HeaderId::via), req.values(HeaderId::via));  // same branch: hop-by-hop
  EXPECT_EQ(*ack.value(HeaderId::to), "<sip:bob@site.example>;tag=bobtag");
  EXPECT_EQ(*ack.value(HeaderId::cseq), "1 ACK");
  EXPECT_TRUE(same(sender.sent[0].to, kUdp));
  ASSERT_EQ(user.events.size(), 1U);
  EXPECT_EQ(user.events[0].id, id);
  EXPECT_EQ(user.events[0].code, 486);

  // The 486 is retransmitted (our ACK got lost): ACK again, TU not bothered.
  sender.sent.clear();
  EXPECT_TRUE(layer.receive_response(response_to(req, 486)));
  EXPECT_EQ(sender.count("ACK"), 1U);
  EXPECT_EQ(user.events.size(), 1U);

  // Timer D (32 s on UDP) then frees it; no more INVITE retransmissions.
  sender.sent.clear();
  timers.advance(31s);
  EXPECT_EQ(layer.alive(), 1U);
  timers.advance(1s);
  EXPECT_EQ(layer.alive(), 0U);
  EXPECT_TRUE(sender.sent.empty());
  EXPECT_EQ(timers.pending(), 0U);
}

TEST_F(TransactionTest, InviteClientOverTcpTerminatesAtOnceAfterAck) {
  const auto req = request("INVITE");
  layer.start_client(req, kTcp);
  EXPECT_TRUE(layer.receive_response(response_to(req, 603, Protocol::tcp)));
  EXPECT_EQ(sender.count("ACK"), 1U);
  EXPECT_EQ(layer.alive(), 0U);
  EXPECT_EQ(timers.pending(), 0U);
}

TEST_F(TransactionTest, InviteClientProvisionalStopsRetransmissionsAndEvery2xxReachesTheTu) {
  const auto req = request("INVITE");
  layer.start_client(req, kUdp);
  timers.advance(600ms);  // one retransmission
  EXPECT_EQ(sender.count("INVITE"), 2U);
  EXPECT_TRUE(layer.receive_response(response_to(req, 180)));
  sender.sent.clear();
  timers.advance(40s);  // no A, and no B once Proceeding (the proxy's Timer C guards it)
  EXPECT_TRUE(sender.sent.empty());
  EXPECT_EQ(layer.alive(), 1U);
  EXPECT_TRUE(layer.receive_response(response_to(req, 200)));
  EXPECT_TRUE(layer.receive_response(response_to(req, 200)));  // 2xx retransmission: to the TU too (RFC 6026)
  EXPECT_TRUE(sender.sent.empty());                            // the 2xx ACK is not ours to send
  ASSERT_EQ(user.events.size(), 3U);
  EXPECT_EQ(user.events[1].code, 200);
  EXPECT_EQ(user.events[2].code, 200);
  timers.advance(32s);  // Timer M
  EXPECT_EQ(layer.alive(), 0U);
  EXPECT_FALSE(layer.receive_response(response_to(req, 200)));  // now a stray for the core
}

TEST_F(TransactionTest, NonInviteClientCompletedAbsorbsRetransmissionsUntilTimerK) {
  const auto req = request("MESSAGE");
  layer.start_client(req, kUdp);
  EXPECT_TRUE(layer.receive_response(response_to(req, 200)));
  EXPECT_TRUE(layer.receive_response(response_to(req, 200)));
  EXPECT_EQ(user.events.size(), 1U);
  sender.sent.clear();
  timers.advance(4900ms);
  EXPECT_EQ(layer.alive(), 1U);
  EXPECT_TRUE(sender.sent.empty());  // no retransmission after the final
  timers.advance(100ms);             // Timer K = T4
  EXPECT_EQ(layer.alive(), 0U);
}

TEST_F(TransactionTest, LossAndReorderingOverUdp) {
  // The first MESSAGE is lost (nobody answers); the retransmission gets a
  // 200; then the 100 that was sent earlier arrives late.
  const auto req = request("MESSAGE");
  layer.start_client(req, kUdp);
  timers.advance(500ms);
  EXPECT_EQ(sender.count("MESSAGE"), 2U);
  EXPECT_TRUE(layer.receive_response(response_to(req, 200)));
  EXPECT_TRUE(layer.receive_response(response_to(req, 100)));
  ASSERT_EQ(user.events.size(), 1U);
  EXPECT_EQ(user.events[0].code, 200);

  // INVITE: the 200 overtakes the 180; the late 180 is not for the TU.
  const auto inv = request("INVITE", "z9hG4bKinv");
  layer.start_client(inv, kUdp);
  EXPECT_TRUE(layer.receive_response(response_to(inv, 200)));
  EXPECT_TRUE(layer.receive_response(response_to(inv, 180)));
  ASSERT_EQ(user.events.size(), 2U);
  EXPECT_EQ(user.events[1].code, 200);
}

TEST_F(TransactionTest, ClientMatchesBranchAndCSeqMethod) {
  const auto inv = request("INVITE");
  layer.start_client(inv, kUdp);
  // A CANCEL carries the INVITE's branch: its response must not match the INVITE.
  const auto cancel = TransactionLayer::make_cancel(inv);
  EXPECT_EQ(cancel.values(HeaderId::via), inv.values(HeaderId::via));
  EXPECT_EQ(*cancel.value(HeaderId::cseq), "1 CANCEL");
  EXPECT_FALSE(layer.receive_response(response_to(cancel, 200)));
  layer.start_client(cancel, kUdp);
  EXPECT_TRUE(layer.receive_response(response_to(cancel, 200)));
  EXPECT_FALSE(layer.receive_response(response_to(request("INVITE", "z9hG4bKother"), 200)));
  ASSERT_EQ(user.events.size(), 1U);
  EXPECT_EQ(user.events[0].code, 200);
  EXPECT_TRUE(layer.client_alive(1));  // the INVITE is untouched
}

TEST_F(TransactionTest, TransportErrorFailsTheClientTransaction) {
  layer.start_client(request("INVITE"), kTcp);
  layer.start_client(request("MESSAGE", "z9hG4bKm"), kUdp);
  layer.on_send_failed(kTcp);
  ASSERT_EQ(user.events.size(), 1U);
  EXPECT_EQ(user.events[0].type, Event::Type::client_error);
  EXPECT_EQ(user.events[0].error, TransactionError::transport);
  layer.on_flow_closed(7);  // already gone: nothing more
  EXPECT_EQ(user.events.size(), 1U);
  layer.on_send_failed(kUdp);
  EXPECT_EQ(user.events.size(), 2U);
  EXPECT_EQ(layer.alive(), 0U);
  EXPECT_EQ(timers.pending(), 0U);
}

TEST_F(TransactionTest, FlowClosedFailsClientTransactionsOnIt) {
  layer.start_client(request("INVITE"), kTcp);
  layer.on_flow_closed(8);
  EXPECT_TRUE(user.events.empty());
  layer.on_flow_closed(7);
  ASSERT_EQ(user.events.size(), 1U);
  EXPECT_EQ(user.events[0].error, TransactionError::transport);
}

// --- server side

TEST_F(TransactionTest, InviteServerAbsorbsRetransmissionsAndResendsTheLastResponse) {
  const auto req = request("INVITE");
  const auto r = layer.receive_request(inbound(req));
  ASSERT_EQ(r.kind, ServerRequest::Kind::new_transaction);
  EXPECT_EQ(layer.receive_request(inbound(req)).kind, ServerRequest::Kind::absorbed);
  EXPECT_TRUE(sender.sent.empty());  // nothing to resend yet
  EXPECT_TRUE(layer.send_response(r.id, make_response(req, 180, "Ringing", "t")));
  EXPECT_EQ(layer.receive_request(inbound(req)).kind, ServerRequest::Kind::absorbed);
  EXPECT_EQ(sender.count("180"), 2U);
}

TEST_F(TransactionTest, InviteServerTimerGDoublesToT2UntilTimerH) {
  const auto req = request("INVITE");
  const auto r = layer.receive_request(inbound(req));
  EXPECT_TRUE(layer.send_response(r.id, make_response(req, 486, "Busy Here", "t")));
  const auto times = send_times(33s);
  EXPECT_EQ(times, (std::vector<long>{0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500}));
  ASSERT_EQ(user.events.size(), 1U);
  EXPECT_EQ(user.events[0].type, Event::Type::server_error);
  EXPECT_EQ(user.events[0].error, TransactionError::timeout);
  EXPECT_EQ(layer.alive(), 0U);
}

TEST_F(TransactionTest, InviteServerAbsorbsAckAndStopsAfterTimerI) {
  const auto req = request("INVITE");
  const auto r = layer.receive_request(inbound(req));
  const auto resp = make_response(req, 404, "Not Found", "t");
  layer.send_response(r.id, resp);
  timers.advance(500ms);
  EXPECT_EQ(sender.count("404"), 2U);
  const auto ack = TransactionLayer::make_ack(req, resp);
  EXPECT_EQ(layer.receive_request(inbound(ack)).kind, ServerRequest::Kind::absorbed);
  EXPECT_EQ(layer.receive_request(inbound(ack)).kind, ServerRequest::Kind::absorbed);  // ACK retransmission
  sender.sent.clear();
  EXPECT_EQ(layer.receive_request(inbound(req)).kind, ServerRequest::Kind::absorbed);
  timers.advance(4900ms);
  EXPECT_TRUE(sender.sent.empty());  // Confirmed: no G, retransmitted INVITE absorbed silently
  EXPECT_EQ(layer.alive(), 1U);
  timers.advance(100ms);  // Timer I = T4
  EXPECT_EQ(layer.alive(), 0U);
  EXPECT_TRUE(user.events.empty());
  EXPECT_EQ(timers.pending(), 0U);
}

TEST_F(TransactionTest, InviteServerOverTcpHasNoTimerGAndEndsOnAck) {
  const auto req = request("INVITE");
  const auto r = layer.receive_request(inbound(req, Protocol::tcp, 9));
  const auto resp = make_response(req, 480, "Temporarily Unavailable", "t");
  layer.send_response(r.id, resp);
  EXPECT_TRUE(same(sender.sent.back().to, Destination{Endpoint{Protocol::tcp, "10.0.0.2", 5060}, 9}));
  timers.advance(10s);
  EXPECT_EQ(sender.count("480"), 1U);
  layer.receive_request(inbound(TransactionLayer::make_ack(req, resp), Protocol::tcp, 9));
  EXPECT_EQ(layer.alive(), 0U);
}

TEST_F(TransactionTest, InviteServerAcceptedPassesOtherAcksAndEndsWithTimerL) {
  const auto req = request("INVITE");
  const auto r = layer.receive_request(inbound(req));
  layer.send_response(r.id, make_response(req, 200, "OK", "t"));
  EXPECT_TRUE(layer.send_response(r.id, make_response(req, 200, "OK", "t2")));  // another branch's 2xx
  EXPECT_FALSE(layer.send_response(r.id, make_response(req, 486, "Busy Here", "t")));
  sender.sent.clear();
  EXPECT_EQ(layer.receive_request(inbound(req)).kind, ServerRequest::Kind::absorbed);
  EXPECT_TRUE(sender.sent.empty());  // 2xx retransmissions are the TU's business
  EXPECT_EQ(layer.receive_request(inbound(request("ACK", "z9hG4bKack2"))).kind, ServerRequest::Kind::ack);
  timers.advance(32s);
  EXPECT_EQ(layer.alive(), 0U);
  // A late retransmission of the INVITE would now start over; that is
  // what Timer L's 64*T1 is sized to make unlikely.
}

TEST_F(TransactionTest, NonInviteServerTimerJ) {
  const auto req = request("MESSAGE");
  const auto r = layer.receive_request(inbound(req));
  EXPECT_EQ(layer.receive_request(inbound(req)).kind, ServerRequest::Kind::absorbed);  // Trying: silent
  EXPECT_TRUE(sender.sent.empty());
  layer.send_response(r.id, make_response(req, 200, "OK", "t"));
  EXPECT_FALSE(layer.send_response(r.id, make_response(req, 500, "Oops", "t")));
  layer.receive_request(inbound(req));
  EXPECT_EQ(sender.count("200"), 2U);
  timers.advance(31900ms);
  EXPECT_EQ(layer.alive(), 1U);
  timers.advance(100ms);
  EXPECT_EQ(layer.alive(), 0U);
  // Over TCP, J is zero.
  layer.send_response(layer.receive_request(inbound(req, Protocol::tcp, 3)).id, make_response(req, 200, "OK"));
  EXPECT_EQ(layer.alive(), 0U);
}

TEST_F(TransactionTest, ServerMatchingUsesBranchSentByAndMethod) {
  const auto a = layer.receive_request(inbound(request("INVITE", "z9hG4bK1", "10.0.0.2:5060")));
  const auto b = layer.receive_request(inbound(request("INVITE", "z9hG4bK1", "10.0.0.9:5060")));
  const auto c = layer.receive_request(inbound(request("OPTIONS", "z9hG4bK1", "10.0.0.2:5060")));
  const auto d = layer.receive_request(inbound(request("INVITE", "z9hG4bK2", "10.0.0.2:5060")));
  for (const auto& r : {a, b, c, d}) EXPECT_EQ(r.kind, ServerRequest::Kind::new_transaction);
  EXPECT_EQ(layer.servers_alive(), 4U);
  // A CANCEL is its own transaction, but finds the INVITE it cancels.
  const auto cancel = TransactionLayer::make_cancel(request("INVITE", "z9hG4bK1", "10.0.0.9:5060"));
  EXPECT_EQ(layer.find_invite_for_cancel(cancel), b.id);
  EXPECT_EQ(layer.receive_request(inbound(cancel)).kind, ServerRequest::Kind::new_transaction);
  EXPECT_EQ(layer.find_invite_for_cancel(TransactionLayer::make_cancel(request("INVITE", "z9hG4bK3"))), 0U);
}

TEST_F(TransactionTest, Rfc2543RequestsMatchWithoutMagicCookie) {
  const auto req = request("INVITE", "old1");
  const auto r = layer.receive_request(inbound(req));
  ASSERT_EQ(r.kind, ServerRequest::Kind::new_transaction);
  const auto resp = make_response(req, 486, "Busy Here", "t");
  layer.send_response(r.id, resp);
  EXPECT_EQ(layer.receive_request(inbound(req)).kind, ServerRequest::Kind::absorbed);
  EXPECT_EQ(layer.receive_request(inbound(TransactionLayer::make_ack(req, resp))).kind, ServerRequest::Kind::absorbed);
}

TEST_F(TransactionTest, UdpResponsesGoToSourceAddressAndRportOrSentByPort) {
  // NATed client without rport: received address, sent-by port.
  auto in = inbound(request("OPTIONS", "z9hG4bK1", "192.168.1.5:5070"));
  in.source = Endpoint{Protocol::udp, "203.0.113.9", 40000};
  layer.send_response(layer.receive_request(in).id, make_response(in.message, 200, "OK"));
  EXPECT_EQ(sender.sent.back().to.endpoint, (Endpoint{Protocol::udp, "203.0.113.9", 5070}));
  // With rport: the source port too.
  auto in2 = inbound(request("OPTIONS", "z9hG4bK2", "192.168.1.5", ";rport"));
  in2.source = Endpoint{Protocol::udp, "203.0.113.9", 40000};
  layer.send_response(layer.receive_request(in2).id, make_response(in2.message, 200, "OK"));
  EXPECT_EQ(sender.sent.back().to.endpoint, (Endpoint{Protocol::udp, "203.0.113.9", 40000}));
}

TEST_F(TransactionTest, ServerTransportErrorTerminatesAndReports) {
  const auto req = request("INVITE");
  const auto r = layer.receive_request(inbound(req, Protocol::tcp, 4));
  layer.send_response(r.id, make_response(req, 180, "Ringing", "t"));
  layer.on_send_failed(Destination{Endpoint{Protocol::tcp, "10.0.0.2", 5060}, 4});
  ASSERT_EQ(user.events.size(), 1U);
  EXPECT_EQ(user.events[0].type, Event::Type::server_error);
  EXPECT_EQ(user.events[0].error, TransactionError::transport);
  EXPECT_FALSE(layer.server_alive(r.id));
  EXPECT_FALSE(layer.send_response(r.id, make_response(req, 200, "OK", "t")));
}

TEST_F(TransactionTest, ManyTransactionsAllFreed) {
  for (int i = 0; i < 50; ++i) {
    const auto branch = "z9hG4bK" + std::to_string(i);
    const auto req = request(i % 2 ? "INVITE" : "MESSAGE", branch);
    layer.start_client(req, kUdp);
    if (i % 3 == 0) layer.receive_response(response_to(req, i % 2 ? 486 : 200));
    const auto s = request(i % 2 ? "INVITE" : "MESSAGE", branch, "10.0.0.7");
    const auto r = layer.receive_request(inbound(s));
    if (i % 4 == 0) layer.send_response(r.id, make_response(s, 500, "Server Error"));
    if (i % 4 == 1) layer.send_response(r.id, make_response(s, 200, "OK"));
    if (i % 4 == 2) layer.abandon_server(r.id);
  }
  EXPECT_GT(layer.alive(), 0U);
  // Unanswered INVITE server transactions in Proceeding belong to the TU,
  // which must answer or abandon them; do so, then let every timer run.
  for (ServerTransactionId id = 1; id < 200; ++id) {
    if (layer.server_alive(id) && !layer.server_final_sent(id)) layer.abandon_server(id);
  }
  timers.advance(70s);
  EXPECT_EQ(layer.alive(), 0U);
  EXPECT_EQ(timers.pending(), 0U);
  EXPECT_EQ(gauge(), "sipsite_sip_transactions 0");
}

// --- the cap on live transactions

// A layer whose cap is 16: REGISTER, CANCEL and in-dialog requests may use
// 16 / 8 = 2 more.
class CappedTransactionTest : public TransactionTest {
 protected:
  TransactionLayer capped{TimerSettings{}, user, sender, timers, counters, nullptr, TransactionLimits{16}};

  ServerRequest::Kind receive(std::string_view method, int n, std::string_view to_tag = "") {
    auto m = request(method, "z9hG4bKcap" + std::to_string(n));
    if (!to_tag.empty()) m.set_header("To", "<sip:bob@site.example>;tag=" + std::string(to_tag));
    return capped.receive_request(inbound(std::move(m))).kind;
  }
};

TEST_F(CappedTransactionTest, NewRequestsBeyondTheCapGetNoTransaction) {
  for (int n = 0; n < 16; ++n) ASSERT_EQ(receive("INVITE", n), ServerRequest::Kind::new_transaction);
  EXPECT_EQ(receive("INVITE", 16), ServerRequest::Kind::overloaded);
  EXPECT_EQ(receive("MESSAGE", 17), ServerRequest::Kind::overloaded);
  EXPECT_EQ(capped.alive(), 16U);
  EXPECT_NE(counters.prometheus().find("sipsite_sip_transactions_refused_total 2\n"), std::string::npos);
  // A retransmission of a request that has a transaction is still absorbed.
  EXPECT_EQ(receive("INVITE", 3), ServerRequest::Kind::absorbed);
}

TEST_F(CappedTransactionTest, RegisterCancelAndInDialogRequestsUseTheReserve) {
  for (int n = 0; n < 16; ++n) ASSERT_EQ(receive("INVITE", n), ServerRequest::Kind::new_transaction);
  EXPECT_EQ(receive("REGISTER", 100), ServerRequest::Kind::new_transaction);
  EXPECT_EQ(receive("BYE", 101, "callee"), ServerRequest::Kind::new_transaction);
  EXPECT_EQ(receive("CANCEL", 102), ServerRequest::Kind::overloaded);  // the reserve is full too
  EXPECT_EQ(capped.alive(), 18U);
}

TEST_F(CappedTransactionTest, TheCapFreesAsTransactionsEnd) {
  std::vector<Message> requests;
  for (int n = 0; n < 16; ++n) {
    requests.push_back(request("OPTIONS", "z9hG4bKcap" + std::to_string(n)));
    const auto r = capped.receive_request(inbound(requests.back()));
    ASSERT_EQ(r.kind, ServerRequest::Kind::new_transaction);
    capped.send_response(r.id, make_response(requests.back(), 200, "OK", "t"));
  }
  EXPECT_EQ(receive("OPTIONS", 16), ServerRequest::Kind::overloaded);
  timers.advance(32s);  // Timer J
  EXPECT_EQ(capped.alive(), 0U);
  EXPECT_EQ(receive("OPTIONS", 16), ServerRequest::Kind::new_transaction);
}

TEST_F(TransactionTest, StatelessResponsesGoWhereATransactionWouldAnswer) {
  // No rport: the sent-by port; with rport: the packet's source port.
  const auto plain = request("INVITE", "z9hG4bKs1", "10.0.0.2:5070");
  layer.send_stateless(Inbound{plain, Endpoint{Protocol::udp, "10.0.0.2", 40000}, 0, Endpoint{}, {}},
                       make_response(plain, 503, "Service Unavailable"));
  const auto rport = request("INVITE", "z9hG4bKs2", "10.0.0.2:5070", ";rport");
  layer.send_stateless(Inbound{rport, Endpoint{Protocol::udp, "10.0.0.2", 40000}, 0, Endpoint{}, {}},
                       make_response(rport, 503, "Service Unavailable"));
  ASSERT_EQ(sender.sent.size(), 2U);
  EXPECT_EQ(sender.sent[0].to.endpoint.port, 5070);
  EXPECT_EQ(sender.sent[1].to.endpoint.port, 40000);
  EXPECT_EQ(sender.count("503"), 2U);
  EXPECT_EQ(layer.alive(), 0U);
}

}  // namespace
}  // namespace sipsite::sip

namespace sipsite::sip {
namespace {

// The duration histogram: a transaction is timed from its start to its
// final response, by the layer's clock (here the manual one), once.
TEST(TransactionDurations, ServerAndClientTransactionsAreTimedToTheirFinalResponse) {
  ManualTimers timers;
  test::FakeSender sender;
  RecordingUser user;
  Counters counters;
  TransactionLayer layer{TimerSettings{}, user, sender, timers, counters, &timers};
  const auto in = layer.receive_request(inbound(request("OPTIONS")));
  ASSERT_EQ(in.kind, ServerRequest::Kind::new_transaction);
  timers.advance(20ms);
  ASSERT_TRUE(layer.send_response(in.id, make_response(request("OPTIONS"), 200, "OK", "t")));

  // Over UDP, so that the final's retransmission still finds the transaction.
  const Message invite = request("INVITE", "z9hG4bKinv");
  ASSERT_NE(layer.start_client(invite, Destination{Endpoint{Protocol::udp, "10.0.0.3", 5060}, 0}), 0U);
  timers.advance(3000ms);
  ASSERT_TRUE(layer.receive_response(response_to(invite, 180)));
  timers.advance(1000ms);
  ASSERT_TRUE(layer.receive_response(response_to(invite, 486)));
  ASSERT_TRUE(layer.receive_response(response_to(invite, 486)));  // a retransmission: absorbed, not timed again

  const std::string text = counters.prometheus();
  const auto has = [&](const std::string& line) { return text.find(line + "\n") != std::string::npos; };
  EXPECT_TRUE(has("# TYPE sipsite_sip_transaction_duration_seconds histogram")) << text;
  EXPECT_TRUE(has("sipsite_sip_transaction_duration_seconds_bucket{role=\"server\",method=\"other\",le=\"0.01\"} 0"));
  EXPECT_TRUE(has("sipsite_sip_transaction_duration_seconds_bucket{role=\"server\",method=\"other\",le=\"0.025\"} 1"));
  EXPECT_TRUE(has("sipsite_sip_transaction_duration_seconds_sum{role=\"server\",method=\"other\"} 0.02"));
  EXPECT_TRUE(has("sipsite_sip_transaction_duration_seconds_bucket{role=\"client\",method=\"invite\",le=\"2.5\"} 0"));
  EXPECT_TRUE(has("sipsite_sip_transaction_duration_seconds_bucket{role=\"client\",method=\"invite\",le=\"5\"} 1"));
  EXPECT_TRUE(has("sipsite_sip_transaction_duration_seconds_count{role=\"client\",method=\"invite\"} 1")) << text;
  EXPECT_TRUE(has("sipsite_sip_transaction_duration_seconds_count{role=\"server\",method=\"invite\"} 0"));
}

}  // namespace
}  // namespace sipsite::sip
