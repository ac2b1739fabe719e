// The evidence and policy documents: strict parsers with errors that name
// the member, and round trips.
#include "attest/verifier/evidence.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "attest/encoding.h"
#include "attest/verifier/policy.h"

#include "evidence_factory.h"

namespace attest::verifier {
namespace {

class EvidenceDocumentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    evidence_ = factory_.Make(tpm::ParsePcrSelection("sha256:0-7,15").value(),
                              test::ReadFixture("eventlogs/ovmf-sb-on.bin"),
                              test::ExampleRuntimeLog(3), Bytes(32, 7), test::SafeClock());
    json_ = EvidenceToJson(evidence_).value();
  }

  std::string ErrorFor(const Json& json) {
    Result<Evidence> parsed = ParseEvidence(json.dump(), "e.json");
    EXPECT_FALSE(parsed.ok());
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.error().code, ErrorCode::kCorrupt) << parsed.error().message;
    }
    return parsed.ok() ? "" : parsed.error().message;
  }

  test::EvidenceFactory factory_;
  Evidence evidence_;
  Json json_;
};

TEST_F(EvidenceDocumentTest, RoundTrips) {
  Evidence parsed = ParseEvidence(json_.dump(), "e.json").value();
  EXPECT_EQ(parsed.nonce, evidence_.nonce);
  EXPECT_EQ(parsed.attest, evidence_.attest);
  EXPECT_EQ(parsed.signature, evidence_.signature);
  EXPECT_EQ(parsed.pcrs, evidence_.pcrs);
  EXPECT_EQ(parsed.boot_log, evidence_.boot_log);
  EXPECT_EQ(parsed.runtime_log, evidence_.runtime_log);
  EXPECT_FALSE(parsed.csr);
}

TEST_F(EvidenceDocumentTest, CsrAndKeyCertificationRoundTrip) {
  evidence_.csr = "-----BEGIN CERTIFICATE REQUEST-----\n...\n-----END CERTIFICATE REQUEST-----\n";
  evidence_.key_certification = KeyCertification{Bytes{1, 2, 3}, Bytes{4, 5}, Bytes{6}};
  Json json = EvidenceToJson(evidence_).value();
  EXPECT_EQ(json["key_certification"],
            (Json{{"public", "AQID"}, {"attest", "BAU="}, {"signature", "Bg=="}}));
  Evidence parsed = ParseEvidence(json.dump(), "e.json").value();
  EXPECT_EQ(parsed.csr, evidence_.csr);
  ASSERT_TRUE(parsed.key_certification.has_value());
  EXPECT_EQ(parsed.key_certification->key_public, (Bytes{1, 2, 3}));
  EXPECT_EQ(parsed.key_certification->attest, (Bytes{4, 5}));
  EXPECT_EQ(parsed.key_certification->signature, Bytes{6});

  // `public` is required: the certification names the key only by its hash.
  Json no_public = json;
  no_public["key_certification"].erase("public");
  EXPECT_EQ(ErrorFor(no_public), "e.json: key_certification.public: missing");
  Json extra = json;
  extra["key_certification"]["name"] = "AA==";
  EXPECT_EQ(ErrorFor(extra).rfind("e.json: key_certification: unknown field \"name\"", 0), 0u)
      << ErrorFor(extra);
  Json bad_base64 = json;
  bad_base64["key_certification"]["public"] = "AQI";
  EXPECT_EQ(ErrorFor(bad_base64).rfind("e.json: key_certification.public: ", 0), 0u)
      << ErrorFor(bad_base64);
}

TEST_F(EvidenceDocumentTest, UnknownMemberIsRejected) {
  json_["extra"] = 1;
  EXPECT_EQ(ErrorFor(json_), "e.json: document: unknown field \"extra\"");
}

