#include "sipsite/sip/proxy/site_names.hpp"

#include "sipsite/sip/message/header_id.hpp"

#include <algorithm>
#include <cctype>

namespace sipsite::sip {

namespace {

using common::unbracketed;

bool contains(const std::vector<std::string>& list, std::string_view host) {
  return std::any_of(list.begin(), list.end(), [host](const std::string& s) { return iequals(s, host); });
}

}  // namespace

SiteNames::SiteNames(std::string domain, const std::vector<std::string>& aliases, std::vector<Endpoint> receiving)
    : domain_(std::move(domain)), receiving_(std::move(receiving)) {
  for (auto& e : receiving_) e.host = std::string(unbracketed(e.host));
  for (const auto& e : receiving_) {
    if (std::find(ports_.begin(), ports_.end(), e.port) == ports_.end()) ports_.push_back(e.port);
  }
  for (const auto& alias : aliases) {
    if (alias.empty()) continue;
    if (is_ip_literal(alias)) {
      addresses_.emplace_back(unbracketed(alias));
    } else {
      names_.push_back(alias);
    }
  }
}

bool SiteNames::is_local_host(std::string_view host) const {
  if (iequals(host, domain_) || contains(names_, host)) return true;
  host = unbracketed(host);
  return contains(addresses_, host) ||
         std::any_of(receiving_.begin(), receiving_.end(), [host](const Endpoint& e) { return iequals(e.host, host); });
}

bool SiteNames::is_us(std::string_view host, std::optional<std::uint16_t> port) const {
  if (iequals(host, domain_) || contains(names_, host)) return true;
  host = unbracketed(host);
  if (contains(addresses_, host)) return !port || std::find(ports_.begin(), ports_.end(), *port) != ports_.end();
  return std::any_of(receiving_.begin(), receiving_.end(),
                     [&](const Endpoint& e) { return iequals(e.host, host) && (!port || *port == e.port); });
}

}  // namespace sipsite::sip
