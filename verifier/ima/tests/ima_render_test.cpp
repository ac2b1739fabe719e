// The JSON and text views: the shape the CLI and API promise.
#include <array>
#include <string>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "attest/encoding.h"
#include "attest/testdata.h"
#include "attest/verifier/ima_log.h"

#include "ima_test_util.h"

namespace attest::verifier {
namespace {

using test::kSha1;
using test::kSha256;

// Two ima-sig records: boot_aggregate, then a violation for /init.
struct Rendered {
  ImaLog log;
  tpm::PcrValues pcrs;
};

Rendered ParseSigList() {
  std::string dir = test::ImaTestdataDir();
  Result<ImaLog> log =
      ParseImaLog(test::ReadTestFile(dir + "/tpm2tss_sml-ima-sig-sha256-invalidated.bin"));
  EXPECT_TRUE(log.ok());
  if (!log.ok()) return {};
  std::array<std::uint16_t, 2> banks = {kSha1, kSha256};
  Result<tpm::PcrValues> pcrs = ReplayImaLog(*log, banks);
  EXPECT_TRUE(pcrs.ok());
  return {*log, pcrs.ok() ? *pcrs : tpm::PcrValues{}};
}

TEST(ImaRender, JsonShape) {
  ATTEST_NEED_SHARED_TESTDATA();
  Rendered sig = ParseSigList();
  ASSERT_EQ(sig.log.entries.size(), 2u);
  nlohmann::json json = ImaLogToJson(sig.log, sig.pcrs);
  ASSERT_EQ(json.size(), 2u);
  ASSERT_TRUE(json.at("entries").is_array());
  ASSERT_EQ(json["entries"].size(), 2u);

  const nlohmann::json& boot = json["entries"][0];
  EXPECT_EQ(boot.at("position"), 0);
  EXPECT_EQ(boot.at("pcr"), 10);
  EXPECT_EQ(boot.at("template_digest"), "bcb0e518b79de0d7f2cd20b8a29a7092e65db7ef");
  EXPECT_EQ(boot.at("template"), "ima-sig");
  EXPECT_EQ(boot.at("file_hash_algorithm"), "sha1");
  EXPECT_EQ(boot.at("file_digest"), std::string(40, '0'));
  EXPECT_EQ(boot.at("path"), "boot_aggregate");
  EXPECT_EQ(boot.at("signature"), "");
  EXPECT_EQ(boot.at("violation"), false);
  EXPECT_EQ(boot.size(), 9u);

  const nlohmann::json& init = json["entries"][1];
  EXPECT_EQ(init.at("position"), 92);
  EXPECT_EQ(init.at("template_digest"), std::string(40, '0'));
  EXPECT_EQ(init.at("file_hash_algorithm"), "sha256");
  EXPECT_EQ(init.at("path"), "/init");
  EXPECT_EQ(init.at("violation"), true);

  EXPECT_EQ(json.at("pcrs"), nlohmann::json::parse(R"({
    "sha1": {"10": "a0e7bc9af0a2b54147b0d595d058f15c6cc44a6d"},
    "sha256": {"10": "338c5ec5cba3d64a886cc6f369f10e5209bf8f49db078635723bb1ed8091b2ba"}})"));
}

TEST(ImaRender, ImaNgHasNoSignatureAndBadUtf8PathsGetHex) {
  test::RecordSpec spec;
  spec.path = "/tmp/\xff\xfe-name";
  Result<ImaLog> log = ParseImaLog(test::BinaryRecord(spec));
  ASSERT_TRUE(log.ok());
  nlohmann::json json = ImaLogToJson(*log, {});
  const nlohmann::json& entry = json["entries"][0];
  EXPECT_FALSE(entry.contains("signature"));
  EXPECT_EQ(entry.at("path"), "/tmp/\xEF\xBF\xBD\xEF\xBF\xBD-name");
  EXPECT_EQ(entry.at("path_hex"), HexEncode(AsBytes(spec.path)));
  EXPECT_NO_THROW((void)json.dump());
  EXPECT_EQ(json.at("pcrs"), nlohmann::json::object());
}

TEST(ImaRender, TextNamesRecordsViolationsAndPcrs) {
  ATTEST_NEED_SHARED_TESTDATA();
  Rendered sig = ParseSigList();
  std::string text = RenderImaLogText(sig.log, sig.pcrs);
  EXPECT_NE(text.find("IMA measurement list (binary, 20-byte template digests): 2 records\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("offset 92 pcr 10 ima-sig 0000"), std::string::npos) << text;
  EXPECT_NE(text.find(" /init VIOLATION\n"), std::string::npos) << text;
  EXPECT_NE(
      text.find(
          "PCR 10 sha256: 338c5ec5cba3d64a886cc6f369f10e5209bf8f49db078635723bb1ed8091b2ba\n"),
      std::string::npos)
      << text;
}

}  // namespace
}  // namespace attest::verifier
