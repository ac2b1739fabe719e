// VerifyEvidence, driven to each reason code with evidence signed in
// software over a real boot log (the repository's fixture ovmf-sb-on.bin:
// OVMF, shim, grub and the Debian kernel with Secure Boot on, four banks).
#include "attest/verifier/verify.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "attest/encoding.h"
#include "attest/testdata.h"
#include "attest/verifier/event_log.h"

#include "evidence_factory.h"

namespace attest::verifier {
namespace {

using test::EvidenceFactory;

// The repository's Secure Boot fixture: PCRs 0-9 and 14, four banks.
const char kBootLog[] = "eventlogs/ovmf-sb-on.bin";

std::vector<std::string> Codes(const Verdict& verdict) {
  std::vector<std::string> codes;
  for (const Reason& reason : verdict.reasons) codes.emplace_back(ReasonCodeName(reason.code));
  return codes;
}

const Reason* Find(const Verdict& verdict, ReasonCode code) {
  for (const Reason& reason : verdict.reasons) {
    if (reason.code == code) return &reason;
  }
  return nullptr;
}

class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    boot_log_ = test::ReadFixture(kBootLog);
    selection_ = tpm::ParsePcrSelection("sha256:0-9,14,15").value();
    nonce_ = Bytes(32, 0x5a);
    evidence_ =
        factory_.Make(selection_, boot_log_, test::ExampleRuntimeLog(5), nonce_, test::SafeClock());
    key_ = factory_.LoadedKey();
    policy_ = test::PolicyFor(evidence_, key_);
  }

  Verdict Run(std::optional<QuoteClock> previous = std::nullopt) {
    VerificationInput input{evidence_, key_, policy_, nonce_, previous};
    return VerifyEvidence(input);
  }

  // The byte offset of the sha256 digest (the quoted bank) of the first
  // event in `pcr`.
  std::size_t DigestOffset(std::uint32_t pcr) {
    EventLog log = ParseEventLog(boot_log_).value();
    for (const BootEvent& event : log.events) {
      if (event.pcr == pcr && event.type != kEvNoAction) {
        const EventDigest* sha256 = event.digests.Find(TPM2_ALG_SHA256);
        if (sha256 == nullptr) break;
        return static_cast<std::size_t>(sha256->digest.data() - boot_log_.data());
      }
    }
    ADD_FAILURE() << "no event for PCR " << pcr;
    return 0;
  }

  EvidenceFactory factory_;
  Bytes boot_log_;
  tpm::PcrSelection selection_;
  Bytes nonce_;
  Evidence evidence_;
  AttestationKey key_;
  Policy policy_;
};

TEST_F(VerifyTest, TrustedWhenQuoteLogsAndPolicyAgree) {
  Verdict verdict = Run();
  EXPECT_TRUE(verdict.trusted) << VerdictToJson(verdict).dump(2);
  EXPECT_TRUE(verdict.reasons.empty());
  EXPECT_TRUE(verdict.nonce_checked);
  ASSERT_TRUE(verdict.quote);
  EXPECT_EQ(verdict.quote->selection.ToString(), "sha256:0,1,2,3,4,5,6,7,8,9,14,15");
  ASSERT_TRUE(verdict.boot_facts);
}

// The verdict JSON carries the boot facts a policy decided on, as the
// verdict holds them, and none when there was no log to take them from.
TEST_F(VerifyTest, VerdictJsonShowsTheBootFactsDecidedOn) {
  Verdict verdict = Run();
  ASSERT_TRUE(verdict.boot_facts);
  const BootFacts& facts = *verdict.boot_facts;
  ASSERT_TRUE(facts.boot_applications);
  Json json = VerdictToJson(verdict);
  ASSERT_TRUE(json.contains("boot_facts")) << json.dump(2);
  const Json& shown = json["boot_facts"];
  if (facts.secure_boot) {
    EXPECT_EQ(shown["secure_boot"], *facts.secure_boot);
  } else {
    EXPECT_TRUE(shown["secure_boot"].is_null());
  }
  EXPECT_EQ(shown["secure_boot_detail"], facts.secure_boot_detail);
  EXPECT_EQ(shown["uefi_variable_value_only_digests"], facts.uefi_variable_value_only_quirk);
  EXPECT_EQ(shown["boot_applications"], facts.boot_applications->size());
  EXPECT_GT(facts.boot_applications->size(), 0u);

  evidence_.boot_log.reset();
  Verdict without_log = Run();
  EXPECT_FALSE(without_log.boot_facts);
  EXPECT_FALSE(VerdictToJson(without_log).contains("boot_facts"));
}

