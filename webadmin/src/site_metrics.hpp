#pragma once
// The parts of /metrics that belong to the site as a whole rather than to
// one subsystem: sipsite_build_info, the standard process_* metrics, the
// expiry of the site's own certificate and of every trusted peer's pinned
// certificate, and the console's request durations.

#include <sipsite/metrics/histogram.hpp>
#include <sipsite/store/peer_repository.hpp>

#include <span>
#include <string>
#include <string_view>

namespace sipsite::webadmin {

struct SiteMetricsInput {
  std::string_view own_certificate_pem;
  std::span<const store::PeerRecord> peers;  // all of them: only trusted ones are shown
  const metrics::Histogram& console_requests;
};

std::string site_metrics(const SiteMetricsInput& in);

}  // namespace sipsite::webadmin
