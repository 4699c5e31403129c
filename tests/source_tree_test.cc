// Checks on the source tree itself: rules that keep several engineers' work linkable.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

namespace qtk {
namespace {

// Two headers defining the same qtk type name violate the one-definition rule silently:
// the program links and then crashes where the definitions differ.
TEST_CASE("no two headers define the same type", "[source]") {
  const std::filesystem::path root(QTK_SOURCE_DIR);
  const std::regex definition(R"(^(struct|class|enum class|enum) ([A-Za-z_][A-Za-z0-9_]*)\b[^;]*$)");
  std::map<std::string, std::string> defined_in;
  int n_headers = 0;
  for (const auto* dir : {"include/qtk", "src"}) {
    for (const auto& entry : std::filesystem::directory_iterator(root / dir)) {
      if (entry.path().extension() != ".h") continue;
      ++n_headers;
      std::ifstream in(entry.path());
      std::string line;
      while (std::getline(in, line)) {
        std::smatch match;
        if (!std::regex_match(line, match, definition)) continue;
        const std::string name = match[2];
        const std::string where = entry.path().filename().string();
        auto [it, inserted] = defined_in.emplace(name, where);
        INFO(name << " is defined in " << it->second << " and " << where);
        CHECK((inserted || it->second == where));
      }
    }
  }
  CHECK(n_headers > 20);
}

}  // namespace
}  // namespace qtk

namespace qtk {
namespace {

// ctest runs each test case by name; a name starting with '-' is read as an option.
TEST_CASE("no test case name starts with a dash", "[source]") {
  const std::filesystem::path root(QTK_SOURCE_DIR);
  for (const auto& entry : std::filesystem::directory_iterator(root / "tests")) {
    if (entry.path().extension() != ".cc") continue;
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      INFO(entry.path().filename().string() << ": " << line);
      CHECK(line.find("TEST_CASE(\"-") == std::string::npos);
    }
  }
}

}  // namespace
}  // namespace qtk