TEST_F(VerifyTest, WrongChallengeIsNonceMismatch) {
  VerificationInput input{evidence_, key_, policy_, Bytes(32, 0x11), std::nullopt};
  Verdict verdict = VerifyEvidence(input);
  EXPECT_FALSE(verdict.trusted);
  EXPECT_EQ(Codes(verdict), std::vector<std::string>{"NONCE_MISMATCH"});
  EXPECT_NE(verdict.reasons[0].detail.find("challenge"), std::string::npos);
}

TEST_F(VerifyTest, EvidenceNamingAnotherNonceThanTheQuoteIsNonceMismatch) {
  evidence_.nonce[0] ^= 1;
  VerificationInput input{evidence_, key_, policy_, std::nullopt, std::nullopt, true};
  Verdict verdict = VerifyEvidence(input);
  EXPECT_FALSE(verdict.nonce_checked);
  EXPECT_EQ(Codes(verdict), std::vector<std::string>{"NONCE_MISMATCH"});
}

TEST_F(VerifyTest, NoNonceStillTrustedIsRefused) {
  VerificationInput input{evidence_, key_, policy_, std::nullopt, std::nullopt};
  Verdict verdict = VerifyEvidence(input);
  EXPECT_FALSE(verdict.trusted);
  EXPECT_FALSE(verdict.nonce_checked);
  EXPECT_EQ(Codes(verdict), std::vector<std::string>{"NONCE_NOT_CHECKED"});
  // Waived by the caller: trusted, and the verdict still says so.
  input.allow_unchecked_freshness = true;
  Verdict waived = VerifyEvidence(input);
  EXPECT_TRUE(waived.trusted) << VerdictToJson(waived).dump(2);
  EXPECT_FALSE(waived.nonce_checked);
  EXPECT_EQ(VerdictToJson(waived)["nonce_checked"], false);
}

TEST_F(VerifyTest, FlippedAttestByteBreaksTheSignature) {
  evidence_.attest.back() ^= 0x01;  // last byte of pcrDigest
  Verdict verdict = Run();
  EXPECT_FALSE(verdict.trusted);
  EXPECT_EQ(Codes(verdict), (std::vector<std::string>{"SIGNATURE_INVALID", "PCR_DIGEST_MISMATCH"}));
}

TEST_F(VerifyTest, WrongMagicIsAttestMalformedEvenWhenSigned) {
  evidence_.attest[0] ^= 0x80;
  factory_.Resign(evidence_);
  Verdict verdict = Run();
  EXPECT_FALSE(verdict.trusted);
  ASSERT_FALSE(verdict.reasons.empty());
  EXPECT_EQ(verdict.reasons[0].code, ReasonCode::kAttestMalformed);
  EXPECT_NE(verdict.reasons[0].detail.find("TPM_GENERATED_VALUE"), std::string::npos);
  EXPECT_EQ(Find(verdict, ReasonCode::kSignatureInvalid), nullptr);
}

TEST_F(VerifyTest, TruncatedAttestIsAttestMalformed) {
  evidence_.attest.resize(evidence_.attest.size() - 3);
  factory_.Resign(evidence_);
  Verdict verdict = Run();
  EXPECT_EQ(Codes(verdict)[0], "ATTEST_MALFORMED");
}

TEST_F(VerifyTest, FlippedSignatureByteIsSignatureInvalid) {
  evidence_.signature[10] ^= 0x01;
  Verdict verdict = Run();
  EXPECT_EQ(Codes(verdict), std::vector<std::string>{"SIGNATURE_INVALID"});
}

TEST_F(VerifyTest, QuoteSignedByAnotherKeyIsSignatureInvalid) {
  EvidenceFactory other;
  other.Resign(evidence_);
  Verdict verdict = Run();
  EXPECT_EQ(Codes(verdict), std::vector<std::string>{"SIGNATURE_INVALID"});
  EXPECT_NE(verdict.reasons[0].detail.find("AK"), std::string::npos);
}

