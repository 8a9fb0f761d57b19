#pragma once
// A Sender that records every message handed to it, for transaction and
// core tests. Each send is parsed back from the bytes that would go on the
// wire, so tests can look at it as a Message; first sends and
// retransmissions alike.

#include "sipsite/sip/io.hpp"
#include "sipsite/sip/message/message.hpp"
#include "sipsite/sip/message/parser.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::sip::test {

inline bool same(const Destination& a, const Destination& b) { return a.endpoint == b.endpoint && a.flow == b.flow; }

struct Sent {
  Destination to;
  std::string bytes;
  Message message;  // parsed back; a default Message if the bytes did not parse

  [[nodiscard]] bool is_request(std::string_view method) const {
    return message.is_request() && message.method() == method;
  }
  [[nodiscard]] bool is_response(int code) const { return message.is_response() && message.status_code() == code; }
  // "INVITE", "200", ... : what the message is, for readable expectations.
  [[nodiscard]] std::string what() const {
    return message.is_request() ? std::string(message.method()) : std::to_string(message.status_code());
  }
};

class FakeSender final : public Sender {
 public:
  void send(const Destination& to, Outgoing& out) override { send_wire(to, out.wire()); }
  void send_wire(const Destination& to, std::string bytes) override {
    auto parsed = parse_datagram(bytes);
    sent.push_back(Sent{to, std::move(bytes), parsed ? std::move(*parsed) : Message{}});
  }

  // Everything sent since the last take(), and forgets it.
  std::vector<Sent> take() {
    std::vector<Sent> out;
    out.swap(sent);
    return out;
  }

  [[nodiscard]] std::size_t count(std::string_view what) const {
    std::size_t n = 0;
    for (const auto& s : sent) n += s.what() == what ? 1 : 0;
    return n;
  }

  std::vector<Sent> sent;
};

}  // namespace sipsite::sip::test
