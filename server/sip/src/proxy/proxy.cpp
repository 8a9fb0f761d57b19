#include "sipsite/sip/proxy/proxy.hpp"

namespace sipsite::sip {

std::size_t choose_best_response(const std::vector<BranchOutcome>& outcomes) {
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    if (outcomes[i].code >= 600) return i;
  }
  std::size_t best = 0;
  for (std::size_t i = 1; i < outcomes.size(); ++i) {
    const auto& a = outcomes[i];
    const auto& b = outcomes[best];
    const int ca = a.code / 100;
    const int cb = b.code / 100;
    if (ca < cb || (ca == cb && b.local && !a.local)) best = i;
  }
  return best;
}

}  // namespace sipsite::sip
