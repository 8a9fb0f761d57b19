#pragma once
// The identity of this build: the project's version and the git commit it
// was built from ("unknown" when built outside a git checkout).

#include <string_view>

namespace sipsite::metrics {

std::string_view build_version();
std::string_view build_commit();

}  // namespace sipsite::metrics
