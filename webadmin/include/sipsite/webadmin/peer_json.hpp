#pragma once
// The JSON shape of a peer and of a pending request, shared by the REST API
// and `sipsite peer list|pending --json` so both stay the same.

#include <sipsite/store/peer_repository.hpp>
#include <sipsite/store/pending_repository.hpp>

#include <nlohmann/json.hpp>

#include <string_view>

namespace sipsite::webadmin {

// `own_fingerprint` (this site's) gives the pairing code.
nlohmann::json peer_json(const store::PeerRecord& peer, std::string_view own_fingerprint);
nlohmann::json pending_json(const store::PendingRequest& request, std::string_view own_fingerprint);

}  // namespace sipsite::webadmin