// From the network: a document the fast reader takes is read as
// ParseEvidence reads it; one it refuses is re-read (naming the member)
// only up to the limit, so a stranger's padded document is not turned into
// a JSON tree many times its size.
TEST_F(EvidenceDocumentTest, UntrustedDocumentsAreReReadOnlyUpToTheLimit) {
  Result<Evidence> accepted = ParseUntrustedEvidence(json_.dump(), "evidence", 1024);
  ASSERT_TRUE(accepted.ok()) << accepted.error().ToString();
  EXPECT_EQ(accepted->attest, evidence_.attest);
  EXPECT_EQ(accepted->runtime_log, evidence_.runtime_log);

  json_["extra"] = 1;
  const std::string small = json_.dump();
  Result<Evidence> named = ParseUntrustedEvidence(small, "evidence", small.size());
  ASSERT_FALSE(named.ok());
  EXPECT_EQ(named.error().message, "evidence: document: unknown field \"extra\"");

  Result<Evidence> unnamed = ParseUntrustedEvidence(small, "evidence", small.size() - 1);
  ASSERT_FALSE(unnamed.ok());
  EXPECT_EQ(unnamed.error().code, ErrorCode::kCorrupt);
  EXPECT_EQ(unnamed.error().message.find("extra"), std::string::npos) << unnamed.error().message;
  EXPECT_NE(unnamed.error().message.find("not an evidence document"), std::string::npos);
}

TEST_F(EvidenceDocumentTest, MissingQuoteIsRejected) {
  json_.erase("attest");
  EXPECT_EQ(ErrorFor(json_), "e.json: attest: missing");
}

TEST_F(EvidenceDocumentTest, PcrValueOfTheWrongSizeNamesThePcr) {
  json_["pcrs"]["sha256"]["4"] = std::string(40, 'a');
  EXPECT_EQ(ErrorFor(json_),
            "e.json: pcrs: pcrs.sha256.4: must be 64 lowercase hex digits (a sha256 value)");
}

TEST_F(EvidenceDocumentTest, BadPcrIndexAndBankAreRejected) {
  Json bad_index = json_;
  bad_index["pcrs"]["sha256"]["24"] = std::string(64, '0');
  EXPECT_NE(ErrorFor(bad_index).find("\"24\" is not a PCR index"), std::string::npos);
  Json leading_zero = json_;
  leading_zero["pcrs"]["sha256"]["04"] = std::string(64, '0');
  EXPECT_NE(ErrorFor(leading_zero).find("\"04\" is not a PCR index"), std::string::npos);
  Json bad_bank = json_;
  bad_bank["pcrs"]["md5"] = Json::object();
  EXPECT_NE(ErrorFor(bad_bank).find("unknown hash algorithm \"md5\""), std::string::npos);
}

TEST_F(EvidenceDocumentTest, BadEncodingsAreRejected) {
  Json bad_base64 = json_;
  bad_base64["boot_log"] = "not base64!";
  EXPECT_EQ(ErrorFor(bad_base64).rfind("e.json: boot_log: ", 0), 0u);
  Json upper_hex = json_;
  upper_hex["nonce"] = std::string(64, 'A');
  EXPECT_EQ(ErrorFor(upper_hex).rfind("e.json: nonce: ", 0), 0u);
  Json long_nonce = json_;
  long_nonce["nonce"] = std::string(130, 'a');
  EXPECT_EQ(ErrorFor(long_nonce).rfind("e.json: nonce: ", 0), 0u);
}

TEST_F(EvidenceDocumentTest, MalformedRuntimeLogNamesTheEntry) {
  json_["runtime_log"]["entries"][1]["extend_digest"] = std::string(64, '0');
  EXPECT_NE(ErrorFor(json_).find("runtime_log: entries[1].extend_digest: does not match"),
            std::string::npos)
      << ErrorFor(json_);
}

TEST_F(EvidenceDocumentTest, NotJsonAndTooBigAreRejected) {
  for (std::string_view text : {"{\"nonce\": ", "[]"}) {
    Result<Evidence> malformed = ParseEvidence(text, "e.json");
    ASSERT_FALSE(malformed.ok()) << text;
    EXPECT_EQ(malformed.error().code, ErrorCode::kCorrupt) << text;
  }
  std::string huge(kMaxEvidenceBytes + 1, ' ');
  Result<Evidence> parsed = ParseEvidence(huge, "e.json");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(parsed.error().message.find("limit"), std::string::npos);
}

