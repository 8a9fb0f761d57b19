#pragma once
// The console's static files (webadmin/ui/*) and its OpenAPI description,
// embedded at build time by sipsite_embed_files, each beside its
// gzip-compressed twin NAME.gz (see static_assets.hpp).

#include <span>
#include <string_view>

namespace sipsite::webadmin::ui {

struct EmbeddedFile {
  std::string_view name;
  std::string_view contents;
};

std::span<const EmbeddedFile> embedded_files();

}  // namespace sipsite::webadmin::ui
