#include "sipsite/sip/message/via.hpp"

#include <gtest/gtest.h>

namespace sipsite::sip {
namespace {

TEST(Via, Basic) {
  const auto v = parse_via_list("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776;received=10.0.0.1;rport");
  ASSERT_TRUE(v) << v.error().reason;
  ASSERT_EQ(v->size(), 1U);
  const auto& via = v->front();
  EXPECT_EQ(via.protocol_name, "SIP");
  EXPECT_EQ(via.protocol_version, "2.0");
  EXPECT_EQ(via.transport, "UDP");
  EXPECT_EQ(via.host, "192.0.2.1");
  EXPECT_EQ(via.port, 5060);
  EXPECT_EQ(*via.branch(), "z9hG4bK776");
  EXPECT_TRUE(via.has_rfc3261_branch());
  EXPECT_EQ(*via.received(), "10.0.0.1");
  EXPECT_TRUE(via.has_rport());
  EXPECT_FALSE(via.rport());
}

TEST(Via, RportWithValueIpv6AndList) {
  const auto v = parse_via_list(
      "SIP/2.0/TLS [2001:db8::9]:5061;rport=4000;branch=z9hG4bKa , SIP / 2.0 / TCP h.example ; branch = z9hG4bKb");
  ASSERT_TRUE(v) << v.error().reason;
  ASSERT_EQ(v->size(), 2U);
  EXPECT_EQ((*v)[0].host, "[2001:db8::9]");
  EXPECT_EQ((*v)[0].port, 5061);
  EXPECT_EQ((*v)[0].rport(), 4000);
  EXPECT_EQ((*v)[1].transport, "TCP");
  EXPECT_EQ(*(*v)[1].branch(), "z9hG4bKb");
  EXPECT_FALSE((*v)[1].port);
}

TEST(Via, Rejects) {
  for (const char* bad :
       {"", "SIP/2.0 host", "SIP/2.0/UDP", "SIP/2.0/UDP ", "SIP/2.0/UDPhost",
        "SIP/2.0/UDP host:", "SIP/2.0/UDP host:70000", "SIP/2.0/UDP host;;", "SIP/2.0/UDP 192.0.2.15;;,;,,",
        "SIP/2.0/UDP host,", "SIP/2.0/UDP host;branch", "SIP/2.0/UDP host;received", "SIP/2.0/UDP host;received=a b",
        "SIP/2.0/UDP host;rport=x", "SIP/2.0/UDP [::1", "SIP/2.0/UDP host junk", "SIP/2.0/UDP ho$t"}) {
    EXPECT_FALSE(parse_via_list(bad)) << bad;
  }
}

}  // namespace
}  // namespace sipsite::sip