// A runtime log sent from the verifier's cursor: its seq numbers go on
// from runtime_log_start, in both parsers, and it needs a runtime_log.
TEST_F(EvidenceDocumentTest, RuntimeLogStartRoundTripsInBothParsers) {
  evidence_.runtime_log_start = 7;
  Json json = EvidenceToJson(evidence_).value();
  EXPECT_EQ(json["runtime_log_start"], 7);
  EXPECT_EQ(json["runtime_log"]["entries"][0]["seq"], 8);
  const std::string text = json.dump();
  std::optional<Evidence> fast = internal::ParseEvidenceFastPath(text);
  ASSERT_TRUE(fast.has_value());
  Evidence strict = internal::ParseEvidenceStrictPath(text, "e.json").value();
  EXPECT_EQ(fast->runtime_log_start, 7u);
  EXPECT_EQ(strict.runtime_log_start, 7u);
  EXPECT_EQ(fast->runtime_log, evidence_.runtime_log);
  EXPECT_EQ(strict.runtime_log, evidence_.runtime_log);
  // A whole log writes no runtime_log_start.
  EXPECT_FALSE(json_.contains("runtime_log_start"));
  EXPECT_EQ(ParseEvidence(json_.dump(), "e.json")->runtime_log_start, 0u);
}

TEST_F(EvidenceDocumentTest, RuntimeLogStartErrorsNameTheMember) {
  Json seq_from_one = json_;
  seq_from_one["runtime_log_start"] = 4;  // the entries still count from 1
  EXPECT_FALSE(internal::ParseEvidenceFastPath(seq_from_one.dump()).has_value());
  EXPECT_NE(ErrorFor(seq_from_one).find("runtime_log: entries[0].seq: expected 5, found 1"),
            std::string::npos)
      << ErrorFor(seq_from_one);
  Json alone = json_;
  alone.erase("runtime_log");
  alone["runtime_log_start"] = 4;
  EXPECT_FALSE(internal::ParseEvidenceFastPath(alone.dump()).has_value());
  EXPECT_NE(ErrorFor(alone).find("runtime_log_start: is only allowed with a runtime_log"),
            std::string::npos)
      << ErrorFor(alone);
  Json negative = json_;
  negative["runtime_log_start"] = -1;
  EXPECT_FALSE(internal::ParseEvidenceFastPath(negative.dump()).has_value());
  EXPECT_NE(ErrorFor(negative).find("runtime_log_start"), std::string::npos);
}

// The fast path (simdjson) reads every member as the strict path does, and
// leaves everything the strict path refuses to it, so that the error names
// the member.
TEST_F(EvidenceDocumentTest, FastPathReadsWhatTheStrictPathReads) {
  json_["csr"] = "-----BEGIN CERTIFICATE REQUEST-----\n";
  json_["key_certification"] = {{"public", "BQY="}, {"attest", "AAEC"}, {"signature", "AwQ="}};
  json_["pcrs"]["sha1"] = Json::object();  // an empty bank is still a bank
  const std::string text = json_.dump();
  std::optional<Evidence> fast = internal::ParseEvidenceFastPath(text);
  ASSERT_TRUE(fast.has_value());
  Evidence strict = internal::ParseEvidenceStrictPath(text, "e.json").value();
  EXPECT_EQ(fast->nonce, strict.nonce);
  EXPECT_EQ(fast->attest, strict.attest);
  EXPECT_EQ(fast->signature, strict.signature);
  EXPECT_EQ(fast->pcrs, strict.pcrs);
  EXPECT_EQ(fast->pcrs.at(TPM2_ALG_SHA1).size(), 0u);
  EXPECT_EQ(fast->boot_log, strict.boot_log);
  EXPECT_EQ(fast->boot_log, evidence_.boot_log);
  EXPECT_EQ(fast->runtime_log, strict.runtime_log);
  EXPECT_EQ(fast->csr, strict.csr);
  ASSERT_TRUE(fast->key_certification && strict.key_certification);
  EXPECT_EQ(fast->key_certification->attest, Bytes({0, 1, 2}));
  EXPECT_EQ(fast->key_certification->signature, strict.key_certification->signature);
  EXPECT_EQ(fast->key_certification->key_public, Bytes({5, 6}));
  EXPECT_EQ(fast->key_certification->key_public, strict.key_certification->key_public);
}

