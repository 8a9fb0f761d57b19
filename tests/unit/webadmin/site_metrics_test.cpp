// The site-wide part of /metrics: build info, process metrics, the expiry
// of the site's and each trusted peer's certificate (revoked and untrusted
// peers are not series), and the console's request histogram.
#include "site_metrics.hpp"

#include <sipsite/asio/task_group.hpp>
#include <sipsite/metrics/build_info.hpp>
#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/private_key.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace sipsite::webadmin {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

struct Made {
  std::string pem;
  std::string fingerprint;
};

Made certificate(const std::string& domain, system_clock::time_point not_after) {
  auto key = pki::PrivateKey::generate_p256();
  EXPECT_TRUE(key.has_value());
  pki::CertificateOptions o{domain, not_after - std::chrono::hours(24 * 30), not_after};
  auto cert = pki::Certificate::self_signed(*key, o);
  EXPECT_TRUE(cert.has_value());
  return {cert->to_pem(), cert->fingerprint().to_string()};
}

std::string line_of(const std::string& text, const std::string& prefix) {
  const auto at = text.find("\n" + prefix);
  if (at == std::string::npos) return "";
  return text.substr(at + 1, text.find('\n', at + 1) - at - 1);
}

TEST(SiteMetrics, ExpiryOfTheSiteAndOfTrustedPeersOnly) {
  const auto at = [](long t) { return system_clock::time_point(seconds(t)); };
  const Made own = certificate("alpha.example", at(2000000000));
  const Made beta = certificate("beta.example", at(2100000000));
  const Made gamma = certificate("gamma.example", at(2200000000));
  const Made delta = certificate("delta.example", at(2300000000));
  std::vector<store::PeerRecord> peers(3);
  peers[0] = {"beta.example", beta.fingerprint, beta.pem, "192.0.2.2:5062", store::PeerState::trusted, 0, 0};
  peers[1] = {"gamma.example", gamma.fingerprint, gamma.pem, "", store::PeerState::revoked, 0, 0};
  peers[2] = {"delta.example", delta.fingerprint, delta.pem, "", store::PeerState::untrusted, 0, 0};
  const metrics::Histogram requests(metrics::kLatencyBuckets);
  const std::string out = site_metrics({own.pem, peers, requests});

  EXPECT_EQ(line_of(out, "sipsite_site_certificate_not_after_timestamp_seconds "),
            "sipsite_site_certificate_not_after_timestamp_seconds 2000000000");
  EXPECT_EQ(line_of(out, "sipsite_peer_certificate_not_after_timestamp_seconds{"),
            "sipsite_peer_certificate_not_after_timestamp_seconds{peer=\"beta.example\",fingerprint=\"" +
                beta.fingerprint + "\"} 2100000000");
  EXPECT_EQ(out.find("gamma.example"), std::string::npos) << "a revoked peer is no series";
  EXPECT_EQ(out.find("delta.example"), std::string::npos) << "an untrusted peer is no series";
  EXPECT_EQ(line_of(out, "sipsite_build_info"), "sipsite_build_info{version=\"" +
                                                    std::string(metrics::build_version()) + "\",commit=\"" +
                                                    std::string(metrics::build_commit()) + "\"} 1");
  EXPECT_NE(out.find("\nprocess_resident_memory_bytes "), std::string::npos);
  EXPECT_NE(out.find("# TYPE sipsite_console_request_duration_seconds histogram\n"), std::string::npos);
  EXPECT_NE(out.find("\nsipsite_console_request_duration_seconds_count 0\n"), std::string::npos);
}

TEST(SiteMetrics, AnUnreadableOwnCertificateLeavesItsGaugeOut) {
  const metrics::Histogram requests(metrics::kLatencyBuckets);
  const std::string out = site_metrics({"not a certificate", {}, requests});
  EXPECT_EQ(out.find("sipsite_site_certificate_not_after_timestamp_seconds"), std::string::npos);
  EXPECT_NE(out.find("# TYPE sipsite_peer_certificate_not_after_timestamp_seconds gauge\n"), std::string::npos);
}

boost::asio::awaitable<void> a_buggy_task() {
  co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
  throw std::logic_error("a bug");
}

TEST(SiteMetrics, ExceptionsEscapingTasksAreCounted) {
  const metrics::Histogram requests(metrics::kLatencyBuckets);
  const auto count_line = [&] { return line_of(site_metrics({"", {}, requests}), "sipsite_task_exceptions_total "); };
  const std::uint64_t before = async::escaped_total();
  EXPECT_EQ(count_line(), "sipsite_task_exceptions_total " + std::to_string(before));
  std::string reported;
  async::set_escape_reporter([&](std::string_view component, std::string_view what) {
    reported = std::string(component) + ": " + std::string(what);
  });
  boost::asio::io_context io;
  async::TaskGroup tasks(io.get_executor(), "console");
  tasks.spawn(a_buggy_task());
  io.run();
  async::set_escape_reporter({});
  EXPECT_EQ(reported, "console: a bug");
  EXPECT_EQ(count_line(), "sipsite_task_exceptions_total " + std::to_string(before + 1));
}

}  // namespace
}  // namespace sipsite::webadmin
