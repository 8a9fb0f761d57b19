#include "sipsite/sip/message/parser.hpp"
#include "sipsite/sip/message/serializer.hpp"

#include <gtest/gtest.h>

namespace sipsite::sip {
namespace {

TEST(Serializer, BuildsRequestFromScratch) {
  auto m = Message::make_request("MESSAGE", "sip:bob@example.com");
  m.add_header("Via", "SIP/2.0/UDP a.example;branch=z9hG4bK1");
  m.add_header("X-Custom", "yes");
  m.set_body("hi there");
  EXPECT_EQ(serialize(m),
            "MESSAGE sip:bob@example.com SIP/2.0\r\n"
            "Via: SIP/2.0/UDP a.example;branch=z9hG4bK1\r\n"
            "X-Custom: yes\r\n"
            "Content-Length: 8\r\n"
            "\r\n"
            "hi there");
}

TEST(Serializer, CanonicalNamesAndRecomputedContentLength) {
  const auto m = parse_datagram(
      "SIP/2.0 200 OK\r\n"
      "v: SIP/2.0/UDP a.example;branch=z9hG4bK1\r\n"
      "CALL-ID:  x@y \r\n"
      "l: 3\r\n"
      "X-Odd-Case: kept\r\n"
      "\r\n"
      "abc");
  ASSERT_TRUE(m);
  EXPECT_EQ(serialize(*m),
            "SIP/2.0 200 OK\r\n"
            "Via: SIP/2.0/UDP a.example;branch=z9hG4bK1\r\n"
            "Call-ID: x@y\r\n"
            "X-Odd-Case: kept\r\n"
            "Content-Length: 3\r\n"
            "\r\n"
            "abc");
}

TEST(Serializer, EditsThenRoundTrip) {
  auto m = parse_datagram(
      "INVITE sip:bob@example.com SIP/2.0\r\n"
      "Via: SIP/2.0/UDP a.example;branch=z9hG4bK1\r\n"
      "User-Agent: phone 1.0\r\n"
      "Content-Length: 5\r\n"
      "\r\n"
      "12345");
  ASSERT_TRUE(m);
  m->add_header_front("Via", "SIP/2.0/TLS proxy.example;branch=z9hG4bKp");
  m->remove_headers("User-Agent");
  m->set_request_uri("sip:bob@10.0.0.2:5060");
  m->set_body(std::string("new\0body", 8));
  const auto wire = serialize(*m);
  const auto again = parse_datagram(wire);
  ASSERT_TRUE(again) << again.error().reason;
  EXPECT_EQ(again->request_uri(), "sip:bob@10.0.0.2:5060");
  EXPECT_EQ(again->count("Via"), 2U);
  EXPECT_FALSE(again->find("User-Agent"));
  EXPECT_EQ(again->body(), std::string_view("new\0body", 8));
  EXPECT_EQ(*again->value("Content-Length"), "8");
  EXPECT_EQ(serialize(*again), wire);
}

TEST(Serializer, FoldedInputComesOutOnOneLine) {
  const auto m = parse_datagram("OPTIONS sip:a@b SIP/2.0\r\nSubject: a\r\n b\r\n\r\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(serialize(*m), "OPTIONS sip:a@b SIP/2.0\r\nSubject: a b\r\nContent-Length: 0\r\n\r\n");
}

}  // namespace
}  // namespace sipsite::sip
