#include "sipsite/sip/message/uri.hpp"

#include <gtest/gtest.h>

namespace sipsite::sip {
namespace {

TEST(Uri, FullSipUri) {
  const auto u = parse_uri("sips:alice:secret@[2001:db8::1]:5061;transport=tls;lr?Subject=hi&Priority=urgent");
  ASSERT_TRUE(u) << u.error().reason;
  const auto* s = u->sip();
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->secure);
  EXPECT_EQ(u->scheme(), "sips");
  EXPECT_EQ(s->user, "alice");
  EXPECT_EQ(*s->password, "secret");
  EXPECT_EQ(s->host, "[2001:db8::1]");
  EXPECT_EQ(s->port, 5061);
  ASSERT_EQ(s->params.size(), 2U);
  EXPECT_EQ(*find_param(s->params, "TRANSPORT")->value, "tls");
  EXPECT_FALSE(find_param(s->params, "lr")->value);
  ASSERT_EQ(s->headers.size(), 2U);
  EXPECT_EQ(s->headers[1].name, "Priority");
  EXPECT_EQ(*s->headers[1].value, "urgent");
}

TEST(Uri, HostOnlyAndSchemeCase) {
  const auto u = parse_uri("SIP:example.com");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->is_sip());
  EXPECT_FALSE(u->sip()->secure);
  EXPECT_TRUE(u->sip()->user.empty());
  EXPECT_EQ(u->sip()->host, "example.com");
  EXPECT_FALSE(u->sip()->port);
}

TEST(Uri, Ipv4AndPort) {
  const auto u = parse_uri("sip:bob@192.0.2.4:5060");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->sip()->host, "192.0.2.4");
  EXPECT_EQ(u->sip()->port, 5060);
}

TEST(Uri, TelUri) {
  const auto u = parse_uri("tel:+1-201-555-0123;phone-context=example.com");
  ASSERT_TRUE(u);
  ASSERT_NE(u->tel(), nullptr);
  EXPECT_EQ(u->tel()->number, "+1-201-555-0123");
  EXPECT_EQ(*find_param(u->tel()->params, "phone-context")->value, "example.com");
  EXPECT_FALSE(parse_uri("tel:"));
  EXPECT_FALSE(parse_uri("tel:+1 555"));
}

TEST(Uri, OtherSchemesAreOpaque) {
  const auto u = parse_uri("http://www.example.com/a?b=c");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme(), "http");
  EXPECT_FALSE(u->is_sip());
  EXPECT_FALSE(parse_uri("1http:x"));
  EXPECT_FALSE(parse_uri("http:"));
  EXPECT_FALSE(parse_uri("urn:a b"));
}

TEST(Uri, RejectsMalformed) {
  for (const char* bad : {"",
                          "sip:",
                          "sip:@example.com",
                          "sip:user@",
                          "sip:user@host:",
                          "sip:user@host:99999",
                          "sip:user@host:12a",
                          "sip:user@[::1",
                          "sip:user@[::1]x",
                          "sip:user@[zz::1]",
                          "sip:us er@host",
                          "sip:user@ho st",
                          "sip:user%4@host",
                          "sip:user%GG@host",
                          "sip:host;",
                          "sip:host;=v",
                          "sip:host;a=",
                          "sip:host?x",
                          "sip:host?=v",
                          "<sip:host>",
                          "sip:host>",
                          "sip:a..b",
                          "sip:-host",
                          "nocolon",
                          "sip:user@host;a=b c"}) {
    EXPECT_FALSE(parse_uri(bad)) << bad;
  }
}

TEST(Uri, Ipv6Forms) {
  EXPECT_TRUE(parse_uri("sip:[::1]"));
  EXPECT_TRUE(parse_uri("sip:[::ffff:192.0.2.1]:5060"));
  EXPECT_TRUE(parse_uri("sip:[2001:db8:0:0:0:0:0:1]"));
  EXPECT_FALSE(parse_uri("sip:[2001:db8::1::2]"));
  EXPECT_FALSE(parse_uri("sip:[1:2:3:4:5:6:7:8:9]"));
  EXPECT_FALSE(parse_uri("sip:[12345::1]"));
}

TEST(Uri, Unescape) {
  EXPECT_EQ(*unescape("a%20b"), "a b");
  EXPECT_EQ(*unescape("%41%6c"), "Al");
  EXPECT_EQ(*unescape("%00"), std::string(1, '\0'));
  EXPECT_FALSE(unescape("%"));
  EXPECT_FALSE(unescape("%4"));
  EXPECT_FALSE(unescape("%zz"));
  EXPECT_EQ(*unescape("plain"), "plain");
}

}  // namespace
}  // namespace sipsite::sip
