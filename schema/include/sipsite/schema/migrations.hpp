#pragma once
// The SQL migrations under schema/migrations/, in file-name order
// (001_…, 002_…). Migration i (1-based) brings the schema to version i.

#include <span>
#include <string_view>

namespace sipsite::schema {

struct EmbeddedFile {
  std::string_view name;
  std::string_view contents;
};

std::span<const EmbeddedFile> embedded_files();

inline std::span<const EmbeddedFile> migrations() { return embedded_files(); }

}  // namespace sipsite::schema
