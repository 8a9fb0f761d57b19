#include <sipsite/pki/fingerprint.hpp>

#include <gtest/gtest.h>

namespace sipsite::pki {
namespace {

Fingerprint sample() {
  const std::uint8_t der[] = {1, 2, 3};
  return Fingerprint::of_der(der);
}

TEST(Fingerprint, FormatsAsOpensslDoes) {
  // SHA-256 of bytes 01 02 03.
  EXPECT_EQ(sample().to_string(),
            "03:90:58:C6:F2:C0:CB:49:2C:53:3B:0A:4D:14:EF:77:CC:0F:78:AB:CC:CE:D5:28:7D:84:A1:A2:01:1C:FB:81");
}

TEST(Fingerprint, GroupsForReadingAloud) {
  EXPECT_EQ(sample().to_grouped_string(),
            "0390 58C6 F2C0 CB49 2C53 3B0A 4D14 EF77 CC0F 78AB CCCE D528 7D84 A1A2 011C FB81");
}

TEST(Fingerprint, ParsesEveryCommonSpelling) {
  const Fingerprint fp = sample();
  const std::string colon = fp.to_string();
  std::string bare;
  for (char c : colon)
    if (c != ':') bare += c;
  std::string lower = colon;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const std::string& text :
       {colon, bare, lower, "SHA256:" + bare, "sha256 Fingerprint=" + colon, "  " + colon + "\n"}) {
    auto parsed = Fingerprint::parse(text);
    ASSERT_TRUE(parsed) << text;
    EXPECT_EQ(*parsed, fp) << text;
  }
}

TEST(Fingerprint, RejectsMalformed) {
  const std::string colon = sample().to_string();
  for (const std::string& text :
       {std::string(), std::string("AB:CD"), colon.substr(0, colon.size() - 1), colon + ":00",
        std::string(colon).replace(2, 1, "-"), std::string(colon).replace(0, 1, "G"), std::string(64, 'Z')}) {
    auto parsed = Fingerprint::parse(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().code, Errc::bad_fingerprint);
  }
}

}  // namespace
}  // namespace sipsite::pki
