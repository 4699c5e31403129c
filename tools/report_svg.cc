// The report as a figure: "Figure 1" (model size by precision, bars labelled in GB) beside
// a size vs weight-error scatter, as one self-contained SVG document (no scripts, no
// external fonts or styles), so it renders in any browser and embeds in a README.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "qtk/base/units.h"
#include "report_format.h"

namespace qtk::cli {
namespace {

constexpr double kWidth = 960;
constexpr double kHeight = 460;
constexpr double kPanelWidth = 480;
// Plot area inside each panel.
constexpr double kLeft = 70;
constexpr double kRight = 20;
constexpr double kTop = 60;
constexpr double kBottom = 90;

constexpr const char* kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

std::string Escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Fmt(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.1f", value);
  return buffer;
}

std::string Text(double x, double y, const std::string& text, const std::string& attributes) {
  return "<text x=\"" + Fmt(x) + "\" y=\"" + Fmt(y) + "\" " + attributes + ">" + Escape(text) +
         "</text>\n";
}

std::string Line(double x1, double y1, double x2, double y2, const std::string& attributes) {
  return "<line x1=\"" + Fmt(x1) + "\" y1=\"" + Fmt(y1) + "\" x2=\"" + Fmt(x2) + "\" y2=\"" +
         Fmt(y2) + "\" " + attributes + "/>\n";
}

// A step of 1, 2 or 5 × 10^k giving about `n_ticks` ticks over `span`.
double NiceStep(double span, int n_ticks) {
  if (!(span > 0)) return 1;
  const double raw = span / n_ticks;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double factor : {1.0, 2.0, 5.0, 10.0}) {
    if (raw <= factor * power) return factor * power;
  }
  return 10 * power;
}

struct Axis {
  double min = 0;
  double max = 1;
  double step = 1;
  double ToPixel(double value, double from, double to) const {
    return from + (value - min) / (max - min) * (to - from);
  }
};

Axis NiceAxis(double low, double high, bool from_zero) {
  if (from_zero) low = std::min(0.0, low);
  if (!(high > low)) high = low + 1;
  Axis axis;
  axis.step = NiceStep(high - low, 5);
  axis.min = std::floor(low / axis.step) * axis.step;
  axis.max = std::ceil(high / axis.step) * axis.step;
  if (axis.max <= axis.min) axis.max = axis.min + axis.step;
  return axis;
}

std::string TickLabel(double value, double step) {
  char buffer[32];
  const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step)));
  std::snprintf(buffer, sizeof(buffer), "%.*f", std::min(decimals, 9), value);
  return buffer;
}

// Horizontal grid lines with labels on the left (y axis) of a panel.
std::string YAxis(const Axis& axis, double x0, double x1, double top, double bottom,
                  const std::string& label) {
  std::string out;
  for (double v = axis.min; v <= axis.max + axis.step * 1e-9; v += axis.step) {
    const double y = axis.ToPixel(v, bottom, top);
    out += Line(x0, y, x1, y, "stroke=\"#dddddd\"");
    out += Text(x0 - 6, y + 4, TickLabel(v, axis.step), "text-anchor=\"end\" font-size=\"11\"");
  }
  out += Text(x0 - 52, (top + bottom) / 2, label,
              "text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 " + Fmt(x0 - 52) +
                  " " + Fmt((top + bottom) / 2) + ")\"");
  return out + Line(x0, top, x0, bottom, "stroke=\"#333333\"") +
         Line(x0, bottom, x1, bottom, "stroke=\"#333333\"");
}

// Boxes taken so far (points and labels), so that labels of nearby points do not print
// over each other or over the points.
class LabelPlacer {
 public:
  void Occupy(double x0, double y0, double x1, double y1) { boxes_.push_back({x0, y0, x1, y1}); }

  // Where to write a label of `chars` characters beside the point (x, y): to the right
  // (to the left when it would pass `right_edge`), at the first height that is free.
  // Returns the text's x, y and whether it is anchored at its end.
  struct Spot {
    double x = 0;
    double y = 0;
    bool anchor_end = false;
  };
  Spot Place(double x, double y, size_t chars, double right_edge) {
    const double width = 6.0 * static_cast<double>(chars);
    const bool left = x + 8 + width > right_edge;
    const double text_x = left ? x - 8 : x + 8;
    const double box_x0 = left ? text_x - width : text_x;
    for (double offset : {-6.0, 14.0, -18.0, 26.0, -30.0, 38.0}) {
      const Box box{box_x0, y + offset - 10, box_x0 + width, y + offset + 2};
      bool free = true;
      for (const Box& other : boxes_) free = free && !box.Overlaps(other);
      if (free) {
        boxes_.push_back(box);
        return {text_x, y + offset, left};
      }
    }
    return {text_x, y - 6, left};
  }

