#pragma once
// sipsite backup --out FILE ; sipsite restore --in FILE

#include "site_access.hpp"

#include <string>

namespace sipsite::app {

// A consistent snapshot of the site database, still encrypted with the
// database key, written to a new file (mode 0600, never overwriting). Safe
// while the daemon runs.
int cmd_backup(const GlobalOptions& g, const std::string& out);

// Replaces the site database with a backup made with the same key. Refuses,
// changing nothing, if the key does not open the file, if it is not a
// sipsite database, if its schema is newer than this sipsite, or while a
// daemon runs on the state directory. The database it replaces is kept as
// STATE/sipsite.db.before-restore-<time>.
int cmd_restore(const GlobalOptions& g, const std::string& in);

}  // namespace sipsite::app
