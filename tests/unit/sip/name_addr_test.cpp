#include "sipsite/sip/message/list.hpp"
#include "sipsite/sip/message/name_addr.hpp"

#include <gtest/gtest.h>

namespace sipsite::sip {
namespace {

TEST(NameAddr, QuotedDisplayNameWithEscapes) {
  const auto na = parse_name_addr(R"("Alice \"A\" \\ Smith" <sip:alice@example.com>;tag=abc;x)");
  ASSERT_TRUE(na) << na.error().reason;
  EXPECT_EQ(na->display_name, R"("Alice \"A\" \\ Smith")");
  EXPECT_EQ(na->display_name_text(), R"(Alice "A" \ Smith)");
  EXPECT_TRUE(na->angle_brackets);
  EXPECT_EQ(na->uri.sip()->user, "alice");
  EXPECT_EQ(*na->tag(), "abc");
  EXPECT_TRUE(find_param(na->params, "x"));
}

TEST(NameAddr, TokenDisplayNameAndNone) {
  auto na = parse_name_addr("Bob Smith <sip:bob@example.com>");
  ASSERT_TRUE(na);
  EXPECT_EQ(na->display_name, "Bob Smith");
  na = parse_name_addr("<sip:bob@example.com>");
  ASSERT_TRUE(na);
  EXPECT_TRUE(na->display_name.empty());
  na = parse_name_addr("Bob<sip:bob@example.com>");
  ASSERT_TRUE(na);
  EXPECT_EQ(na->display_name, "Bob");
  na = parse_name_addr("\"\" <sip:bob@example.com>");
  ASSERT_TRUE(na);
  EXPECT_EQ(na->display_name_text(), "");
}

TEST(NameAddr, AddrSpecParamsBelongToTheHeader) {
  const auto na = parse_name_addr("sip:bob@example.com;tag=1;lr");
  ASSERT_TRUE(na);
  EXPECT_FALSE(na->angle_brackets);
  EXPECT_TRUE(na->uri.sip()->params.empty());
  EXPECT_EQ(na->params.size(), 2U);
  EXPECT_EQ(*na->tag(), "1");
}

TEST(NameAddr, TagWithoutValueIsNoTag) {
  const auto na = parse_name_addr("<sip:a@b>;tag");
  ASSERT_TRUE(na);
  EXPECT_FALSE(na->tag());
}

TEST(NameAddr, Rejects) {
  for (const char* bad : {"", "\"unterminated <sip:a@b>", "<sip:a@b", "< sip:a@b>", "<sip:a@b >",
                          "Bell, Alexander <sip:a@b>", "sip:a@b?x=y", "sip:a@b,c", "<sip:a@b>;;",
                          "<sip:a@b>;tag=", "<sip:a@b> junk", "\"x\" sip:a@b", "<>", "display", "<sip:a@b>;p=\"open"}) {
    EXPECT_FALSE(parse_name_addr(bad)) << bad;
  }
}

TEST(NameAddr, ParamValuesQuotedAndIpv6) {
  const auto na = parse_name_addr(R"(<sip:a@b>;p="x;y,z";maddr=[2001:db8::1])");
  ASSERT_TRUE(na) << na.error().reason;
  EXPECT_EQ(*find_param(na->params, "p")->value, R"("x;y,z")");
  EXPECT_EQ(unquote(*find_param(na->params, "p")->value), "x;y,z");
  EXPECT_EQ(*find_param(na->params, "maddr")->value, "[2001:db8::1]");
}

TEST(ContactList, StarAndLists) {
  auto c = parse_contact_list(" * ");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->star);
  c = parse_contact_list(R"("A, B" <sip:a@x>;q=0.5, <sip:b,c@y;a=1>, sip:c@z;expires=60)");
  ASSERT_TRUE(c) << c.error().reason;
  ASSERT_EQ(c->contacts.size(), 3U);
  EXPECT_EQ(c->contacts[0].display_name_text(), "A, B");
  EXPECT_EQ(c->contacts[2].uri.sip()->host, "z");
  EXPECT_FALSE(parse_contact_list("<sip:a@x>,,<sip:b@y>"));
  EXPECT_FALSE(parse_contact_list("*, <sip:a@x>"));
}

TEST(SplitList, RespectsQuotesAndAngles) {
  const auto parts = split_list(R"(a, "b,\"c" , <sip:d,e>;x="f,g",  ,h)");
  ASSERT_EQ(parts.size(), 5U);
  EXPECT_EQ(parts[0], "a");
  EXPECT_EQ(parts[1], R"("b,\"c")");
  EXPECT_EQ(parts[2], R"(<sip:d,e>;x="f,g")");
  EXPECT_EQ(parts[3], "");
  EXPECT_EQ(parts[4], "h");
  EXPECT_EQ(split_list("").size(), 1U);
  EXPECT_EQ(split_list("\"open, quote").size(), 1U);
}

TEST(GenericParams, Parse) {
  const auto p = parse_generic_params(" ; a = 1 ;b; c=\"q\"");
  ASSERT_TRUE(p);
  ASSERT_EQ(p->size(), 3U);
  EXPECT_EQ(*(*p)[0].value, "1");
  EXPECT_FALSE((*p)[1].value);
  EXPECT_EQ(*(*p)[2].value, "\"q\"");
  EXPECT_FALSE(parse_generic_params(";"));
  EXPECT_FALSE(parse_generic_params("; a b"));
}

}  // namespace
}  // namespace sipsite::sip
