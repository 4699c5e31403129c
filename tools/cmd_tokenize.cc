// qtk tokenize MODEL TEXT | --file F [--jsonl] [--no-special] [--json]: the token ids of a
// text, as the model's own tokenizer gives them (tokenizer.json as Hugging Face's `tokenizers`,
// tokenizer.model and GGUF vocabularies as llama.cpp).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>

#include "commands.h"
#include "format.h"
#include "json_fields.h"
#include "qtk/base/byte_source.h"
#include "qtk/tokenize/tokenizer.h"
#include "signals.h"

namespace qtk::cli {
namespace {

struct TokenizeOptions {
  std::string model;
  std::string text;
  std::string file;
  bool jsonl = false;
  bool no_special = false;
  bool json = false;
};


// --jsonl: each line of `input` is one JSON string; each output line its ids as an array.
int RunJsonLines(const Tokenizer& tokenizer, const std::string& input, const std::string& path,
                 bool add_special) {
  std::istringstream lines(input);
  std::string line;
  std::string out;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (line.empty()) continue;
    const Json value = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!value.is_string()) {
      return ReportError(
          Status::Corruption(path + ":" + std::to_string(number) + ": expected one json string"));
    }
    Result<std::vector<int32_t>> ids = tokenizer.Encode(value.get<std::string>(), add_special);
    if (!ids.ok()) {
      return ReportError(ids.status().WithPrefix(path + ":" + std::to_string(number)));
    }
    out += Json(*ids).dump() + "\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? kExitOk : kExitInputError;
}

int RunTokenize(const TokenizeOptions& options) {
  InstallFileSignalHandlers();
  if (options.text.empty() == options.file.empty()) {
    std::fprintf(stderr, "qtk: error: give either TEXT or --file\n");
    return kExitUsage;
  }
  if (options.jsonl && options.file.empty()) {
    std::fprintf(stderr, "qtk: error: --jsonl reads --file\n");
    return kExitUsage;
  }
  Result<Tokenizer> tokenizer = OpenTokenizer(options.model);
  if (!tokenizer.ok()) return ReportError(tokenizer.status());
  std::string text = options.text;
  if (!options.file.empty()) {
    Result<std::string> read = ReadWholeFile(options.file);
    if (!read.ok()) return ReportError(read.status());
    text = std::move(read).value();
  }
  if (options.jsonl) return RunJsonLines(*tokenizer, text, options.file, !options.no_special);
  Result<std::vector<int32_t>> ids = tokenizer->Encode(text, !options.no_special);
  if (!ids.ok() && !options.file.empty()) {  // the file is the bad input, not the command line
    return ReportError(Status::Corruption(options.file + ": " + ids.status().message()));
  }
  if (!ids.ok()) return ReportError(ids.status());
  std::string out;
  if (options.json) {
    Json pieces = Json::array();
    for (int32_t id : *ids) pieces.push_back(std::string(tokenizer->Piece(id)));
    out = Json{{"ids", *ids}, {"pieces", pieces}}.dump() + "\n";
  } else {
    for (int32_t id : *ids) {
      out += std::to_string(id) + "\t" + Escaped(tokenizer->Piece(id)) + "\n";
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? kExitOk : kExitInputError;
}

}  // namespace

void AddTokenizeCommand(CLI::App& app, CommandRunner& runner) {
  auto options = std::make_shared<TokenizeOptions>();
  CLI::App* command = app.add_subcommand(
      "tokenize", "Token ids of a text, as the model's own tokenizer gives them");
  command
      ->add_option("model", options->model,
                   "Model directory, tokenizer.json, tokenizer.model or GGUF file")
      ->required();
  command->add_option("text", options->text, "The text (or use --file)");
  command->add_option("-f,--file", options->file, "Read the text from a file");
  command->add_flag("--jsonl", options->jsonl,
                    "--file holds one JSON string per line; print one JSON array of ids per line");
  command->add_flag("--no-special", options->no_special,
                    "Leave out what the tokenizer adds around the text (BOS, EOS)");
  command->add_flag("--json", options->json, "Print {\"ids\": [...], \"pieces\": [...]}");
  command->callback(
      [&runner, options] { runner.run = [options] { return RunTokenize(*options); }; });
}

}  // namespace qtk::cli