TEST_F(VerifyTest, GarbageSignatureIsSignatureInvalid) {
  evidence_.signature = {0x00, 0x18, 0x00};
  Verdict verdict = Run();
  EXPECT_EQ(Codes(verdict), std::vector<std::string>{"SIGNATURE_INVALID"});
}

TEST_F(VerifyTest, ChangedPostedPcrIsPcrDigestMismatchAndReplayMismatch) {
  evidence_.pcrs[TPM2_ALG_SHA256][4][0] ^= 0x01;
  Verdict verdict = Run();
  // The policy pins PCR 4, and its boot applications cannot be checked
  // once PCR 4 does not replay: two violations.
  EXPECT_EQ(Codes(verdict),
            (std::vector<std::string>{"PCR_DIGEST_MISMATCH", "BOOT_LOG_REPLAY_MISMATCH",
                                      "BOOT_POLICY_VIOLATION", "BOOT_POLICY_VIOLATION"}));
  EXPECT_EQ(Find(verdict, ReasonCode::kBootLogReplayMismatch)->pcr, 4u);
}

TEST_F(VerifyTest, MissingPostedPcrIsPcrDigestMismatch) {
  evidence_.pcrs[TPM2_ALG_SHA256].erase(9);
  Verdict verdict = Run();
  ASSERT_NE(Find(verdict, ReasonCode::kPcrDigestMismatch), nullptr);
  EXPECT_NE(Find(verdict, ReasonCode::kPcrDigestMismatch)->detail.find("PCR 9"), std::string::npos);
}

TEST_F(VerifyTest, QuoteOfOtherPcrsThanThePolicyAsksIsPcrDigestMismatch) {
  policy_.selection = tpm::ParsePcrSelection("sha256:0-9,14,15,16").value();
  Verdict verdict = Run();
  ASSERT_FALSE(verdict.reasons.empty());
  EXPECT_EQ(verdict.reasons[0].code, ReasonCode::kPcrDigestMismatch);
  EXPECT_NE(verdict.reasons[0].detail.find("policy asks for"), std::string::npos);
}

TEST_F(VerifyTest, AlteredBootEventIsReplayMismatchNamingThePcr) {
  boot_log_[DigestOffset(4)] ^= 0x01;
  evidence_.boot_log = boot_log_;
  Verdict verdict = Run();
  // PCR 4 unverified: its boot applications are not established either.
  EXPECT_EQ(Codes(verdict),
            (std::vector<std::string>{"BOOT_LOG_REPLAY_MISMATCH", "BOOT_POLICY_VIOLATION"}));
  EXPECT_EQ(verdict.reasons[0].pcr, 4u);
  EXPECT_EQ(verdict.reasons[1].pcr, 4u);
  EXPECT_NE(verdict.reasons[1].detail.find("boot applications not established"), std::string::npos);
  EXPECT_NE(verdict.reasons[0].detail.find("PCR 4 (sha256) replays to"), std::string::npos)
      << verdict.reasons[0].detail;
}

TEST_F(VerifyTest, TruncatedBootLogIsMalformedWithOffset) {
  evidence_.boot_log->resize(evidence_.boot_log->size() - 7);
  Verdict verdict = Run();
  ASSERT_FALSE(verdict.reasons.empty());
  EXPECT_EQ(verdict.reasons[0].code, ReasonCode::kBootLogMalformed);
  EXPECT_EQ(verdict.reasons[0].detail.rfind("byte offset ", 0), 0u) << verdict.reasons[0].detail;
}

TEST_F(VerifyTest, NoBootLogIsBootLogRequired) {
  evidence_.boot_log.reset();
  Verdict verdict = Run();
  EXPECT_EQ(Codes(verdict)[0], "BOOT_LOG_REQUIRED");
  EXPECT_FALSE(verdict.trusted);
}

// keylime's log has sha256 digests only (the repository's fixtures have all
// four banks swtpm allocates).
TEST_F(VerifyTest, BootLogWithoutTheQuotedBankCannotExplainIt) {
  ATTEST_NEED_SHARED_TESTDATA();
  boot_log_ = test::ReadTestdata("eventlogs/keylime_mb_log.bin");
  selection_ = tpm::ParsePcrSelection("sha1:0-7+sha256:0-9,14,15").value();
  evidence_ =
      factory_.Make(selection_, boot_log_, test::ExampleRuntimeLog(5), nonce_, test::SafeClock());
  policy_.selection = selection_;
  Verdict verdict = Run();
  ASSERT_NE(Find(verdict, ReasonCode::kBootLogReplayMismatch), nullptr);
  EXPECT_NE(Find(verdict, ReasonCode::kBootLogReplayMismatch)->detail.find("no sha1 digests"),
            std::string::npos);
}

