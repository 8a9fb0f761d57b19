// This site: its identity, certificate, invite (text and QR code) and the
// check that its advertised address reaches it.

#include "api/rest.hpp"

#include <sipsite/webadmin/address_check.hpp>
#include <sipsite/webadmin/qr_svg.hpp>
#include <sipsite/pki/certificate.hpp>

namespace sipsite::webadmin {

using namespace rest;

Response Api::site(Call&) {
  json out = {{"domain", settings_.domain}, {"fingerprint", own_fingerprint_}, {"invite", settings_.invite}};
  if (auto cert = pki::Certificate::from_pem(settings_.certificate_pem)) {
    out["fingerprint_grouped"] = cert->fingerprint().to_grouped_string();
    out["certificate_not_before"] = iso8601(std::chrono::system_clock::to_time_t(cert->not_before()));
    out["certificate_not_after"] = iso8601(std::chrono::system_clock::to_time_t(cert->not_after()));
  }
  return json_response(Status::ok, out);
}

// Blocks the console thread for the probe (as an invite import does).
Response Api::site_address_check(Call&) {
  const auto check = check_own_address(settings_.probe, settings_.invite, own_fingerprint_);
  return json_response(
      Status::ok,
      {{"address", check.address}, {"reaches_this_site", check.reaches_this_site}, {"detail", check.detail}});
}

Response Api::site_certificate(Call&) {
  Response res{Status::ok, 11};
  res.set(http::field::content_type, "application/x-pem-file");
  res.set(http::field::content_disposition, "attachment; filename=\"" + settings_.domain + ".pem\"");
  res.body() = settings_.certificate_pem;
  return res;
}

Response Api::site_invite_svg(Call&) {
  auto svg = qr_svg(settings_.invite);
  if (!svg) return error_response(Status::internal_server_error, "internal_error", "the invite does not fit a QR code");
  Response res{Status::ok, 11};
  res.set(http::field::content_type, "image/svg+xml");
  res.body() = std::move(*svg);
  return res;
}

}  // namespace sipsite::webadmin
