// Heap bytes held per SIP transaction, measured with mallinfo2() around
// N transactions of one kind, with the daemon's real timers (AsioTimers on
// an io_context that is never run, so every transaction stays in the state
// it reached). Kinds, as a UDP call leaves them behind:
//   invite-server-accepted  INVITE answered 200 (RFC 6026 Timer L, 32 s)
//   invite-server-407       INVITE answered 407, waiting for its ACK (Timer H)
//   invite-client-accepted  INVITE sent, 200 received (Timer M, 32 s)
//   bye-server-completed    BYE answered 200 (Timer J, 32 s)
//   bye-client-completed    BYE sent, 200 received (Timer K, 5 s)
// Usage: txmem [N]   (default 20000, below the default cap on transactions)
#include <sipsite/sip/counters.hpp>
#include <sipsite/sip/message/parser.hpp>
#include <sipsite/sip/message/response.hpp>
#include <sipsite/sip/message/serializer.hpp>
#include <sipsite/sip/transaction/transaction.hpp>
#include <sipsite/transport/asio_timers.hpp>

#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace {

using namespace sipsite;

struct NoUser final : sip::TransactionUser {
  void on_response(sip::ClientTransactionId, const sip::Inbound&) override {}
  void on_client_error(sip::ClientTransactionId, sip::TransactionError) override {}
  void on_server_error(sip::ServerTransactionId, sip::TransactionError) override {}
};
struct NoSender final : sip::Sender {
  void send(const sip::Destination&, sip::Outgoing&) override {}
  void send_wire(const sip::Destination&, std::string) override {}
};

// A request shaped like sipload's (and a softphone's): ~600 bytes, SDP
// left out (the server transaction never keeps the request).
sip::Message request(const std::string& method, int n) {
  const std::string id = std::to_string(n);
  std::string text = method +
                     " sip:u2201@bench.example SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK-" +
                     id +
                     "-5f3a9c;rport\r\n"
                     "Max-Forwards: 70\r\n"
                     "From: <sip:u2001@bench.example>;tag=t" +
                     id +
                     "\r\n"
                     "To: <sip:u2201@bench.example>" +
                     (method == "BYE" ? ";tag=callee" : "") +
                     "\r\n"
                     "Call-ID: " +
                     id +
                     "-8d41e07c2b@127.0.0.1\r\n"
                     "CSeq: 1 " +
                     method +
                     "\r\n"
                     "Contact: <sip:u2001@127.0.0.1:40000>\r\n"
                     "Record-Route: <sip:127.0.0.1:5060;lr;rt=abcdef0123456789>\r\n"
                     "Content-Length: 0\r\n\r\n";
  return sip::parse_datagram(text).value();
}

sip::Inbound inbound(sip::Message m) {
  return sip::Inbound{std::move(m),
                      sip::Endpoint{sip::Protocol::udp, "127.0.0.1", 40000},
                      0,
                      sip::Endpoint{sip::Protocol::udp, "127.0.0.1", 5060},
                      {}};
}

std::size_t heap() { return mallinfo2().uordblks; }

template <class Make>
void measure(const char* kind, int n, Make make) {
  boost::asio::io_context io;
  transport::AsioTimers timers(io);
  NoUser user;
  NoSender sender;
  sip::Counters counters;
  auto layer = std::make_unique<sip::TransactionLayer>(sip::TimerSettings{}, user, sender, timers, counters);
  const std::size_t before = heap();
  for (int i = 0; i < n; ++i) make(*layer, i);
  const std::size_t after = heap();
  std::printf("%-24s %8zu transactions  %6zu bytes each (%zu timers pending)\n", kind, layer->alive(),
              (after - before) / layer->alive(), timers.pending());
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 20000;
  const sip::Destination callee{sip::Endpoint{sip::Protocol::udp, "127.0.0.1", 40002}, 0};
  measure("invite-server-accepted", n, [](sip::TransactionLayer& l, int i) {
    const auto m = request("INVITE", i);
    const auto r = l.receive_request(inbound(m));
    l.send_response(r.id, sip::make_response(m, 200, "OK", "callee"));
  });
  measure("invite-server-407", n, [](sip::TransactionLayer& l, int i) {
    const auto m = request("INVITE", i);
    const auto r = l.receive_request(inbound(m));
    auto challenge = sip::make_response(m, 407, "Proxy Authentication Required", "site");
    challenge.add_header("Proxy-Authenticate",
                         "Digest realm=\"bench.example\", nonce=\"0123456789abcdef0123456789abcdef\", qop=\"auth\", "
                         "algorithm=MD5");
    l.send_response(r.id, challenge);
  });
  measure("invite-client-accepted", n, [&](sip::TransactionLayer& l, int i) {
    const auto m = request("INVITE", i);
    l.start_client(m, callee);
    l.receive_response(inbound(sip::parse_datagram(sip::serialize(sip::make_response(m, 200, "OK", "c"))).value()));
  });
  measure("bye-server-completed", n, [](sip::TransactionLayer& l, int i) {
    const auto m = request("BYE", i);
    const auto r = l.receive_request(inbound(m));
    l.send_response(r.id, sip::make_response(m, 200, "OK"));
  });
  measure("bye-client-completed", n, [&](sip::TransactionLayer& l, int i) {
    const auto m = request("BYE", i);
    l.start_client(m, callee);
    l.receive_response(inbound(sip::parse_datagram(sip::serialize(sip::make_response(m, 200, "OK"))).value()));
  });
  return 0;
}
