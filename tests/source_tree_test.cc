// Checks on the source tree itself: the layout docs/ARCHITECTURE.md draws, and the rules that
// keep several engineers' work linkable.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace qtk {
namespace {

namespace fs = std::filesystem;

const fs::path kRoot(QTK_SOURCE_DIR);

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<fs::path> FilesUnder(const fs::path& dir, std::set<std::string> extensions) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file() && extensions.contains(entry.path().extension().string())) {
      files.push_back(entry.path());
    }
  }
  return files;
}

// The folders of src/, in layer order, as docs/ARCHITECTURE.md's folder map lists them:
// its rows "| `base/` | ... |", top to bottom.
std::vector<std::string> MappedFolders() {
  const std::string doc = ReadText(kRoot / "docs" / "ARCHITECTURE.md");
  const std::regex row(R"(\n\| `src/([a-z_]+)/` \|)");
  std::vector<std::string> folders;
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), row); it != std::sregex_iterator();
       ++it) {
    folders.push_back((*it)[1]);
  }
  return folders;
}

int LayerOf(const std::vector<std::string>& folders, const std::string& folder) {
  for (size_t i = 0; i < folders.size(); ++i) {
    if (folders[i] == folder) return static_cast<int>(i);
  }
  return -1;
}

struct Include {
  std::string folder;  // "base", "format", ...
  bool is_public;      // "qtk/<folder>/x.h" rather than "<folder>/x.h"
  std::string text;
};

// The quoted includes of `path` that name a folder of src/ or include/qtk/.
std::vector<Include> FolderIncludes(const fs::path& path) {
  static const std::regex include_line(R"re(#include "(qtk/)?([a-z_]+)/[^"]+")re");
  const std::string text = ReadText(path);
  std::vector<Include> includes;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), include_line);
       it != std::sregex_iterator(); ++it) {
    includes.push_back({(*it)[2], (*it)[1].matched, (*it)[0]});
  }
  return includes;
}

TEST_CASE("src/ has exactly the folders docs/ARCHITECTURE.md maps", "[source]") {
  const std::vector<std::string> mapped = MappedFolders();
  REQUIRE(mapped.size() >= 8);
  std::set<std::string> on_disk;
  for (const auto& entry : fs::directory_iterator(kRoot / "src")) {
    INFO("src/ holds a file outside any folder: " << entry.path().filename());
    CHECK(entry.is_directory());
    if (entry.is_directory()) on_disk.insert(entry.path().filename().string());
  }
  CHECK(on_disk == std::set<std::string>(mapped.begin(), mapped.end()));
  // The public API uses the same folders.
  for (const auto& entry : fs::directory_iterator(kRoot / "include" / "qtk")) {
    INFO("include/qtk/" << entry.path().filename().string());
    CHECK(entry.is_directory());
    CHECK(on_disk.contains(entry.path().filename().string()));
  }
  // tests/ mirrors src/, plus cli/ for the built binary.
  for (const std::string& folder : mapped) {
    INFO("tests/" << folder);
    CHECK(fs::is_directory(kRoot / "tests" / folder));
  }
}

TEST_CASE("no folder of src/ holds more than 25 files", "[source]") {
  for (const auto& folder : fs::directory_iterator(kRoot / "src")) {
    if (!folder.is_directory()) continue;
    const auto n_files = std::distance(fs::directory_iterator(folder.path()), {});
    INFO(folder.path().filename().string() << " holds " << n_files << " files");
    CHECK(n_files <= 25);
  }
}

// A file may use its own folder and the folders above it in the map (lower layers), never a
// folder below it: format/ cannot know about the pipeline that writes formats.
TEST_CASE("folders depend only on the layers before them", "[source]") {
  const std::vector<std::string> layers = MappedFolders();
  for (const char* root : {"src", "include/qtk"}) {
    for (const fs::path& file : FilesUnder(kRoot / root, {".cc", ".h"})) {
      const std::string folder = file.parent_path().filename().string();
      const int layer = LayerOf(layers, folder);
      for (const Include& include : FolderIncludes(file)) {
        const int used = LayerOf(layers, include.folder);
        if (used < 0) continue;
        INFO(fs::relative(file, kRoot).string() << " (" << folder << ") includes " << include.text);
        CHECK(used <= layer);
      }
    }
  }
}