TEST_F(VerifyTest, ChangedRuntimeEntryIsReplayMismatchAndNotApproved) {
  evidence_.runtime_log->entries[2].sha256[0] ^= 0x01;
  Verdict verdict = Run();
  EXPECT_EQ(Codes(verdict),
            (std::vector<std::string>{"RUNTIME_LOG_REPLAY_MISMATCH", "RUNTIME_NOT_APPROVED"}));
  EXPECT_EQ(verdict.reasons[0].pcr, 15u);
  EXPECT_EQ(verdict.reasons[1].path, "/usr/bin/runtime-2");
}

TEST_F(VerifyTest, DroppedRuntimeEntryIsReplayMismatch) {
  evidence_.runtime_log->entries.pop_back();
  Verdict verdict = Run();
  EXPECT_EQ(Codes(verdict)[0], "RUNTIME_LOG_REPLAY_MISMATCH");
}

TEST_F(VerifyTest, UnapprovedRuntimeFileIsNotApprovedEvenIfReplaced) {
  runtime::RuntimeLog runtime = test::ExampleRuntimeLog(5);
  runtime::RuntimeEntry rogue = runtime.entries[1];
  rogue.sha256 = Sha256Of(AsBytes("a binary nobody approved"));
  runtime.entries.insert(runtime.entries.begin() + 1, rogue);  // later replaced by entries[2]
  evidence_ = factory_.Make(selection_, boot_log_, runtime, nonce_, test::SafeClock());
  Verdict verdict = Run();
  EXPECT_EQ(Codes(verdict), std::vector<std::string>{"RUNTIME_NOT_APPROVED"});
  EXPECT_EQ(verdict.reasons[0].path, "/usr/bin/runtime-1");
}

TEST_F(VerifyTest, UnreadableRuntimeFileIsNotApproved) {
  runtime::RuntimeLog runtime = test::ExampleRuntimeLog(5);
  runtime.entries[3].kind = runtime::RuntimeKind::kUnreadable;
  runtime.entries[3].sha256 = {};
  runtime.entries[3].size = 0;
  runtime.entries[3].detail = "open: Permission denied (EACCES)";
  evidence_ = factory_.Make(selection_, boot_log_, runtime, nonce_, test::SafeClock());
  Verdict verdict = Run();
  EXPECT_EQ(Codes(verdict), std::vector<std::string>{"RUNTIME_NOT_APPROVED"});
  EXPECT_NE(verdict.reasons[0].detail.find("EACCES"), std::string::npos);
}

TEST_F(VerifyTest, RequiredPathNeverMeasuredOrMissingIsRuntimeMissing) {
  policy_.runtime.required_paths.push_back("/usr/bin/kubelet");
  runtime::RuntimeLog runtime = test::ExampleRuntimeLog(5);
  runtime::RuntimeEntry missing = runtime.entries[0];
  missing.kind = runtime::RuntimeKind::kMissing;
  missing.sha256 = {};
  missing.size = 0;
  missing.detail = "stat: No such file or directory (ENOENT)";
  runtime.entries.push_back(missing);
  evidence_ = factory_.Make(selection_, boot_log_, runtime, nonce_, test::SafeClock());
  Verdict verdict = Run();
  EXPECT_EQ(Codes(verdict), (std::vector<std::string>{"RUNTIME_MISSING", "RUNTIME_MISSING"}));
  EXPECT_EQ(verdict.reasons[0].path, "/usr/bin/runtime-0");
  EXPECT_EQ(verdict.reasons[1].path, "/usr/bin/kubelet");
}

