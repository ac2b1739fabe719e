// The adversarial suite (issue 10): a verdict rests only on what the
// quote's signature covers. Each case starts from an honest node (a
// synthetic UEFI boot with real digests, signed by a software AK with an
// AK's attributes) and makes one attacker move a root user on that node
// can make: extend more into PCRs after boot (the quote then covers it),
// and rewrite anything the signature does not cover (event types, event
// data, digests of unquoted banks, the runtime log's informational
// fields). Each case asserts the exact reason codes; the honest controls
// are asserted trusted.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "attest/encoding.h"
#include "attest/runtime/entry.h"
#include "attest/tpm/algorithms.h"
#include "attest/verifier/event_log.h"
#include "attest/verifier/policy_learn.h"
#include "attest/verifier/verify.h"

#include "evidence_factory.h"
#include "soundness_forgeries.h"
#include "soundness_scenario.h"
#include "synthetic_boot.h"

namespace attest::verifier {
namespace {

using CodeList = std::vector<std::string>;
using test::Forgery;

constexpr std::uint32_t kRuntimePcr = test::kScenarioRuntimePcr;

using Node = test::MeasuredNode;
using test::GoodMachinePolicy;

CodeList ReasonCodes(const Verdict& verdict) {
  CodeList codes;
  for (const Reason& reason : verdict.reasons) codes.emplace_back(ReasonCodeName(reason.code));
  return codes;
}

class SoundnessTest : public ::testing::TestWithParam<Forgery> {
 protected:
  Verdict Run(const Forgery& forgery) {
    policy_ = test::ForgeryPolicy(forgery);
    evidence_ = test::ForgeEvidence(forgery, factory_, policy_, nonce_);
    key_ = factory_.LoadedKey();
    return VerifyEvidence(VerificationInput{evidence_, key_, policy_, nonce_, std::nullopt});
  }

  test::EvidenceFactory factory_;
  Bytes nonce_ = Bytes(32, 0x42);
  Evidence evidence_;
  AttestationKey key_;
  Policy policy_;
};

TEST_P(SoundnessTest, VerdictRestsOnlyOnWhatTheQuoteCovers) {
  const Forgery& forgery = GetParam();
  Verdict verdict = Run(forgery);
  EXPECT_EQ(ReasonCodes(verdict), forgery.codes) << VerdictToJson(verdict).dump(2);
  EXPECT_EQ(verdict.trusted, forgery.codes.empty());
}

std::string ForgeryName(const ::testing::TestParamInfo<Forgery>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Forgeries, SoundnessTest, ::testing::ValuesIn(test::Forgeries()),
                         ForgeryName);

// A platform whose firmware does extend the runtime PCR: an explicit pin of
// the value it leaves there lets the runtime log replay on top of it.
TEST(RuntimeFirmwareValueTest, PinnedFirmwareValueIsTrusted) {
  test::EvidenceFactory factory;
  Node node;
  node.boot.MeasureData(kRuntimePcr, kEvEventTag, ToBytes("platform measurement"));
  Bytes nonce(32, 7);
  Policy policy = GoodMachinePolicy();
  Evidence evidence = test::QuoteNode(factory, node, policy.selection, nonce);
  AttestationKey key = factory.LoadedKey();
  Verdict refused = VerifyEvidence({evidence, key, policy, nonce, std::nullopt});
  EXPECT_EQ(ReasonCodes(refused), CodeList{"BOOT_LOG_RUNTIME_PCR"});
  ASSERT_TRUE(refused.runtime_pcr_firmware_value.has_value());
  policy.runtime.firmware_values = {*refused.runtime_pcr_firmware_value};
  Verdict trusted = VerifyEvidence({evidence, key, policy, nonce, std::nullopt});
  EXPECT_TRUE(trusted.trusted) << VerdictToJson(trusted).dump(2);
  // `policy learn` pins exactly that value, for an admin to review.
  Result<Policy> learned = LearnPolicy(evidence, key);
  ASSERT_TRUE(learned.ok()) << learned.error().ToString();
  EXPECT_EQ(learned->runtime.firmware_values, policy.runtime.firmware_values);
}

// Hole 5: only a TPM2B_PUBLIC with an AK's attributes, unless the operator
// accepts a bare key; PEM is recognised by its first line only.
TEST(AttestationKeyTest, BarePemKeyNeedsTheOperatorsConsent) {
  test::EvidenceFactory factory;
  std::string pem = factory.PublicPem();
  Result<AttestationKey> refused = ParseAttestationKey(AsBytes(pem));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("--allow-bare-ak"), std::string::npos);
  Result<AttestationKey> accepted =
      ParseAttestationKey(AsBytes(pem), {.allow_bare_public_key = true});
  ASSERT_TRUE(accepted.ok()) << accepted.error().ToString();
  EXPECT_FALSE(accepted->public_area.has_value());
  // A PEM header further down is not a PEM file: it is parsed as a
  // TPM2B_PUBLIC, and fails as one.
  std::string preceded = "comment\n" + pem;
  Result<AttestationKey> not_pem =
      ParseAttestationKey(AsBytes(preceded), {.allow_bare_public_key = true});
  EXPECT_FALSE(not_pem.ok());
  // Another PEM type is refused by name.
  std::string certificate = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  Result<AttestationKey> wrong_type =
      ParseAttestationKey(AsBytes(certificate), {.allow_bare_public_key = true});
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_NE(wrong_type.error().message.find("BEGIN PUBLIC KEY"), std::string::npos);
}

TEST(AttestationKeyTest, TpmPublicAreaWithoutAnAksAttributesIsRefused) {
  test::EvidenceFactory factory;
  Bytes marshaled = factory.MarshaledPublic();
  // objectAttributes follow size(2) type(2) nameAlg(2): big-endian u32;
  // clear `restricted` (bit 16).
  marshaled[2 + 2 + 2 + 1] &= static_cast<std::uint8_t>(~0x01);
  Result<AttestationKey> key = ParseAttestationKey(marshaled);
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.error().message.find("restricted"), std::string::npos) << key.error().message;
}

}  // namespace
}  // namespace attest::verifier