TEST_F(EvidenceDocumentTest, FastPathLeavesEveryRefusalToTheStrictPath) {
  std::vector<Json> refused;
  auto with = [&](const std::function<void(Json&)>& change) {
    Json changed = json_;
    change(changed);
    refused.push_back(changed);
  };
  with([](Json& j) { j["extra"] = 1; });
  with([](Json& j) { j.erase("pcrs"); });
  with([](Json& j) { j["nonce"] = std::string(64, 'A'); });
  with([](Json& j) { j["nonce"] = "abc"; });
  with([](Json& j) { j["attest"] = "AAE"; });
  with([](Json& j) { j["boot_log"] = 7; });
  with([](Json& j) { j["signature"] = "AB=="; });  // a bit under the padding set
  with([](Json& j) { j["pcrs"]["sha256"]["4"] = std::string(62, 'a'); });
  with([](Json& j) { j["pcrs"]["sha256"]["04"] = std::string(64, 'a'); });
  with([](Json& j) { j["pcrs"]["md5"] = Json::object(); });
  with([](Json& j) { j["csr"] = 1; });
  with([](Json& j) { j["key_certification"] = {{"attest", "AAEC"}, {"signature", "AwQ="}}; });
  with([](Json& j) {
    j["key_certification"] = {
        {"public", "BQY="}, {"attest", "AAEC"}, {"signature", "AwQ="}, {"x", 1}};
  });
  with([](Json& j) {
    j["key_certification"] = {{"public", "BQY"}, {"attest", "AAEC"}, {"signature", "AwQ="}};
  });
  with([](Json& j) { j["runtime_log"]["entries"][0]["seq"] = 1.5; });
  with([](Json& j) { j["runtime_log"]["entries"][0]["size"] = (std::uint64_t{1} << 53) + 1; });
  with([](Json& j) { j["runtime_log"]["version"] = 2; });
  for (const Json& json : refused) {
    const std::string text = json.dump();
    EXPECT_FALSE(internal::ParseEvidenceFastPath(text).has_value()) << text.substr(0, 200);
    EXPECT_FALSE(ParseEvidence(text, "e.json").ok()) << text.substr(0, 200);
  }
}

// nlohmann cannot make a repeated key: the text is edited. simdjson keeps
// both; the fast path must refuse, and the strict path names the key.
TEST_F(EvidenceDocumentTest, RepeatedMembersAreRejected) {
  const std::string text = json_.dump();
  const std::string nonce = "\"nonce\":\"" + HexEncode(evidence_.nonce) + "\"";
  const std::string pcr0 = "\"0\":\"" + HexEncode(evidence_.pcrs.at(TPM2_ALG_SHA256).at(0)) + "\"";
  ASSERT_NE(text.find(nonce), std::string::npos);
  ASSERT_NE(text.find(pcr0), std::string::npos);
  for (const std::string& repeated : {nonce, pcr0}) {
    std::string twice = text;
    twice.insert(twice.find(repeated), repeated + ",");
    EXPECT_FALSE(internal::ParseEvidenceFastPath(twice).has_value()) << repeated;
    Result<Evidence> parsed = ParseEvidence(twice, "e.json");
    ASSERT_FALSE(parsed.ok()) << repeated;
    EXPECT_NE(parsed.error().message.find("duplicate object key"), std::string::npos)
        << parsed.error().message;
  }
}

const char kPolicy[] = R"({
  "version": 1,
  "name": "prod",
  "pcr_selection": "sha256:0-7,15",
  "boot": {
    "pcrs": {"sha256": {"0": ["%s", "%s"]}},
    "secure_boot_required": true,
    "allowed_boot_applications": ["%s"]
  },
  "runtime": {"pcr": 15, "required_paths": ["/usr/bin/runc"], "allowed_digests": ["%s"]},
  "certificates": {"lifetime_seconds": 1800, "trust_domain": "example.org"},
  "attestation": {"interval_seconds": 30, "nonce_lifetime_seconds": 10}
})";

