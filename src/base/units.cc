// Parsing "4GB", "24GiB", "7e9", "7B".
#include "qtk/base/units.h"

#include <array>
#include <cmath>
#include <cstdlib>
#include <string>

#include "base/string_util.h"

namespace qtk {
namespace {

struct Unit {
  std::string_view name;
  double factor;
};

constexpr std::array<Unit, 10> kByteUnits = {{{"b", 1.0},
                                              {"kb", 1e3},
                                              {"mb", 1e6},
                                              {"gb", 1e9},
                                              {"tb", 1e12},
                                              {"kib", 1024.0},
                                              {"mib", 1048576.0},
                                              {"gib", 1073741824.0},
                                              {"tib", 1099511627776.0},
                                              {"", 1.0}}};

constexpr std::array<Unit, 5> kCountSuffixes = {
    {{"k", 1e3}, {"m", 1e6}, {"b", 1e9}, {"t", 1e12}, {"", 1.0}}};

// Splits "4.5GiB" into 4.5 and "GiB"; nullopt-like false if there is no leading number.
bool SplitNumber(std::string_view text, double* value, std::string_view* unit) {
  const std::string copy(text);
  char* end = nullptr;
  *value = std::strtod(copy.c_str(), &end);
  if (end == copy.c_str()) return false;
  *unit = text.substr(static_cast<size_t>(end - copy.c_str()));
  while (!unit->empty() && unit->front() == ' ') unit->remove_prefix(1);
  return std::isfinite(*value);
}

}  // namespace

Result<uint64_t> ParseByteSize(std::string_view text) {
  double value = 0;
  std::string_view unit;
  const auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("size '" + Printable(text) + "': " + why);
  };
  if (!SplitNumber(text, &value, &unit)) {
    return bad("expected a number and a unit, e.g. 4GB, 24GiB, 512MiB");
  }
  for (const Unit& candidate : kByteUnits) {
    if (!EqualsIgnoreCase(unit, candidate.name)) continue;
    const double n_bytes = std::round(value * candidate.factor);
    if (n_bytes < 0) return bad("is negative");
    if (n_bytes >= 1.8e19) return bad("is too large");
    return static_cast<uint64_t>(n_bytes);
  }
  return bad("unknown unit '" + Printable(unit) +
             "' (B, KB, MB, GB, TB are powers of 1000; KiB, MiB, GiB, TiB powers of 1024)");
}

Result<double> ParseCount(std::string_view text) {
  double value = 0;
  std::string_view suffix;
  const auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("count '" + Printable(text) + "': " + why);
  };
  if (!SplitNumber(text, &value, &suffix)) return bad("expected a number, e.g. 7e9 or 7B");
  for (const Unit& candidate : kCountSuffixes) {
    if (!EqualsIgnoreCase(suffix, candidate.name)) continue;
    const double count = value * candidate.factor;
    if (!(count >= 1)) return bad("must be at least 1");
    if (count > 1e18) return bad("is too large");
    return count;
  }
  return bad("unknown suffix '" + Printable(suffix) + "' (K, M, B or T)");
}

}  // namespace qtk
