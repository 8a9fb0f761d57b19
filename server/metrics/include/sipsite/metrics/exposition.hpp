#pragma once
// Helpers for the Prometheus text exposition format (version 0.0.4):
// the HELP/TYPE header of a metric family, label values, and numbers.

#include <cstdint>
#include <string>
#include <string_view>

namespace sipsite::metrics {

// "# HELP name help\n# TYPE name type\n".
void family(std::string& out, std::string_view name, std::string_view type, std::string_view help);

// A label value with backslash, double quote and newline escaped.
std::string label_value(std::string_view v);

// A sample value: integers as such, others with enough digits to round-trip.
std::string number(double v);

// "name{labels} value\n" (no braces when labels is empty).
void sample(std::string& out, std::string_view name, std::string_view labels, std::string_view value);

}  // namespace sipsite::metrics
