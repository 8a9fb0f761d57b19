#include "sipsite/sip/site_names.hpp"

#include "sipsite/sip/header_id.hpp"

#include <algorithm>
#include <cctype>

namespace sipsite::sip {

namespace {

std::string_view unbracketed(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

bool contains(const std::vector<std::string>& list, std::string_view host) {
  return std::any_of(list.begin(), list.end(), [host](const std::string& s) { return iequals(s, host); });
}

}  // namespace

bool is_ip_literal(std::string_view host) {
  host = unbracketed(host);
  if (host.find(':') != std::string_view::npos) return true;  // IPv6
  if (host.empty()) return false;
  return std::all_of(host.begin(), host.end(),
                     [](char c) { return c == '.' || std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

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
  return contains(addresses_, host) || std::any_of(receiving_.begin(), receiving_.end(), [host](const Endpoint& e) {
           return iequals(e.host, host);
         });
}

bool SiteNames::is_us(std::string_view host, std::optional<std::uint16_t> port) const {
  if (iequals(host, domain_) || contains(names_, host)) return true;
  host = unbracketed(host);
  if (contains(addresses_, host)) return !port || std::find(ports_.begin(), ports_.end(), *port) != ports_.end();
  return std::any_of(receiving_.begin(), receiving_.end(),
                     [&](const Endpoint& e) { return iequals(e.host, host) && (!port || *port == e.port); });
}

}  // namespace sipsite::sip