std::string PolicyText() {
  std::string a(64, 'a'), b(64, 'b');
  std::string text = kPolicy;
  for (const std::string& value : {a, b, a, b}) text.replace(text.find("%s"), 2, value);
  return text;
}

TEST(PolicyTest, ParsesEveryMemberAndRoundTrips) {
  Policy policy = ParsePolicy(PolicyText(), "p.json").value();
  EXPECT_EQ(policy.name, "prod");
  EXPECT_EQ(policy.selection.ToString(), "sha256:0,1,2,3,4,5,6,7,15");
  EXPECT_EQ(policy.boot.allowed_pcr_values.at(TPM2_ALG_SHA256).at(0).size(), 2u);
  EXPECT_TRUE(policy.boot.secure_boot_required);
  EXPECT_EQ(policy.boot.allowed_boot_applications->size(), 1u);
  EXPECT_EQ(policy.runtime.required_paths, std::vector<std::string>{"/usr/bin/runc"});
  EXPECT_EQ(policy.runtime.allowed_digests.size(), 1u);
  EXPECT_EQ(policy.certificate_lifetime_seconds, 1800u);
  EXPECT_EQ(policy.nonce_lifetime_seconds, 10u);
  Policy again = ParsePolicy(PolicyToJson(policy).dump(), "p.json").value();
  EXPECT_EQ(PolicyToJson(again), PolicyToJson(policy));
}

TEST(PolicyTest, ErrorsNameTheMember) {
  auto error_for = [](const std::string& from, const std::string& to) {
    std::string text = PolicyText();
    text.replace(text.find(from), from.size(), to);
    Result<Policy> parsed = ParsePolicy(text, "p.json");
    return parsed.ok() ? std::string("accepted") : parsed.error().message;
  };
  EXPECT_EQ(error_for("\"0\": [", "\"9\": ["),
            "p.json: boot.pcrs.sha256.9: PCR is not in pcr_selection sha256:0,1,2,3,4,5,6,7,15");
  EXPECT_EQ(error_for("\"pcr\": 15", "\"pcr\": 14"),
            "p.json: runtime.pcr: PCR 14 must be in pcr_selection's sha256 bank");
  EXPECT_EQ(error_for("\"/usr/bin/runc\"", "\"runc\""),
            "p.json: runtime.required_paths[0]: must be an absolute path");
  EXPECT_EQ(error_for("\"secure_boot_required\": true", "\"secure_boot_required\": 1"),
            "p.json: boot.secure_boot_required: must be true or false");
  EXPECT_EQ(error_for("\"name\"", "\"nmae\""), "p.json: document: unknown field \"nmae\"");
  EXPECT_EQ(error_for("sha256:0-7,15", "sha256:0-7,15,99").rfind("p.json: pcr_selection: ", 0), 0u);
  EXPECT_EQ(error_for("\"version\": 1", "\"version\": 2"),
            "p.json: policy version 2 is not supported (this verifier reads 1)");
  EXPECT_EQ(error_for("\"lifetime_seconds\": 1800", "\"lifetime_seconds\": 0"),
            "p.json: document: lifetimes and intervals must be positive");
}

// Hole 4: a rule over events needs its PCR and bank in what the node
// quotes, or it would be read from events nothing signed.
TEST(PolicyTest, SecureBootRuleWithoutPcr7IsInvalid) {
  std::string text = PolicyText();
  text.replace(text.find("sha256:0-7,15"), 13, "sha256:0-6,15");
  Result<Policy> parsed = ParsePolicy(text, "p.json");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, ErrorCode::kCorrupt);
  EXPECT_EQ(parsed.error().message,
            "p.json: boot.secure_boot_required: needs PCR 7, where the Secure Boot state is "
            "measured, in pcr_selection (sha256:0,1,2,3,4,5,6,15)");
  // In another bank it is enough: facts are read from whichever bank verified.
  text.replace(text.find("sha256:0-6,15"), 13, "sha256:0-6,15+sha1:7");
  EXPECT_TRUE(ParsePolicy(text, "p.json").ok());
}

