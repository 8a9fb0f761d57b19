#include <sipsite/pki/host_port.hpp>

#include <gtest/gtest.h>

namespace sipsite::pki {
namespace {

TEST(HostPort, ParsesNamesIPv4AndBracketedIPv6) {
  auto a = parse_host_port("alpha.example:5062");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "alpha.example");
  EXPECT_EQ(a->port, 5062);
  auto b = parse_host_port("0.0.0.0:5060");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->to_string(), "0.0.0.0:5060");
  auto c = parse_host_port("[::]:5061");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "::");
  EXPECT_TRUE(c->is_ipv6());
  EXPECT_EQ(c->to_string(), "[::]:5061");
}

TEST(HostPort, PortZeroOnlyWhenAllowed) {
  EXPECT_FALSE(parse_host_port("127.0.0.1:0"));
  EXPECT_TRUE(parse_host_port("127.0.0.1:0", true));
}

TEST(HostPort, RejectsMalformed) {
  for (const char* text : {"", ":", "host", "host:", ":5060", "host:x", "host:65536", "host:-1", "::1:5060",
                           "[::1]5060", "[::1]:", "[1.2.3.4]:5", "a b:1", "host:1 ", "h/x:1"}) {
    auto r = parse_host_port(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().code, Errc::bad_address);
    EXPECT_NE(r.error().message.find("HOST:PORT"), std::string::npos);
  }
}

}  // namespace
}  // namespace sipsite::pki
