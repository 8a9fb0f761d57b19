#include <sipsite/pki/domain_name.hpp>

#include <gtest/gtest.h>

namespace sipsite::pki {
namespace {

TEST(DomainName, AcceptsOrdinaryDomains) {
  for (const char* d :
       {"alpha.example", "a.b.c.example", "x", "site-1.example", "Alpha.Example", "xn--bcher-kva.example"}) {
    EXPECT_TRUE(is_valid_domain_name(d)) << d;
  }
  EXPECT_TRUE(is_valid_domain_name(std::string(63, 'a') + ".example"));
}

TEST(DomainName, RejectsWhatCannotBeADomain) {
  for (const char* d : {"", ".", "a.", ".a", "a..b", "-a.example", "a-.example", "a b", "a_b.example", "a/b",
                        "10.0.0.1", "alpha.example:5060", "user@alpha.example"}) {
    EXPECT_FALSE(is_valid_domain_name(d)) << d;
  }
  EXPECT_FALSE(is_valid_domain_name(std::string(64, 'a') + ".example"));
  EXPECT_FALSE(is_valid_domain_name(std::string(254, 'a')));
}

TEST(DomainName, Lowercases) { EXPECT_EQ(lowercase_domain("Alpha.EXAMPLE"), "alpha.example"); }

}  // namespace
}  // namespace sipsite::pki