TEST_F(VerifyTest, PcrValueOutsideTheReferenceValuesIsBootPolicyViolation) {
  policy_.boot.allowed_pcr_values[TPM2_ALG_SHA256][7] = {Bytes(32, 0x77), Bytes(32, 0x78)};
  Verdict verdict = Run();
  EXPECT_EQ(Codes(verdict), std::vector<std::string>{"BOOT_POLICY_VIOLATION"});
  EXPECT_EQ(verdict.reasons[0].pcr, 7u);
  // A second allowed value makes it pass: the policy holds a set per PCR.
  policy_.boot.allowed_pcr_values[TPM2_ALG_SHA256][7].push_back(evidence_.pcrs[TPM2_ALG_SHA256][7]);
  EXPECT_TRUE(Run().trusted);
}

TEST_F(VerifyTest, UnlistedBootApplicationIsBootPolicyViolation) {
  ASSERT_TRUE(policy_.boot.allowed_boot_applications.has_value());
  ASSERT_FALSE(policy_.boot.allowed_boot_applications->empty());
  policy_.boot.allowed_boot_applications->erase(policy_.boot.allowed_boot_applications->begin());
  Verdict verdict = Run();
  ASSERT_FALSE(verdict.reasons.empty());
  EXPECT_EQ(verdict.reasons[0].code, ReasonCode::kBootPolicyViolation);
  EXPECT_NE(verdict.reasons[0].detail.find("boot application"), std::string::npos);
}

TEST_F(VerifyTest, SecureBootRequiredButOffIsBootPolicyViolation) {
  boot_log_ = test::ReadFixture("eventlogs/ovmf-sb-off.bin");
  evidence_ =
      factory_.Make(selection_, boot_log_, test::ExampleRuntimeLog(5), nonce_, test::SafeClock());
  policy_ = test::PolicyFor(evidence_, key_);
  EXPECT_FALSE(policy_.boot.secure_boot_required);
  EXPECT_TRUE(Run().trusted);
  policy_.boot.secure_boot_required = true;
  Verdict verdict = Run();
  EXPECT_EQ(Codes(verdict), std::vector<std::string>{"BOOT_POLICY_VIOLATION"});
  EXPECT_EQ(verdict.reasons[0].pcr, 7u);
  EXPECT_NE(verdict.reasons[0].detail.find("secure boot is disabled"), std::string::npos);
}

TEST_F(VerifyTest, ClockStates) {
  QuoteClock later = test::SafeClock();
  EXPECT_TRUE(Run(later).trusted);  // same counters: not a rollback

  QuoteClock ahead = later;
  ahead.clock += 1;
  Verdict rolled_back = Run(ahead);
  EXPECT_EQ(Codes(rolled_back), std::vector<std::string>{"CLOCK_ROLLBACK"});

  QuoteClock reset_ahead = later;
  reset_ahead.reset_count += 1;
  reset_ahead.clock = 0;
  EXPECT_EQ(Codes(Run(reset_ahead)), std::vector<std::string>{"CLOCK_ROLLBACK"});

  QuoteClock before_reboot = later;
  before_reboot.reset_count -= 1;
  before_reboot.clock = 99'999'999;
  Verdict rebooted = Run(before_reboot);
  EXPECT_EQ(Codes(rebooted), std::vector<std::string>{"REBOOTED"});
  EXPECT_TRUE(rebooted.trusted);  // informational only
}

TEST_F(VerifyTest, UnsafeClockIsClockUnsafe) {
  QuoteClock unsafe = test::SafeClock();
  unsafe.safe = false;
  evidence_ = factory_.Make(selection_, boot_log_, test::ExampleRuntimeLog(5), nonce_, unsafe);
  EXPECT_EQ(Codes(Run()), std::vector<std::string>{"CLOCK_UNSAFE"});
}

TEST_F(VerifyTest, EveryFailureIsReportedNotJustTheFirst) {
  evidence_.runtime_log->entries[0].sha256[0] ^= 0x01;
  policy_.boot.allowed_pcr_values[TPM2_ALG_SHA256][0] = {Bytes(32, 0x01)};
  VerificationInput input{evidence_, key_, policy_, Bytes(32, 0x00), std::nullopt};
  Verdict verdict = VerifyEvidence(input);
  EXPECT_EQ(Codes(verdict),
            (std::vector<std::string>{"NONCE_MISMATCH", "RUNTIME_LOG_REPLAY_MISMATCH",
                                      "BOOT_POLICY_VIOLATION", "RUNTIME_NOT_APPROVED"}));
  Json json = VerdictToJson(verdict);
  EXPECT_FALSE(json["trusted"].get<bool>());
  EXPECT_EQ(json["reasons"].size(), 4u);
  EXPECT_EQ(json["reasons"][2]["pcr"], 0);
}

