// tokenizer.model parsing and validation, rule by rule.
#include "qtk/tokenize/sentencepiece_model.h"

#include <catch2/catch.hpp>

#include "base/protobuf_wire.h"
#include "sentencepiece_support.h"
#include "test_support.h"

namespace qtk {
namespace {

const char* const kPath = "tok.model";

std::string ErrorOf(const std::vector<uint8_t>& bytes) {
  Result<SentencePieceModel> model = ParseSentencePieceModel(bytes, kPath);
  REQUIRE_FALSE(model.ok());
  CHECK(model.status().code() == Status::Code::kCorruption);
  return model.status().message();
}

using testing::SentencePieceMessage;
using testing::SmallSentencePieceModel;

TEST_CASE("a small handcrafted model parses", "[sentencepiece]") {
  Result<SentencePieceModel> model =
      ParseSentencePieceModel(SmallSentencePieceModel().bytes(), kPath);
  REQUIRE(model.ok());
  REQUIRE(model->pieces.size() == 5);
  CHECK(model->pieces[3].piece == "a");
  CHECK(model->pieces[3].score == -1.0f);
  CHECK(model->pieces[4].type == PieceType::kUserDefined);
  CHECK(model->trainer_spec.model_type == 1);  // defaults when absent
  CHECK(model->trainer_spec.pad_id == -1);
}

TEST_CASE("serialize then parse gives the same model", "[sentencepiece]") {
  Result<SentencePieceModel> model =
      ParseSentencePieceModel(SmallSentencePieceModel().bytes(), kPath);
  REQUIRE(model.ok());
  model->trainer_spec.model_type = 2;
  model->trainer_spec.pad_id = -1;
  model->normalizer_spec.name = "identity";
  model->normalizer_spec.remove_extra_whitespaces = false;
  Result<SentencePieceModel> again =
      ParseSentencePieceModel(SerializeSentencePieceModel(*model), kPath);
  REQUIRE(again.ok());
  REQUIRE(again->pieces.size() == model->pieces.size());
  for (size_t i = 0; i < model->pieces.size(); ++i) {
    CHECK(again->pieces[i].piece == model->pieces[i].piece);
    CHECK(again->pieces[i].score == model->pieces[i].score);
    CHECK(again->pieces[i].type == model->pieces[i].type);
  }
  CHECK(again->trainer_spec.model_type == 2);
  CHECK(again->trainer_spec.pad_id == -1);
  CHECK(again->normalizer_spec.name == "identity");
  CHECK_FALSE(again->normalizer_spec.remove_extra_whitespaces);
}

TEST_CASE("wire-format errors name the offset and the problem", "[sentencepiece]") {
  SECTION("truncated varint") {
    CHECK(ErrorOf({0x0A, 0x85}) ==
          "tok.model: offset 1 (0x1): ModelProto: field 1 length: varint is truncated, the "
          "message ends after 1 bytes");
  }
  SECTION("varint longer than 10 bytes") {
    std::vector<uint8_t> bytes = {0x10};  // field 2, varint
    bytes.insert(bytes.end(), 10, 0xFF);
    bytes.push_back(0x01);
    CHECK(ErrorOf(bytes) ==
          "tok.model: offset 1 (0x1): ModelProto: field 2: varint is longer than 10 bytes");
  }
  SECTION("length past the end") {
    CHECK(ErrorOf({0x0A, 0x10, 'x'}) ==
          "tok.model: offset 1 (0x1): ModelProto: field 1: length is 16, the message has only "
          "1 bytes left");
  }
  SECTION("nested length past the end of its own message") {
    // pieces { piece: length 5 but the piece message holds 2 bytes } then more data
    CHECK(ErrorOf({0x0A, 0x02, 0x0A, 0x05, 'a', 'b', 'c', 'd', 'e'}) ==
          "tok.model: offset 3 (0x3): pieces[0]: field 1: length is 5, the message has only 0 "
          "bytes left");
  }
  SECTION("wrong wire type for pieces") {
    CHECK(ErrorOf({0x08, 0x01}) ==
          "tok.model: offset 0 (0x0): ModelProto: field 1 (pieces): wire type is 0 (varint), "
          "expected 2 (length-delimited)");
  }
  SECTION("wrong wire type for score") {
    CHECK(ErrorOf({0x0A, 0x02, 0x10, 0x01}) ==
          "tok.model: offset 2 (0x2): pieces[0]: field 2 (score): wire type is 0 (varint), "
          "expected 5 (fixed32)");
  }
  SECTION("fixed32 cut short") {
    CHECK(ErrorOf({0x0A, 0x03, 0x15, 0x00, 0x00}) ==
          "tok.model: offset 3 (0x3): pieces[0]: field 2: fixed32 needs 4 bytes, the message "
          "ends after 2");
  }
  SECTION("group wire type") {
    CHECK(ErrorOf({0x0B}) ==
          "tok.model: offset 0 (0x0): ModelProto: field 1: wire type 3 (group) is not supported");
  }
  SECTION("wire type 7") {
    CHECK(ErrorOf({0x0F}) ==
          "tok.model: offset 0 (0x0): ModelProto: field 1: wire type is 7, must be 0, 1, 2 or 5");
  }
  SECTION("field number 0") {
    CHECK(ErrorOf({0x00, 0x00}) ==
          "tok.model: offset 0 (0x0): ModelProto: field number is 0, must be 1..536870911");
  }
  SECTION("wrong wire type inside trainer_spec") {
    CHECK(ErrorOf({0x12, 0x05, 0x25, 0x00, 0x00, 0x00, 0x00}) ==
          "tok.model: offset 2 (0x2): trainer_spec: field 4 (vocab_size): wire type is 5 "
          "(fixed32), expected 0 (varint)");
  }
}

TEST_CASE("SentencePiece loader rules are enforced", "[sentencepiece]") {
  SECTION("piece type out of range") {
    CHECK(ErrorOf({0x0A, 0x05, 0x0A, 0x01, 'a', 0x18, 0x09}) ==
          "tok.model: offset 6 (0x6): pieces[0]: type is 9, must be 1..6 (NORMAL..BYTE)");
  }
  SECTION("invalid UTF-8") {
    CHECK(ErrorOf({0x0A, 0x03, 0x0A, 0x01, 0xFF}) ==
          "tok.model: offset 4 (0x4): pieces[0]: piece '\\xff' is not valid UTF-8");
  }
  SECTION("empty piece") {
    WireWriter proto = SmallSentencePieceModel();
    proto.Message(1, SentencePieceMessage("", PieceType::kNormal));
    const size_t offset = SmallSentencePieceModel().bytes().size();
    CHECK(ErrorOf(proto.bytes()) == "tok.model: offset " + std::to_string(offset) + " (0x" +
                                        (std::stringstream() << std::hex << offset).str() +
                                        "): pieces[5]: piece is empty");
  }
  SECTION("duplicate piece") {
    WireWriter proto = SmallSentencePieceModel();
    proto.Message(1, SentencePieceMessage("a", PieceType::kUnused));
    CHECK_THAT(ErrorOf(proto.bytes()),
               Catch::EndsWith("pieces[5]: piece 'a' is already defined at index 3"));
  }
  SECTION("the same text as a normal and a control piece is allowed") {
    WireWriter proto = SmallSentencePieceModel();
    proto.Message(1, SentencePieceMessage("a", PieceType::kControl));
    CHECK(ParseSentencePieceModel(proto.bytes(), kPath).ok());
  }
  SECTION("two UNKNOWN pieces") {
    WireWriter proto = SmallSentencePieceModel();
    proto.Message(1, SentencePieceMessage("<unk2>", PieceType::kUnknown));
    CHECK_THAT(ErrorOf(proto.bytes()),
               Catch::EndsWith("pieces[5]: a second UNKNOWN piece, the first is at index 0"));
  }
  SECTION("no UNKNOWN piece") {
    WireWriter proto;
    proto.Message(1, SentencePieceMessage("a", PieceType::kNormal));
    CHECK(ErrorOf(proto.bytes()) ==
          "tok.model: offset 12 (0xc): ModelProto: ends without an UNKNOWN piece among its 1 "
          "pieces");
  }
  SECTION("BYTE piece without byte_fallback") {
    WireWriter proto = SmallSentencePieceModel();
    proto.Message(1, SentencePieceMessage("<0x41>", PieceType::kByte));
    CHECK_THAT(ErrorOf(proto.bytes()), Catch::EndsWith("pieces[5]: BYTE piece '<0x41>' although "
                                                       "trainer_spec.byte_fallback is false"));
  }
  SECTION("malformed BYTE piece and missing bytes") {
    WireWriter trainer;
    trainer.Varint(35, 1);
    WireWriter proto = SmallSentencePieceModel();
    proto.Message(2, trainer);
    WireWriter lower = proto;
    lower.Message(1, SentencePieceMessage("<0x4a>", PieceType::kByte));
    CHECK_THAT(ErrorOf(lower.bytes()),
               Catch::EndsWith("pieces[5]: BYTE piece '<0x4a>' is not of the form <0xXX>"));
    proto.Message(1, SentencePieceMessage("<0x00>", PieceType::kByte));
    CHECK_THAT(ErrorOf(proto.bytes()),
               Catch::Matches("tok\\.model: offset [0-9]+ \\(0x[0-9a-f]+\\): trainer_spec: "
                              "byte_fallback is true but BYTE piece <0x01> is missing"));
  }
}

TEST_CASE("truncated and corrupted models are rejected without crashing", "[sentencepiece]") {
  // leveldb's corruption_test idea: damage the bytes everywhere and require a clean answer.
  SentencePieceModel model;
  model.pieces = {{"<unk>", 0, PieceType::kUnknown},
                  {"<s>", 0, PieceType::kControl},
                  {"hello", -1, PieceType::kNormal},
                  {"\xE2\x96\x81w", -2, PieceType::kNormal}};
  const std::vector<uint8_t> bytes = SerializeSentencePieceModel(model);
  REQUIRE(ParseSentencePieceModel(bytes, kPath).ok());
  size_t n_rejected = 0;
  for (size_t size = 0; size < bytes.size(); ++size) {
    const std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(size));
    Result<SentencePieceModel> parsed = ParseSentencePieceModel(prefix, kPath);
    if (!parsed.ok()) {
      ++n_rejected;
      CHECK_THAT(parsed.status().message(), Catch::StartsWith("tok.model"));
    }
  }
  CHECK(n_rejected >= bytes.size() - 8);  // only cuts at message boundaries can still parse
  for (size_t offset = 0; offset < bytes.size(); ++offset) {
    for (uint8_t flip : {0x01, 0x80, 0xFF}) {
      std::vector<uint8_t> damaged = bytes;
      damaged[offset] ^= flip;
      (void)ParseSentencePieceModel(damaged, kPath);  // must not crash or read out of bounds
    }
  }
}

}  // namespace
}  // namespace qtk