// Internal headers are a folder's own business. base/'s are everyone's, and these few are
// shared on purpose (docs/ARCHITECTURE.md says why).
TEST_CASE("no folder includes another folder's internals but the shared ones", "[source]") {
  const std::set<std::string> shared = {"quant/quant_checks.h", "scheme/scheme_layout.h",
                                        "format/gguf_split.h"};
  for (const fs::path& file : FilesUnder(kRoot / "src", {".cc", ".h"})) {
    const std::string folder = file.parent_path().filename().string();
    for (const Include& include : FolderIncludes(file)) {
      if (include.is_public || include.folder == folder || include.folder == "base") continue;
      const std::string header = include.text.substr(10, include.text.size() - 11);
      INFO(fs::relative(file, kRoot).string() << " includes " << include.text);
      CHECK(shared.contains(header));
    }
  }
}

TEST_CASE("public headers include only public headers and no third-party library", "[source]") {
  const std::regex forbidden(R"re(#include ["<](nlohmann|Eigen|spdlog|fmt|CLI)/)re");
  for (const fs::path& file : FilesUnder(kRoot / "include" / "qtk", {".h"})) {
    const std::string text = ReadText(file);
    INFO(fs::relative(file, kRoot).string());
    CHECK_FALSE(std::regex_search(text, forbidden));
    for (const Include& include : FolderIncludes(file)) {
      INFO(include.text);
      CHECK(include.is_public);
    }
  }
}

// A reader of a header finds every file that implements it: x.cc has x.h beside it (in
// src/<folder>/ or include/qtk/<folder>/), or a header of its folder names it.
TEST_CASE("every source file pairs with a header of its folder", "[source]") {
  for (const auto& folder : fs::directory_iterator(kRoot / "src")) {
    if (!folder.is_directory()) continue;
    const std::string name = folder.path().filename().string();
    std::vector<fs::path> headers = FilesUnder(folder.path(), {".h"});
    if (fs::is_directory(kRoot / "include" / "qtk" / name)) {
      for (const fs::path& h : FilesUnder(kRoot / "include" / "qtk" / name, {".h"})) {
        headers.push_back(h);
      }
    }
    std::string header_texts;
    std::set<std::string> stems;
    for (const fs::path& h : headers) {
      stems.insert(h.stem().string());
      header_texts += ReadText(h);
    }
    for (const fs::path& source : FilesUnder(folder.path(), {".cc"})) {
      const std::string file = source.filename().string();
      INFO("src/" << name << "/" << file << " has no header of its name, and no header of " << name
                  << "/ names it");
      CHECK(
          (stems.contains(source.stem().string()) || header_texts.find(file) != std::string::npos));
    }
  }
}

// tools/ parses arguments and renders results; the steps of a job are library calls
// (pipeline/quantize_job.h), so no command strings them together itself.
TEST_CASE("tools/ holds no pipeline steps and no library internals", "[source]") {
  const std::regex pipeline_step(
      R"(\b(PlanModel|QuantizeModel|CheckPlanGates|CheckErrorGates|UseImportance|ReadImportanceMatrixFile)\s*\()");
  for (const fs::path& file : FilesUnder(kRoot / "tools", {".cc", ".h"})) {
    const std::string text = ReadText(file);
    INFO(fs::relative(file, kRoot).string());
    CHECK_FALSE(std::regex_search(text, pipeline_step));
    for (const Include& include : FolderIncludes(file)) {
      INFO(include.text);
      CHECK(include.is_public);
    }
  }
}

// Two headers defining the same qtk type name violate the one-definition rule silently:
// the program links and then crashes where the definitions differ.
TEST_CASE("no two headers define the same type", "[source]") {
  const std::regex definition(
      R"(^(struct|class|enum class|enum) ([A-Za-z_][A-Za-z0-9_]*)\b[^;]*$)");
  std::map<std::string, std::string> defined_in;
  int n_headers = 0;
  for (const char* dir : {"include/qtk", "src"}) {
    for (const fs::path& header : FilesUnder(kRoot / dir, {".h"})) {
      ++n_headers;
      std::ifstream in(header);
      std::string line;
      while (std::getline(in, line)) {
        std::smatch match;
        if (!std::regex_match(line, match, definition)) continue;
        const std::string name = match[2];
        const std::string where = fs::relative(header, kRoot).string();
        auto [it, inserted] = defined_in.emplace(name, where);
        INFO(name << " is defined in " << it->second << " and " << where);
        CHECK((inserted || it->second == where));
      }
    }
  }
  CHECK(n_headers > 20);
}

// ctest runs each test case by name; a name starting with '-' is read as an option.
TEST_CASE("no test case name starts with a dash", "[source]") {
  for (const fs::path& file : FilesUnder(kRoot / "tests", {".cc"})) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
      INFO(file.filename().string() << ": " << line);
      CHECK(line.find("TEST_CASE(\"-") == std::string::npos);
    }
  }
}

}  // namespace
}  // namespace qtk
