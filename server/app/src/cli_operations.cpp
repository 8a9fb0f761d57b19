#include "cli_operations.hpp"

#include <sipsite/pki/certificate.hpp>

namespace sipsite::app {

admin::SiteOperations site_operations(OpenSite& site) {
  std::string fingerprint;
  if (auto cert = pki::Certificate::from_pem(site.site.certificate_pem)) fingerprint = cert->fingerprint().to_string();
  return admin::SiteOperations(site.db, {site.site.domain, std::move(fingerprint)}, {cli_actor(), "local"});
}

int fail(const admin::OpError& error, std::string_view context) {
  const int code = admin::is_bad_input(error.code) ? kExitUsage : kExitRuntime;
  if (context.empty()) return fail(code, error.message);
  return fail(code, std::string(context) + ": " + error.message);
}

}  // namespace sipsite::app
