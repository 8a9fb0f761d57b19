#include "sipsite/sip/message/cseq.hpp"
#include "sipsite/sip/message/header_id.hpp"
#include "sipsite/sip/message/scalars.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

namespace sipsite::sip {
namespace {

TEST(CSeq, Parse) {
  auto c = parse_cseq("0009   INVITE");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->number, 9U);
  EXPECT_EQ(c->method, "INVITE");
  c = parse_cseq("4294967295 ACK");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->number, 4294967295U);
  for (const char* bad : {"", "1", "INVITE", "4294967296 INVITE", "36893488147419103232 REGISTER", "-1 INVITE",
                          "1INVITE", "1 INVITE extra", "1 IN/VITE"}) {
    EXPECT_FALSE(parse_cseq(bad)) << bad;
  }
}

TEST(Scalars, MaxForwards) {
  EXPECT_EQ(*parse_max_forwards("0068"), 68U);
  EXPECT_EQ(*parse_max_forwards("0"), 0U);
  EXPECT_FALSE(parse_max_forwards(""));
  EXPECT_FALSE(parse_max_forwards("-1"));
  EXPECT_FALSE(parse_max_forwards("7 0"));
  EXPECT_FALSE(parse_max_forwards("99999999999"));
}

TEST(Scalars, ContentLength) {
  EXPECT_EQ(*parse_content_length(" 150 "), 150U);
  EXPECT_FALSE(parse_content_length("-999"));
  EXPECT_FALSE(parse_content_length("+5"));
  EXPECT_FALSE(parse_content_length("5, 13"));
  EXPECT_FALSE(parse_content_length("99999999999999999999999"));
}

TEST(Scalars, ExpiresSaturates) {
  EXPECT_EQ(*parse_expires("3600"), 3600U);
  EXPECT_EQ(*parse_expires("10000000000000000000000000000000000000000"), 0xFFFFFFFFU);
  EXPECT_FALSE(parse_expires(""));
  EXPECT_FALSE(parse_expires("Thu, 01 Dec 1994"));
}

TEST(Scalars, CallId) {
  EXPECT_EQ(*parse_call_id(" abc@host "), "abc@host");
  EXPECT_TRUE(parse_call_id("a(b)<c>:\\\"/[]?{}"));
  EXPECT_FALSE(parse_call_id(""));
  EXPECT_FALSE(parse_call_id("a b"));
  EXPECT_FALSE(parse_call_id("a@"));
  EXPECT_FALSE(parse_call_id("a@b@c"));
}

// Every known name, in any case, finds its id through the index; near
// misses (a letter more or less, the same length and ends) find none.
TEST(HeaderId, EveryCanonicalNameInAnyCaseAndNoNearMiss) {
  for (auto i = static_cast<std::size_t>(HeaderId::accept); i <= static_cast<std::size_t>(HeaderId::www_authenticate);
       ++i) {
    const auto id = static_cast<HeaderId>(i);
    const std::string name(canonical_name(id));
    ASSERT_FALSE(name.empty());
    EXPECT_EQ(header_id(name), id) << name;
    std::string lower = name;
    std::string upper = name;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(header_id(lower), id) << lower;
    EXPECT_EQ(header_id(upper), id) << upper;
    EXPECT_EQ(header_id(name + "s"), HeaderId::unknown) << name;
    if (name.size() > 2) {
      EXPECT_EQ(header_id(name.substr(1)), HeaderId::unknown) << name;
    }
    std::string twisted = name;
    twisted[twisted.size() / 2] = '#';
    EXPECT_EQ(header_id(twisted), HeaderId::unknown) << twisted;
    if (const char c = compact_form(id); c != '\0') {
      EXPECT_EQ(header_id(std::string(1, c)), id);
      EXPECT_EQ(header_id(std::string(1, static_cast<char>(std::toupper(c)))), id);
    }
  }
  EXPECT_EQ(header_id("\xff"), HeaderId::unknown);
  EXPECT_EQ(header_id("\xff\xfe"), HeaderId::unknown);
}

TEST(HeaderId, NamesAndCompactForms) {
  EXPECT_EQ(header_id("via"), HeaderId::via);
  EXPECT_EQ(header_id("V"), HeaderId::via);
  EXPECT_EQ(header_id("i"), HeaderId::call_id);
  EXPECT_EQ(header_id("CALL-id"), HeaderId::call_id);
  EXPECT_EQ(header_id("l"), HeaderId::content_length);
  EXPECT_EQ(header_id("m"), HeaderId::contact);
  EXPECT_EQ(header_id("e"), HeaderId::content_encoding);
  EXPECT_EQ(header_id("c"), HeaderId::content_type);
  EXPECT_EQ(header_id("f"), HeaderId::from);
  EXPECT_EQ(header_id("t"), HeaderId::to);
  EXPECT_EQ(header_id("s"), HeaderId::subject);
  EXPECT_EQ(header_id("k"), HeaderId::supported);
  EXPECT_EQ(header_id("o"), HeaderId::event);
  EXPECT_EQ(header_id("u"), HeaderId::allow_events);
  EXPECT_EQ(header_id("r"), HeaderId::refer_to);
  EXPECT_EQ(header_id("b"), HeaderId::referred_by);
  EXPECT_EQ(header_id("x-custom"), HeaderId::unknown);
  EXPECT_EQ(header_id("z"), HeaderId::unknown);
  EXPECT_EQ(header_id(""), HeaderId::unknown);
  EXPECT_EQ(canonical_name(HeaderId::cseq), "CSeq");
  EXPECT_EQ(compact_form(HeaderId::via), 'v');
  EXPECT_TRUE(is_list_header(HeaderId::route));
  EXPECT_FALSE(is_list_header(HeaderId::date));
}

}  // namespace
}  // namespace sipsite::sip
