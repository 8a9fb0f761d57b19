#include "site_metrics.hpp"

#include <sipsite/asio/task_group.hpp>
#include <sipsite/metrics/build_info.hpp>
#include <sipsite/metrics/exposition.hpp>
#include <sipsite/metrics/process_metrics.hpp>
#include <sipsite/pki/certificate.hpp>

#include <chrono>

namespace sipsite::webadmin {

namespace {

using metrics::family;
using metrics::label_value;

std::string unix_seconds(std::chrono::system_clock::time_point t) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

}  // namespace

std::string site_metrics(const SiteMetricsInput& in) {
  std::string out;
  family(out, "sipsite_build_info", "gauge", "Always 1; the labels name the running build.");
  metrics::sample(out, "sipsite_build_info",
                  "version=\"" + label_value(metrics::build_version()) + "\",commit=\"" +
                      label_value(metrics::build_commit()) + "\"",
                  "1");

  out += metrics::process_metrics();

  if (auto own = pki::Certificate::from_pem(in.own_certificate_pem)) {
    family(out, "sipsite_site_certificate_not_after_timestamp_seconds", "gauge",
           "When this site's own certificate (its identity) expires, in seconds since the Unix epoch.");
    metrics::sample(out, "sipsite_site_certificate_not_after_timestamp_seconds", "", unix_seconds(own->not_after()));
  }
  // One series per trusted peer (the admin decides how many there are); a
  // key rotation replaces the series, as the fingerprint label changes.
  family(out, "sipsite_peer_certificate_not_after_timestamp_seconds", "gauge",
         "When each trusted peer site's pinned certificate expires, in seconds since the Unix epoch.");
  for (const auto& p : in.peers) {
    if (p.state != store::PeerState::trusted) continue;
    auto cert = pki::Certificate::from_pem(p.certificate_pem);
    if (!cert) continue;
    metrics::sample(out, "sipsite_peer_certificate_not_after_timestamp_seconds",
                    "peer=\"" + label_value(p.domain) + "\",fingerprint=\"" + label_value(p.fingerprint) + "\"",
                    unix_seconds(cert->not_after()));
  }

  family(out, "sipsite_task_exceptions_total", "counter",
         "Exceptions that escaped a task of the SIP transport, the federation or the console (a bug; each is "
         "logged with its component, and only that task's connection was dropped).");
  metrics::sample(out, "sipsite_task_exceptions_total", "", std::to_string(async::escaped_total()));

  constexpr std::string_view kConsole = "sipsite_console_request_duration_seconds";
  family(out, kConsole, "histogram", "Time the console took to answer an HTTP request (routing, checks, handler).");
  in.console_requests.render(out, kConsole, "");
  return out;
}

}  // namespace sipsite::webadmin
