#pragma once
// std::unordered_map keeps its bucket array at its high-water mark: erasing
// never shrinks it, so a map that held a burst's 250,000 transactions keeps
// 2 MB of empty buckets for ever. After a burst, shrink_if_sparse() gives
// that back when the map has emptied out (a quarter full or less).

#include <cstddef>

namespace sipsite::common {

template <typename Map>
void shrink_if_sparse(Map& map) {
  constexpr std::size_t kSmall = 1024;  // not worth a rehash below this
  if (map.bucket_count() > kSmall && map.size() * 4 < map.bucket_count()) map.rehash(0);
}

}  // namespace sipsite::common
