#include "sipsite/sip/proxy/site_names.hpp"

#include <gtest/gtest.h>

namespace sipsite::sip {
namespace {

// A site listening on 0.0.0.0:5060 (UDP) and 0.0.0.0:5061 (TLS) of a machine
// with 127.0.0.1 and 192.168.1.10, aliases pbx.alpha.example and 203.0.113.5.
SiteNames wildcard_site() {
  return SiteNames("alpha.example", {"pbx.alpha.example", "[2001:db8::5]", "203.0.113.5"},
                   {{Protocol::udp, "127.0.0.1", 5060},
                    {Protocol::udp, "192.168.1.10", 5060},
                    {Protocol::tls, "127.0.0.1", 5061},
                    {Protocol::tls, "192.168.1.10", 5061}});
}

TEST(SiteNames, NamesDesignateTheSiteWhateverThePort) {
  const auto names = wildcard_site();
  for (const auto* host : {"alpha.example", "ALPHA.example", "pbx.alpha.example"}) {
    EXPECT_TRUE(names.is_us(host, std::nullopt)) << host;
    EXPECT_TRUE(names.is_us(host, 7777)) << host;
    EXPECT_TRUE(names.is_local_host(host)) << host;
  }
  EXPECT_FALSE(names.is_us("beta.example", std::nullopt));
  EXPECT_FALSE(names.is_local_host("alpha.example.evil"));
}

TEST(SiteNames, EveryReceivingAddressCountsWithItsListenerPort) {
  const auto names = wildcard_site();
  EXPECT_TRUE(names.is_us("127.0.0.1", 5060));
  EXPECT_TRUE(names.is_us("127.0.0.1", std::nullopt));
  EXPECT_TRUE(names.is_us("192.168.1.10", 5061));
  // A phone on the site's own machine: same address, another port.
  EXPECT_FALSE(names.is_us("127.0.0.1", 5070));
  EXPECT_FALSE(names.is_us("192.168.1.11", 5060));
  EXPECT_TRUE(names.is_local_host("127.0.0.1"));
}

TEST(SiteNames, AliasAddressesCountWithTheListenerPorts) {
  const auto names = wildcard_site();
  EXPECT_TRUE(names.is_us("203.0.113.5", 5060));
  EXPECT_TRUE(names.is_us("203.0.113.5", 5061));
  EXPECT_TRUE(names.is_us("203.0.113.5", std::nullopt));
  EXPECT_FALSE(names.is_us("203.0.113.5", 40000));
  EXPECT_TRUE(names.is_us("[2001:db8::5]", 5060));
  EXPECT_TRUE(names.is_local_host("2001:db8::5"));
}

TEST(SiteNames, IpLiterals) {
  EXPECT_TRUE(is_ip_literal("10.0.0.1"));
  EXPECT_TRUE(is_ip_literal("[::1]"));
  EXPECT_TRUE(is_ip_literal("fe80::1"));
  EXPECT_FALSE(is_ip_literal("alpha.example"));
  EXPECT_FALSE(is_ip_literal(""));
}

}  // namespace
}  // namespace sipsite::sip
