// The network settings' text rules (shared by the configuration file and
// the console) and the operation that stores them.

#include <sipsite/admin/network_settings.hpp>
#include <sipsite/admin/site_operations.hpp>

#include <sipsite/store/audit_repository.hpp>
#include <sipsite/store/settings_repository.hpp>

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

namespace sipsite::admin {
namespace {

const NetworkKeyInfo& key(std::string_view name) {
  const auto* k = find_network_key(name);
  EXPECT_NE(k, nullptr) << name;
  return *k;
}

std::string why(const RuleResult<NetworkValue>& r) { return r ? std::string() : r.error().why; }

TEST(NetworkRules, ListenersAreIpLiteralsWithAPort) {
  EXPECT_EQ(parse_listen_address("0.0.0.0:5060")->to_string(), "0.0.0.0:5060");
  EXPECT_EQ(parse_listen_address("[::]:5061")->to_string(), "[::]:5061");
  EXPECT_EQ(parse_listen_address("127.0.0.1:0")->port, 0);  // the kernel chooses
  EXPECT_FALSE(parse_listen_address("pbx.example:5060"));   // we bind, not resolve
  EXPECT_FALSE(parse_listen_address("0.0.0.0"));
  EXPECT_FALSE(parse_listen_address("0.0.0.0:70000"));
}

TEST(NetworkRules, MediaPortsAreAnEvenStartedRangeAbove1023) {
  const auto r = parse_media_port_range("40000-40999");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 40000);
  EXPECT_EQ(r->last, 40999);
  for (const char* bad :
       {"40001-40999", "1000-2000", "5000-4000", "40000", "40000-", "a-b", "40000-70000", "40000-40000"}) {
    EXPECT_FALSE(parse_media_port_range(bad)) << bad;
  }
}

TEST(NetworkRules, PublicAddressIsAHostWithAnOptionalPort) {
  EXPECT_EQ(parse_public_address("alpha.example")->host, "alpha.example");
  EXPECT_EQ(parse_public_address("alpha.example")->port, 0);
  EXPECT_EQ(parse_public_address("192.0.2.7:15062")->port, 15062);
  EXPECT_EQ(parse_public_address("[2001:db8::7]")->host, "2001:db8::7");
  EXPECT_FALSE(parse_public_address("not a host"));
  EXPECT_FALSE(parse_public_address(""));
}

TEST(NetworkRules, ValuesAreCheckedAndNormalisedPerKey) {
  EXPECT_EQ(
      check_network_value(key("sip.aliases"), {"pbx.alpha.example", "[2001:db8::1]", "pbx.alpha.example"}).value(),
      (NetworkValue{"pbx.alpha.example", "2001:db8::1"}));
  EXPECT_EQ(check_network_value(key("sip.udp"), {}).value(), NetworkValue{});  // [] turns UDP off
  EXPECT_EQ(why(check_network_value(key("media.ports"), {})), "must be one value");
  EXPECT_EQ(why(check_network_value(key("federation.listen"), {"0.0.0.0:5062", "[::]:5062"})), "must be one value");
  EXPECT_NE(why(check_network_value(key("sip.tcp"), {"0.0.0.0:5060", "nonsense"})).find("nonsense"), std::string::npos);
  EXPECT_FALSE(check_network_value(key("sip.aliases"), {"two words"}));
  EXPECT_FALSE(check_network_value(key("sip.aliases"), NetworkValue(33, "a.example")));
  EXPECT_EQ(find_network_key("admin.listen"), nullptr);  // not offered: it could lock the admin out
}

TEST(NetworkRules, TheStoredFormRoundTrips) {
  for (const NetworkValue& v :
       {NetworkValue{}, NetworkValue{"40000-40999"}, NetworkValue{"0.0.0.0:5060", "[::]:5060"}}) {
    EXPECT_EQ(decode_network_value(encode_network_value(v)), v);
  }
}

class NetworkOperationsTest : public ::testing::Test {
 protected:
  test::TempDir dir_;
  store::Database db_ =
      store::Database::open(dir_ / "s.db", store::DbKey::generate().value(), store::OpenMode::create).value();
  SiteOperations ops_{db_, {"alpha.example", ""}, {"admin", "192.0.2.1"}};

  store::AuditEntry last_audit() { return store::AuditRepository(db_).recent(1).value().at(0); }
  std::size_t audit_count() { return store::AuditRepository(db_).recent(1000).value().size(); }
  std::optional<NetworkValue> stored(std::string_view name) {
    for (const auto& s : load_network_settings(db_).value()) {
      if (s.key == name) return s.value;
    }
    ADD_FAILURE() << name;
    return std::nullopt;
  }
};

TEST_F(NetworkOperationsTest, StoresNormalisedValuesAndAuditsThem) {
  auto r = ops_.change_network_settings({{"media.ports", NetworkValue{"50000-50999"}},
                                         {"sip.udp", NetworkValue{}},
                                         {"sip.aliases", NetworkValue{"[2001:db8::1]"}}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(stored("media.ports"), NetworkValue{"50000-50999"});
  EXPECT_EQ(stored("sip.udp"), NetworkValue{});
  EXPECT_EQ(stored("sip.aliases"), NetworkValue{"2001:db8::1"});
  EXPECT_FALSE(stored("sip.tcp"));
  EXPECT_EQ(last_audit().action, "settings.change");
  EXPECT_EQ(last_audit().detail, "media.ports=50000-50999 sip.udp=(none) sip.aliases=2001:db8::1");

  // No value: back to the default.
  ASSERT_TRUE(ops_.change_network_settings({{"media.ports", std::nullopt}}));
  EXPECT_FALSE(stored("media.ports"));
  EXPECT_EQ(last_audit().detail, "media.ports=(default)");
}

TEST_F(NetworkOperationsTest, OneBadValueWritesNothing) {
  const auto audits = audit_count();
  auto r = ops_.change_network_settings(
      {{"media.ports", NetworkValue{"50000-50999"}}, {"federation.listen", NetworkValue{"somewhere:5062"}}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, OpErrc::bad_setting);
  EXPECT_TRUE(r.error().message.starts_with("federation.listen: ")) << r.error().message;
  EXPECT_FALSE(stored("media.ports"));
  EXPECT_EQ(audit_count(), audits);
  EXPECT_EQ(ops_.change_network_settings({{"admin.listen", NetworkValue{"0.0.0.0:8443"}}}).error().code,
            OpErrc::bad_setting);
}

}  // namespace
}  // namespace sipsite::admin
