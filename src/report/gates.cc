// CheckGates: one line per limit a subject breaks.
#include "qtk/report/gates.h"

#include <cmath>
#include <cstdio>

#include "qtk/base/units.h"

namespace qtk {
namespace {

std::string Grouped(uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  const size_t lead = digits.size() % 3;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (i + 3 - lead) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string Fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", decimals, value);
  return buffer;
}

// "1,828,192 bytes (1.83 MB)"
std::string BytesText(uint64_t n_bytes) {
  const double gb = ToGB(static_cast<double>(n_bytes));
  const std::string decimal = gb >= 1 ? Fixed(gb, 2) + " GB" : Fixed(gb * 1000, 2) + " MB";
  return Grouped(n_bytes) + " bytes (" + decimal + ")";
}

std::string Number(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.6g", value);
  return buffer;
}

}  // namespace

std::vector<std::string> CheckGates(const Gates& gates, const std::vector<GateSubject>& subjects) {
  std::vector<std::string> breaches;
  for (const GateSubject& s : subjects) {
    const std::string who = s.name + ": ";
    if (gates.max_size_bytes && s.size_bytes > *gates.max_size_bytes) {
      breaches.push_back(who + "size " + BytesText(s.size_bytes) + " is above --max-size " +
                         gates.max_size_text + " (" + Grouped(*gates.max_size_bytes) + " bytes)");
    }
    if (gates.needs_quality() && !s.quality) {
      breaches.push_back(who + "the error was not measured, so --min-snr/--max-rmse cannot pass");
    } else if (s.quality) {
      const double snr = s.quality->SnrDb();
      const double rmse = s.quality->Rmse();
      if (gates.min_snr_db && !(snr >= *gates.min_snr_db)) {
        breaches.push_back(who + "snr " + Fixed(snr, 2) + " dB is below --min-snr " +
                           Number(*gates.min_snr_db));
      }
      if (gates.max_rmse && !(rmse <= *gates.max_rmse)) {
        breaches.push_back(who + "rmse " + Number(rmse) + " is above --max-rmse " +
                           Number(*gates.max_rmse));
      }
    }
    if (gates.must_fit_bytes && !s.deploy_bytes) {
      breaches.push_back(who + "the deployment memory is unknown, so --must-fit cannot pass");
    } else if (gates.must_fit_bytes && *s.deploy_bytes > *gates.must_fit_bytes) {
      breaches.push_back(who + "needs " + BytesText(*s.deploy_bytes) + " at " + s.deploy_what +
                         ", above --must-fit " + gates.must_fit_text + " (" +
                         Grouped(*gates.must_fit_bytes) + " bytes)");
    }
  }
  return breaches;
}

}  // namespace qtk
