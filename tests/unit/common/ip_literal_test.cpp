#include "sipsite/common/ip_literal.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sipsite::common {
namespace {

TEST(IpLiteral, AddressesTheKernelParses) {
  EXPECT_TRUE(is_ip_literal("0.0.0.0"));
  EXPECT_TRUE(is_ip_literal("192.0.2.10"));
  EXPECT_TRUE(is_ip_literal("::"));
  EXPECT_TRUE(is_ip_literal("::1"));
  EXPECT_TRUE(is_ip_literal("[2001:db8::5]"));
  EXPECT_TRUE(is_ip_literal("::ffff:192.0.2.1"));
  EXPECT_TRUE(is_ipv4_literal("127.0.0.1"));
  EXPECT_FALSE(is_ipv4_literal("::1"));
  EXPECT_TRUE(is_ipv6_literal("[::1]"));
}

TEST(IpLiteral, NamesAndNearMissesAreNot) {
  EXPECT_FALSE(is_ip_literal(""));
  EXPECT_FALSE(is_ip_literal("alpha.example"));
  EXPECT_FALSE(is_ip_literal("1.2.3"));  // digits and dots, but not an address
  EXPECT_FALSE(is_ip_literal("256.1.1.1"));
  EXPECT_FALSE(is_ip_literal("[192.0.2.1]"));  // brackets are for IPv6 only
  EXPECT_FALSE(is_ip_literal("::1]"));
  EXPECT_FALSE(is_ip_literal("gg::1"));
  EXPECT_FALSE(is_ip_literal(std::string(200, '1')));
  EXPECT_FALSE(is_ip_literal(std::string_view("1.2.3.4\0", 8)));
}

TEST(IpLiteral, Unbracketed) {
  EXPECT_EQ(unbracketed("[::1]"), "::1");
  EXPECT_EQ(unbracketed("::1"), "::1");
  EXPECT_EQ(unbracketed("["), "[");
}

}  // namespace
}  // namespace sipsite::common
