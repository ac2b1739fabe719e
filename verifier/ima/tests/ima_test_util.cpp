#include "ima_test_util.h"

#include <gtest/gtest.h>

#include "attest/encoding.h"
#include "attest/file.h"
#include "attest/testdata.h"
#include "attest/tpm/algorithms.h"

namespace attest::verifier::test {

std::string ImaTestdataDir() { return testdata::SharedPath("ima"); }

std::string ImaFixtureDir() { return testdata::FixturePath("ima"); }

Bytes ReadTestFile(const std::string& path) {
  Result<std::string> text = ReadFile(path, 64 << 20);
  if (!text.ok()) {
    ADD_FAILURE() << text.error().ToString();
    return {};
  }
  return ToBytes(*text);
}

void Append(Bytes& out, ByteView more) { out.insert(out.end(), more.begin(), more.end()); }

void AppendU32(Bytes& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

Bytes TemplateData(const RecordSpec& spec) {
  Bytes out;
  if (spec.template_name == "ima") {
    Append(out, spec.file_digest);
    Append(out, AsBytes(spec.path));
    out.resize(spec.file_digest.size() + 256, 0);
    return out;
  }
  Bytes digest_field = ToBytes(spec.algorithm + ":");
  digest_field.push_back(0);
  Append(digest_field, spec.file_digest);
  AppendU32(out, static_cast<std::uint32_t>(digest_field.size()));
  Append(out, digest_field);
  AppendU32(out, static_cast<std::uint32_t>(spec.path.size() + 1));
  Append(out, AsBytes(spec.path));
  out.push_back(0);
  if (spec.template_name == "ima-sig") {
    AppendU32(out, static_cast<std::uint32_t>(spec.signature.size()));
    Append(out, spec.signature);
  }
  return out;
}

Bytes TemplateDigest(const RecordSpec& spec) {
  if (spec.violation) return Bytes(spec.digest_size, 0);
  Result<tpm::HashAlgorithm> algorithm =
      tpm::HashAlgorithmByName(spec.digest_size == 20 ? "sha1" : "sha256");
  Result<Bytes> digest = tpm::HashWith(*algorithm, TemplateData(spec));
  EXPECT_TRUE(digest.ok());
  return digest.ok() ? *digest : Bytes{};
}

Bytes BinaryRecord(const RecordSpec& spec) {
  Bytes out;
  AppendU32(out, spec.pcr);
  Append(out, TemplateDigest(spec));
  AppendU32(out, static_cast<std::uint32_t>(spec.template_name.size()));
  Append(out, AsBytes(spec.template_name));
  if (spec.template_name == "ima") {
    Append(out, spec.file_digest);
    AppendU32(out, static_cast<std::uint32_t>(spec.path.size()));
    Append(out, AsBytes(spec.path));
    return out;
  }
  Bytes data = TemplateData(spec);
  AppendU32(out, static_cast<std::uint32_t>(data.size()));
  Append(out, data);
  return out;
}

std::string AsciiLine(const RecordSpec& spec) {
  std::string pcr = std::to_string(spec.pcr);
  if (pcr.size() == 1) pcr = " " + pcr;
  std::string line = pcr + " " + HexEncode(TemplateDigest(spec)) + " " + spec.template_name + " ";
  if (spec.template_name != "ima") line += spec.algorithm + ":";
  line += HexEncode(spec.file_digest) + " " + spec.path;
  if (spec.template_name == "ima-sig") {
    line += ' ';  // appended: " " + HexEncode(...) is a false -Wrestrict in GCC 12 at -O3
    line += HexEncode(spec.signature);
  }
  return line + "\n";
}

}  // namespace attest::verifier::test
