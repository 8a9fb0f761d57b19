#include "sipsite/sip/message/message.hpp"
#include "sipsite/sip/message/parser.hpp"

#include <gtest/gtest.h>

#include <utility>

namespace sipsite::sip {
namespace {

constexpr std::string_view kInvite =
    "INVITE sip:bob@example.com SIP/2.0\r\n"
    "v: SIP/2.0/UDP a.example;branch=z9hG4bK1\r\n"
    "Via: SIP/2.0/UDP b.example;branch=z9hG4bK2, SIP/2.0/UDP c.example;branch=z9hG4bK3\r\n"
    "Max-Forwards: 70\r\n"
    "To: <sip:bob@example.com>\r\n"
    "f: \"A, B\" <sip:alice@example.com>;tag=1\r\n"
    "i: abc@host\r\n"
    "CSeq: 1 INVITE\r\n"
    "X-Thing: one\r\n"
    "x-thing: two, three\r\n"
    "Content-Length: 4\r\n"
    "\r\n"
    "body";

Message parsed() {
  auto m = parse_datagram(kInvite);
  EXPECT_TRUE(m);
  return std::move(*m);
}

TEST(Message, CaseInsensitiveAndCompactLookup) {
  const auto m = parsed();
  EXPECT_EQ(m.count(HeaderId::via), 2U);
  EXPECT_EQ(m.count("VIA"), 2U);
  EXPECT_EQ(m.count("v"), 2U);
  EXPECT_EQ(*m.value("Call-ID"), "abc@host");
  EXPECT_EQ(*m.value("from"), "\"A, B\" <sip:alice@example.com>;tag=1");
  EXPECT_EQ(m.find("From")->name, "f");
  EXPECT_FALSE(m.value("Subject"));
  EXPECT_EQ(m.count("X-THING"), 2U);
}

TEST(Message, ValuesSplitListHeadersOnly) {
  const auto m = parsed();
  const auto vias = m.values(HeaderId::via);
  ASSERT_EQ(vias.size(), 3U);
  EXPECT_EQ(vias[2], "SIP/2.0/UDP c.example;branch=z9hG4bK3");
  EXPECT_EQ(m.values("From").size(), 1U);  // the comma in the display name is not a separator
  const auto unknown = m.values("x-thing");
  ASSERT_EQ(unknown.size(), 2U);
  EXPECT_EQ(unknown[1], "two, three");  // unknown headers are not split
}

TEST(Message, ViewsSurviveMovesCopiesAndMutation) {
  auto m = parsed();
  const auto call_id = *m.value(HeaderId::call_id);
  const auto body = m.body();
  Message moved = std::move(m);
  Message copy = moved;
  moved = Message{};  // the original storage goes away from `moved`
  EXPECT_EQ(call_id, "abc@host");
  EXPECT_EQ(body, "body");
  copy.set_header("Call-ID", "new@host");
  copy.set_body("changed");
  EXPECT_EQ(call_id, "abc@host");  // old views still read the old text
  EXPECT_EQ(*copy.value("i"), "new@host");
  EXPECT_EQ(copy.body(), "changed");
}

TEST(Message, MutatorsKeepOrderAndRefuseInjection) {
  auto m = parsed();
  EXPECT_TRUE(m.add_header_front("Via", "SIP/2.0/TLS proxy.example;branch=z9hG4bKp"));
  EXPECT_EQ(m.headers().front().value, "SIP/2.0/TLS proxy.example;branch=z9hG4bKp");
  EXPECT_EQ(m.count(HeaderId::via), 3U);
  EXPECT_TRUE(m.add_header("X-New", "a\r\nInjected: yes"));
  EXPECT_EQ(*m.value("X-New"), "a  Injected: yes");
  EXPECT_FALSE(m.count("Injected"));
  EXPECT_FALSE(m.add_header("Bad Name", "v"));
  EXPECT_FALSE(m.add_header("", "v"));
  EXPECT_TRUE(m.set_header("x-thing", "only"));
  EXPECT_EQ(m.count("X-Thing"), 1U);
  EXPECT_EQ(m.remove_headers("v"), 3U);
  EXPECT_EQ(m.count(HeaderId::via), 0U);
  EXPECT_TRUE(m.insert_header(1, "Route", "<sip:r.example;lr>"));
  EXPECT_EQ(m.headers()[1].id, HeaderId::route);
  m.remove_header_at(1);
  m.remove_header_at(1000);
  EXPECT_FALSE(m.find(HeaderId::route));
}

TEST(Message, Factories) {
  auto r = Message::make_request("OPTIONS", "sip:a@b");
  EXPECT_TRUE(r.is_request());
  EXPECT_EQ(r.method(), "OPTIONS");
  EXPECT_EQ(r.request_uri(), "sip:a@b");
  EXPECT_EQ(r.version(), "SIP/2.0");
  auto s = Message::make_response(486, "Busy Here");
  EXPECT_TRUE(s.is_response());
  EXPECT_EQ(s.status_code(), 486);
  EXPECT_EQ(s.reason_phrase(), "Busy Here");
}

}  // namespace
}  // namespace sipsite::sip