// A real TPM 2.0 quote (go-attestation's dump of a GCE Shielded VM running
// Windows): its PCR digest and its boot log check out; its AK signs with
// RSASSA-SHA1, which this verifier refuses, and it quotes no sha256 bank,
// so there is no runtime PCR either.
TEST(RealQuoteTest, WindowsShieldedVmQuoteParsesAndReplays) {
  ATTEST_NEED_SHARED_TESTDATA();
  Json dump = Json::parse(
      AsText(test::ReadTestdata("eventlogs/goattest_windows_gcp_shielded_vm.dump.json")));
  Bytes public_area = Base64Decode(dump["AK"]["Public"].get<std::string>()).value();
  Bytes tpm2b = {static_cast<std::uint8_t>(public_area.size() >> 8),
                 static_cast<std::uint8_t>(public_area.size())};
  tpm2b.insert(tpm2b.end(), public_area.begin(), public_area.end());
  AttestationKey key = ParseAttestationKey(tpm2b).value();

  Evidence evidence;
  evidence.attest = Base64Decode(dump["Quote"]["Quote"].get<std::string>()).value();
  evidence.signature = Base64Decode(dump["Quote"]["Signature"].get<std::string>()).value();
  evidence.nonce = Base64Decode(dump["Quote"]["Nonce"].get<std::string>()).value();
  evidence.boot_log = Base64Decode(dump["Log"]["Raw"].get<std::string>()).value();
  for (const Json& pcr : dump["Log"]["PCRs"]) {
    evidence.pcrs[TPM2_ALG_SHA1][pcr["Index"].get<std::uint32_t>()] =
        Base64Decode(pcr["Digest"].get<std::string>()).value();
  }
  QuoteInfo quote = ParseQuote(evidence.attest).value();
  Policy policy;
  policy.selection = quote.selection;

  VerificationInput input{evidence, key, policy, evidence.nonce, std::nullopt};
  Verdict verdict = VerifyEvidence(input);
  EXPECT_TRUE(verdict.nonce_checked);
  EXPECT_EQ(quote.selection.ToString(),
            "sha1:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23");
  ASSERT_EQ(Codes(verdict),
            (std::vector<std::string>{"SIGNATURE_INVALID", "RUNTIME_LOG_REPLAY_MISMATCH"}))
      << VerdictToJson(verdict).dump(2);
  EXPECT_NE(verdict.reasons[0].detail.find("0x0004"), std::string::npos)
      << verdict.reasons[0].detail;
}

// CheckQuoteFirst: the signature and nonce alone, before any log is read;
// VerifyEvidence continuing from it reaches the same verdict.
TEST_F(VerifyTest, TheQuoteIsCheckedFirstAndTheLogsOnlyAfter) {
  evidence_.boot_log = Bytes(4096, 0xa5);  // not an event log
  VerificationInput input{evidence_, key_, policy_, nonce_, std::nullopt};
  QuoteCheck signed_quote = CheckQuoteFirst(input);
  EXPECT_TRUE(signed_quote.authenticated());
  EXPECT_TRUE(signed_quote.verdict().reasons.empty());
  EXPECT_FALSE(signed_quote.verdict().trusted);
  Verdict continued = VerifyEvidence(input, std::move(signed_quote));
  EXPECT_EQ(Codes(continued), Codes(VerifyEvidence(input)));
  EXPECT_NE(Find(continued, ReasonCode::kBootLogMalformed), nullptr);

  evidence_.signature.back() ^= 1;
  QuoteCheck forged = CheckQuoteFirst(input);
  EXPECT_FALSE(forged.authenticated());
  EXPECT_EQ(Codes(forged.verdict()), std::vector<std::string>{"SIGNATURE_INVALID"});

  evidence_.signature.back() ^= 1;
  VerificationInput other_nonce{evidence_, key_, policy_, Bytes(32, 1), std::nullopt};
  EXPECT_FALSE(CheckQuoteFirst(other_nonce).authenticated());
  VerificationInput unchecked{evidence_, key_, policy_, std::nullopt, std::nullopt};
  EXPECT_FALSE(CheckQuoteFirst(unchecked).authenticated());
}

}  // namespace
}  // namespace attest::verifier
