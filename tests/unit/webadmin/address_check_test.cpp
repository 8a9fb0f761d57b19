#include <sipsite/webadmin/address_check.hpp>

#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/invite.hpp>
#include <sipsite/pki/private_key.hpp>

#include <gtest/gtest.h>

namespace sipsite::webadmin {
namespace {

pki::Certificate make_cert(const std::string& domain) {
  auto key = pki::PrivateKey::generate_p256();
  return *pki::Certificate::self_signed(*key, pki::CertificateOptions::valid_for_days(domain, 30));
}

std::string invite_for(const pki::Certificate& cert, const std::string& host) {
  pki::Invite invite;
  invite.domain = "alpha.example";
  invite.address.host = host;
  invite.address.port = 5062;
  invite.fingerprint = cert.fingerprint();
  return invite.to_string();
}

// A probe that answers with the certificate `pem` (empty: nothing answers)
// and remembers where it went.
CertificateProbe fake_probe(std::string pem, std::string* asked) {
  return [pem, asked](const pki::HostPort& at) -> ProbeResult {
    *asked = at.to_string();
    if (pem.empty()) return {std::nullopt, "no certificate received from " + at.to_string() + " (Connection refused)"};
    return {*pki::Certificate::from_pem(pem), {}};
  };
}

TEST(AddressCheck, TheInvitesAddressLeadsBackToThisSite) {
  const auto own = make_cert("alpha.example");
  std::string asked;
  const auto check =
      check_own_address(fake_probe(own.to_pem(), &asked), invite_for(own, "192.0.2.2"), own.fingerprint().to_string());
  EXPECT_EQ(asked, "192.0.2.2:5062");
  EXPECT_EQ(check.address, "192.0.2.2:5062");
  EXPECT_TRUE(check.reaches_this_site) << check.detail;
}

TEST(AddressCheck, NothingThereNamesTheSettingToFix) {
  const auto own = make_cert("alpha.example");
  std::string asked;
  const auto check =
      check_own_address(fake_probe("", &asked), invite_for(own, "alpha.example"), own.fingerprint().to_string());
  EXPECT_FALSE(check.reaches_this_site);
  EXPECT_NE(check.detail.find("Connection refused"), std::string::npos) << check.detail;
  EXPECT_NE(check.detail.find("site.public_address"), std::string::npos) << check.detail;
}

TEST(AddressCheck, AnotherSiteAtTheAddressIsNotThisOne) {
  const auto own = make_cert("alpha.example");
  const auto other = make_cert("beta.example");
  std::string asked;
  const auto check = check_own_address(fake_probe(other.to_pem(), &asked), invite_for(own, "192.0.2.9"),
                                       own.fingerprint().to_string());
  EXPECT_FALSE(check.reaches_this_site);
  // The fingerprint as people read it, grouped (not the colon form).
  EXPECT_NE(check.detail.find(other.fingerprint().to_grouped_string()), std::string::npos) << check.detail;
  EXPECT_EQ(check.detail.find(other.fingerprint().to_string()), std::string::npos) << check.detail;
}

TEST(AddressCheck, NoProbeOrNoInviteIsNotAPass) {
  const auto own = make_cert("alpha.example");
  EXPECT_FALSE(check_own_address({}, invite_for(own, "192.0.2.2"), own.fingerprint().to_string()).reaches_this_site);
  std::string asked;
  EXPECT_FALSE(check_own_address(fake_probe(own.to_pem(), &asked), "not an invite", own.fingerprint().to_string())
                   .reaches_this_site);
  EXPECT_EQ(asked, "");
}

}  // namespace
}  // namespace sipsite::webadmin