TEST(PolicyTest, BootApplicationsRuleWithoutSha256Pcr2Or4IsInvalid) {
  for (const char* selection : {"sha256:0-3,5-7,15+sha1:4", "sha256:0,1,3-7,15"}) {
    std::string text = PolicyText();
    text.replace(text.find("sha256:0-7,15"), 13, selection);
    Result<Policy> parsed = ParsePolicy(text, "p.json");
    ASSERT_FALSE(parsed.ok()) << selection;
    EXPECT_NE(parsed.error().message.find("p.json: boot.allowed_boot_applications: needs PCRs 2 "
                                          "and 4 in pcr_selection's sha256 bank"),
              std::string::npos)
        << parsed.error().message;
  }
}

TEST(PolicyTest, RuntimePcrThatCanNeverVerifyOrCanBeResetIsRefused) {
  auto with_runtime_pcr = [](std::uint32_t pcr, const std::string& extra) {
    std::string text = PolicyText();
    std::string selection = pcr <= 7 ? "sha256:0-7,15" : "sha256:0-7," + std::to_string(pcr);
    text.replace(text.find("sha256:0-7,15"), 13, selection);
    const std::string runtime_pcr = "\"pcr\": 15";
    text.replace(text.find(runtime_pcr), runtime_pcr.size(),
                 "\"pcr\": " + std::to_string(pcr) + extra);
    return ParsePolicy(text, "p.json");
  };
  for (std::uint32_t pcr = 17; pcr <= 22; ++pcr) {
    Result<Policy> parsed = with_runtime_pcr(pcr, "");
    ASSERT_FALSE(parsed.ok()) << pcr;
    EXPECT_NE(parsed.error().message.find("runtime.pcr: PCR " + std::to_string(pcr) +
                                          " is a DRTM PCR (17-22)"),
              std::string::npos)
        << parsed.error().message;
  }
  for (std::uint32_t pcr : {16u, 23u}) {
    Result<Policy> parsed = with_runtime_pcr(pcr, "");
    ASSERT_FALSE(parsed.ok()) << pcr;
    EXPECT_NE(parsed.error().message.find("can be reset from software"), std::string::npos);
    EXPECT_TRUE(with_runtime_pcr(pcr, ", \"allow_resettable_pcr\": true").ok()) << pcr;
  }
  for (std::uint32_t pcr = 0; pcr <= 7; ++pcr) {
    Result<Policy> parsed = with_runtime_pcr(pcr, "");
    ASSERT_FALSE(parsed.ok()) << pcr;
    EXPECT_NE(parsed.error().message.find("holds the firmware's measurements"), std::string::npos)
        << parsed.error().message;
  }
  EXPECT_TRUE(with_runtime_pcr(14, "").ok());
}

TEST(PolicyTest, FirmwareValuesParseAndRoundTrip) {
  std::string text = PolicyText();
  std::string pinned = "\"firmware_values\": [\"" + std::string(64, 'c') + "\"], ";
  text.replace(text.find("\"required_paths\""), 0, pinned);
  Policy policy = ParsePolicy(text, "p.json").value();
  ASSERT_EQ(policy.runtime.firmware_values.size(), 1u);
  EXPECT_EQ(policy.runtime.firmware_values.begin()->front(), 0xcc);
  Policy again = ParsePolicy(PolicyToJson(policy).dump(), "p.json").value();
  EXPECT_EQ(again.runtime.firmware_values, policy.runtime.firmware_values);
  text.replace(text.find(std::string(64, 'c')), 64, "cc");
  EXPECT_EQ(ParsePolicy(text, "p.json").error().message,
            "p.json: runtime.firmware_values[0]: must be 64 lowercase hex digits (a sha256 "
            "digest)");
}

}  // namespace
}  // namespace attest::verifier
