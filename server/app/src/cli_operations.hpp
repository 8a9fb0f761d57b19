#pragma once
// The command line's side of the admin operations (sipsite::admin): the
// operations acting as the CLI's actor, and their errors as exit codes.

#include "site_access.hpp"

#include <sipsite/admin/site_operations.hpp>

namespace sipsite::app {

// SiteOperations on the site's database, acting as cli_actor() from "local".
admin::SiteOperations site_operations(OpenSite& site);

// Prints the operation's error as one line, `context` first when given
// ("--aor 'x': ..."), and returns 2 when the input was wrong, else 1.
int fail(const admin::OpError& error, std::string_view context = {});

}  // namespace sipsite::app
