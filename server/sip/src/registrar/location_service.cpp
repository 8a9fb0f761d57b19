#include "sipsite/sip/registrar/location_service.hpp"

#include <algorithm>

namespace sipsite::sip {

LocationService::LocationService(const Clock& clock, Counters& counters) : clock_(clock), counters_(counters) {
  counters_.set_registrations(0);
}

LocationService::~LocationService() { stop_sweeping(); }

std::vector<Binding> LocationService::lookup(std::string_view username) const {
  std::vector<Binding> out;
  const auto it = users_.find(username);
  if (it == users_.end()) return out;
  const TimePoint now = clock_.now();
  out.reserve(it->second.size());
  for (const auto& b : it->second) {
    if (b.expires > now) out.push_back(b);
  }
  std::stable_sort(out.begin(), out.end(), [](const Binding& a, const Binding& b) {
    if (a.q1000 != b.q1000) return a.q1000 > b.q1000;
    return a.expires > b.expires;
  });
  return out;
}

std::vector<Binding> LocationService::bindings(std::string_view username) {
  const auto it = users_.find(username);
  if (it == users_.end()) return {};
  const TimePoint now = clock_.now();
  if (std::any_of(it->second.begin(), it->second.end(), [now](const Binding& b) { return b.expires <= now; })) {
    std::vector<Binding> live;
    for (const auto& b : it->second) {
      if (b.expires > now) live.push_back(b);
    }
    update(it, live);
    return live;
  }
  return it->second;
}

void LocationService::replace(std::string_view username, std::vector<Binding> bindings) {
  auto it = users_.find(username);
  if (it == users_.end()) {
    if (bindings.empty()) return;
    it = users_.emplace(std::string(username), std::vector<Binding>{}).first;
  }
  update(it, std::move(bindings));
}

bool LocationService::remove(std::string_view username, std::string_view contact) {
  const auto it = users_.find(username);
  if (it == users_.end()) return false;
  std::vector<Binding> next;
  next.reserve(it->second.size());
  for (const auto& b : it->second) {
    if (b.contact != contact) next.push_back(b);
  }
  if (next.size() == it->second.size()) return false;
  update(it, std::move(next));
  return true;
}

std::size_t LocationService::remove_all(std::string_view username) {
  const auto it = users_.find(username);
  if (it == users_.end()) return 0;
  const std::size_t n = it->second.size();
  update(it, {});
  return n;
}

std::size_t LocationService::remove_flow(FlowId flow) {
  if (flow == 0) return 0;
  std::vector<std::string> names;
  if (const auto f = flows_.find(flow); f != flows_.end()) {
    for (const auto& [name, count] : f->second) names.push_back(name);
  }
  std::size_t removed = 0;
  for (const auto& name : names) {
    const auto it = users_.find(name);
    if (it == users_.end()) continue;
    std::vector<Binding> next;
    for (const auto& b : it->second) {
      if (b.destination.flow != flow) next.push_back(b);
    }
    removed += it->second.size() - next.size();
    update(it, std::move(next));
  }
  return removed;
}

std::size_t LocationService::purge_expired() {
  const TimePoint now = clock_.now();
  std::size_t removed = 0;
  for (auto it = users_.begin(); it != users_.end();) {
    auto& v = it->second;
    if (std::none_of(v.begin(), v.end(), [now](const Binding& b) { return b.expires <= now; })) {
      ++it;
      continue;
    }
    std::vector<Binding> live;
    for (const auto& b : v) {
      if (b.expires > now) live.push_back(b);
    }
    removed += v.size() - live.size();
    const auto next = std::next(it);
    update(it, std::move(live));  // may erase it
    it = next;
  }
  return removed;
}

void LocationService::update(Users::iterator it, std::vector<Binding> next) {
  const std::string& username = it->first;
  auto& old = it->second;
  const auto contains = [](const std::vector<Binding>& v, const std::string& contact) {
    return std::any_of(v.begin(), v.end(), [&contact](const Binding& b) { return b.contact == contact; });
  };
  for (const auto& b : old) {
    if (b.destination.flow != 0) unindex_flow(b.destination.flow, username);
    if (!contains(next, b.contact)) counters_.registration_removed();
  }
  for (const auto& b : next) {
    if (b.destination.flow != 0) index_flow(b.destination.flow, username);
    if (!contains(old, b.contact)) counters_.registration_added();
  }
  total_ = total_ - old.size() + next.size();
  if (next.empty()) {
    users_.erase(it);
  } else {
    next.shrink_to_fit();
    old = std::move(next);
  }
  counters_.set_registrations(static_cast<std::int64_t>(total_));
}

void LocationService::index_flow(FlowId flow, const std::string& username) { ++flows_[flow][username]; }

void LocationService::unindex_flow(FlowId flow, const std::string& username) {
  const auto f = flows_.find(flow);
  if (f == flows_.end()) return;
  const auto u = f->second.find(username);
  if (u == f->second.end()) return;
  if (--u->second == 0) f->second.erase(u);
  if (f->second.empty()) flows_.erase(f);
}

std::vector<std::pair<std::string, Binding>> LocationService::snapshot() const {
  std::vector<std::pair<std::string, Binding>> out;
  const TimePoint now = clock_.now();
  for (const auto& [name, list] : users_) {
    for (const auto& b : list) {
      if (b.expires > now) out.emplace_back(name, b);
    }
  }
  return out;
}

void LocationService::start_sweeping(Timers& timers, Duration interval) {
  stop_sweeping();
  timers_ = &timers;
  sweep_interval_ = std::max(interval, Duration{1});
  schedule_sweep();
}

void LocationService::stop_sweeping() {
  if (timers_ != nullptr && sweep_timer_ != 0) timers_->cancel(sweep_timer_);
  timers_ = nullptr;
  sweep_timer_ = 0;
}

void LocationService::schedule_sweep() {
  sweep_timer_ = timers_->start(sweep_interval_, [this] {
    sweep_timer_ = 0;
    purge_expired();
    if (timers_ != nullptr) schedule_sweep();
  });
}

}  // namespace sipsite::sip
