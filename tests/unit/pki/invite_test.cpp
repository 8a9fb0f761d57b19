#include <sipsite/pki/invite.hpp>

#include <gtest/gtest.h>

namespace sipsite::pki {
namespace {

Fingerprint sample() {
  const std::uint8_t der[] = {7, 7, 7};
  return Fingerprint::of_der(der);
}

TEST(Invite, RoundTripsIPv4AndName) {
  for (const char* host : {"203.0.113.7", "alpha.example"}) {
    Invite in{"alpha.example", {host, 5062}, sample()};
    const std::string line = in.to_string();
    EXPECT_EQ(line.find('\n'), std::string::npos);
    auto out = Invite::parse(line);
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->domain, "alpha.example");
    EXPECT_EQ(out->address.host, host);
    EXPECT_EQ(out->address.port, 5062);
    EXPECT_EQ(out->fingerprint, sample());
  }
}

TEST(Invite, BracketsIPv6) {
  Invite in{"alpha.example", {"2001:db8::7", 5062}, sample()};
  const std::string line = in.to_string();
  EXPECT_NE(line.find("address=[2001:db8::7]:5062"), std::string::npos) << line;
  auto out = Invite::parse(line);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(out->address.host, "2001:db8::7");
}

TEST(Invite, FormatIsStable) {
  Invite in{"alpha.example", {"203.0.113.7", 5062}, sample()};
  EXPECT_EQ(in.to_string(),
            "sipsite:invite?v=1&domain=alpha.example&address=203.0.113.7:5062&fp=" + sample().to_string());
}

TEST(Invite, IgnoresUnknownParametersAndSurroundingSpace) {
  const std::string line = "  " + Invite{"alpha.example", {"h.example", 1}, sample()}.to_string() + "&future=x\r\n";
  EXPECT_TRUE(Invite::parse(line));
}

TEST(Invite, RejectsMalformed) {
  const std::string fp = sample().to_string();
  const std::string ok = "sipsite:invite?v=1&domain=alpha.example&address=h.example:5062&fp=" + fp;
  ASSERT_TRUE(Invite::parse(ok));
  for (const std::string& text : {
           std::string(),
           std::string("hello"),
           "http://x?v=1&domain=a.example&address=h:1&fp=" + fp,
           "sipsite:invite?v=2&domain=alpha.example&address=h.example:5062&fp=" + fp,
           "sipsite:invite?v=1&domain=bad_domain&address=h.example:5062&fp=" + fp,
           "sipsite:invite?v=1&domain=alpha.example&address=h.example&fp=" + fp,
           "sipsite:invite?v=1&domain=alpha.example&address=h.example:0&fp=" + fp,
           "sipsite:invite?v=1&domain=alpha.example&address=h.example:70000&fp=" + fp,
           "sipsite:invite?v=1&domain=alpha.example&address=2001:db8::1:5062&fp=" + fp,
           "sipsite:invite?v=1&domain=alpha.example&address=[2001:db8::1]5062&fp=" + fp,
           "sipsite:invite?v=1&domain=alpha.example&address=h/x:5062&fp=" + fp,
           std::string("sipsite:invite?v=1&domain=alpha.example&address=h.example:5062&fp=AB:CD"),
           std::string("sipsite:invite?v=1&domain=alpha.example&address=h.example:5062"),
           ok + "&domain=beta.example",
           std::string("sipsite:invite?v=1&domain"),
       }) {
    auto r = Invite::parse(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().code, Errc::bad_invite);
    EXPECT_EQ(r.error().message.rfind("invalid invite: ", 0), 0u) << r.error().message;
  }
}

}  // namespace
}  // namespace sipsite::pki