 private:
  struct Box {
    double x0, y0, x1, y1;
    bool Overlaps(const Box& o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
  };
  std::vector<Box> boxes_;
};

std::vector<double> SizesGB(const Report& report) {
  std::vector<double> gb;
  for (size_t i = 0; i < report.sizes.targets.size(); ++i) {
    gb.push_back(report.hypothetical.empty()
                     ? ToGB(static_cast<double>(report.sizes.targets[i].file_bytes))
                     : ToGB(report.hypothetical[i].n_bytes));
  }
  return gb;
}

std::string BarPanel(const Report& report, const std::vector<double>& gb) {
  const double x0 = kLeft;
  const double x1 = kPanelWidth - kRight;
  const double top = kTop;
  const double bottom = kHeight - kBottom;
  const double slot = (x1 - x0) / static_cast<double>(gb.size());
  // Labels wider than a bar's slot are written upwards, which needs more headroom.
  size_t longest = 0;
  for (double v : gb) longest = std::max(longest, FormatSignificant(v).size() + 3);
  const bool rotate_labels = 6.0 * static_cast<double>(longest) > slot;
  const double headroom = rotate_labels ? 1.35 : 1.08;
  const Axis axis = NiceAxis(0, *std::max_element(gb.begin(), gb.end()) * headroom, true);
  std::string title = "Figure 1: model size by precision";
  if (report.hypothetical_params) {
    title += ", " + FormatParamsShort(*report.hypothetical_params) + " parameters";
  }
  std::string out = Text(kPanelWidth / 2, 28, title,
                         "text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\"");
  out += YAxis(axis, x0, x1, top, bottom, "size (GB)");
  const double bar_width = std::min(60.0, slot * 0.7);
  for (size_t i = 0; i < gb.size(); ++i) {
    const double cx = x0 + slot * (static_cast<double>(i) + 0.5);
    const double y = axis.ToPixel(gb[i], bottom, top);
    const std::string& name = report.sizes.targets[i].target.name;
    out += "<rect class=\"bar\" x=\"" + Fmt(cx - bar_width / 2) + "\" y=\"" + Fmt(y) +
           "\" width=\"" + Fmt(bar_width) + "\" height=\"" + Fmt(bottom - y) + "\" fill=\"" +
           kPalette[i % std::size(kPalette)] + "\"><title>" + Escape(name) + ": " +
           Escape(FormatSignificant(gb[i])) + " GB</title></rect>\n";
    const std::string label = FormatSignificant(gb[i]) + " GB";
    if (rotate_labels) {
      out +=
          Text(cx + 3, y - 4, label,
               "font-size=\"10\" transform=\"rotate(-90 " + Fmt(cx + 3) + " " + Fmt(y - 4) + ")\"");
    } else {
      out += Text(cx, y - 5, label, "text-anchor=\"middle\" font-size=\"10\"");
    }
    out += Text(cx, bottom + 14, name,
                "text-anchor=\"end\" font-size=\"11\" transform=\"rotate(-35 " + Fmt(cx) + " " +
                    Fmt(bottom + 14) + ")\"");
  }
  return out;
}

// The targets whose error is a finite number, which the scatter can place.
std::vector<size_t> ScatterTargets(const Report& report) {
  std::vector<size_t> shown;
  for (size_t i = 0; report.quality_measured && i < report.quality.size(); ++i) {
    const TargetQuality& q = report.quality[i];
    if (q.unavailable.empty() && !q.tensors.empty() && std::isfinite(q.total.SnrDb())) {
      shown.push_back(i);
    }
  }
  return shown;
}

// The SNR axis. One near-lossless point (F16 at 100+ dB) would squash the others, so the
// axis stops 10 dB above the second highest SNR when the highest is 30 dB beyond it.
Axis SnrAxis(const Report& report, const std::vector<size_t>& shown) {
  std::vector<double> snrs;
  for (size_t i : shown) snrs.push_back(report.quality[i].total.SnrDb());
  std::sort(snrs.begin(), snrs.end());
  const double high = snrs.size() >= 3 && snrs.back() - snrs[snrs.size() - 2] > 30
                          ? snrs[snrs.size() - 2] + 10
                          : snrs.back();
  return NiceAxis(snrs.front() - 2, high + 2, false);
}

// Points first (so that no point covers a label), then labels placed around them.
std::string ScatterPoints(const Report& report, const std::vector<double>& gb,
                          const std::vector<size_t>& shown, const Axis& x_axis,
                          const Axis& y_axis) {
  const double x0 = kPanelWidth + kLeft;
  const double x1 = kWidth - kRight;
  struct Point {
    double x, y;
    std::string label;
  };
  std::vector<Point> points;
  LabelPlacer labels;
  std::string out;
  for (size_t i : shown) {
    const double snr = report.quality[i].total.SnrDb();
    Point p{x_axis.ToPixel(gb[i], x0, x1),
            y_axis.ToPixel(std::min(snr, y_axis.max), kHeight - kBottom, kTop),
            report.sizes.targets[i].target.name};
    if (snr > y_axis.max) p.label += " (" + FormatDb(snr) + " dB, off scale)";
    labels.Occupy(p.x - 5, p.y - 5, p.x + 5, p.y + 5);
    out += "<circle class=\"point\" cx=\"" + Fmt(p.x) + "\" cy=\"" + Fmt(p.y) +
           "\" r=\"5\" fill=\"" + kPalette[i % std::size(kPalette)] + "\"><title>" +
           Escape(p.label) + ": " + Escape(FormatSignificant(gb[i])) + " GB, " +
           Escape(FormatDb(snr)) + " dB</title></circle>\n";
    points.push_back(std::move(p));
  }
  for (const Point& p : points) {
    const LabelPlacer::Spot spot = labels.Place(p.x, p.y, p.label.size(), kWidth - 4);
    out += Text(spot.x, spot.y, p.label,
                std::string("font-size=\"10\"") + (spot.anchor_end ? " text-anchor=\"end\"" : ""));
  }
  return out;
}

std::string ScatterPanel(const Report& report, const std::vector<double>& gb) {
  const double x0 = kPanelWidth + kLeft;
  const double x1 = kWidth - kRight;
  const double bottom = kHeight - kBottom;
  std::string out = Text(kPanelWidth * 1.5, 28, "Size vs weight error",
                         "text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\"");
  const std::vector<size_t> shown = ScatterTargets(report);
  if (shown.empty()) {
    return out + Text(kPanelWidth * 1.5, kHeight / 2, "weight error not measured",
                      "text-anchor=\"middle\" font-size=\"13\" fill=\"#666666\"");
  }
  const Axis x_axis = NiceAxis(0, *std::max_element(gb.begin(), gb.end()) * 1.1, true);
  const Axis y_axis = SnrAxis(report, shown);
  out += YAxis(y_axis, x0, x1, kTop, bottom, "SNR (dB, higher is better)");
  for (double v = x_axis.min; v <= x_axis.max + x_axis.step * 1e-9; v += x_axis.step) {
    out += Text(x_axis.ToPixel(v, x0, x1), bottom + 16, TickLabel(v, x_axis.step),
                "text-anchor=\"middle\" font-size=\"11\"");
  }
  out += Text((x0 + x1) / 2, bottom + 40, "size (GB)", "text-anchor=\"middle\" font-size=\"12\"");
  return out + ScatterPoints(report, gb, shown, x_axis, y_axis);
}

}  // namespace

std::string FormatReportSvg(const Report& report) {
  const std::vector<double> gb = SizesGB(report);
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
      Fmt(kWidth) + "\" height=\"" + Fmt(kHeight) + "\" viewBox=\"0 0 " + Fmt(kWidth) + " " +
      Fmt(kHeight) +
      "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
      "<title>qtk report: " +
      Escape(report.input_path) +
      "</title>\n"
      "<rect x=\"0\" y=\"0\" width=\"" +
      Fmt(kWidth) + "\" height=\"" + Fmt(kHeight) + "\" fill=\"#ffffff\"/>\n";
  if (!gb.empty()) out += BarPanel(report, gb) + ScatterPanel(report, gb);
  std::string caption = "qtk report " + report.input_path;
  if (report.sample_rows > 0) {
    caption += " (error sampled: " + std::to_string(report.sample_rows) + " rows per tensor)";
  }
  out += Text(kWidth / 2, kHeight - 10, caption,
              "text-anchor=\"middle\" font-size=\"10\" fill=\"#666666\"");
  return out + "</svg>\n";
}

}  // namespace qtk::cli
