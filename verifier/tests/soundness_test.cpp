// The adversarial suite (issue 10): a verdict rests only on what the
// quote's signature covers. Each case starts from an honest node (a
// synthetic UEFI boot with real digests, signed by a software AK with an
// AK's attributes) and makes one attacker move a root user on that node
// can make: extend more into PCRs after boot (the quote then covers it),
// and rewrite anything the signature does not cover (event types, event
// data, digests of unquoted banks, the runtime log's informational
// fields). Each case asserts the exact reason codes; the honest controls
// are asserted trusted.
#include <functional>
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
#include "soundness_scenario.h"
#include "synthetic_boot.h"

namespace attest::verifier {
namespace {

using test::kGlobalVariableGuid;
using test::kSha1;
using test::kSha256;
using test::LogEvent;
using test::SyntheticLog;
using test::UefiBoot;
using test::UefiMachine;
using test::UefiVariableData;
using CodeList = std::vector<std::string>;

using test::EvilRunc;
using test::GoodContainerd;
using test::GoodMachinePolicy;
using test::GoodRunc;
using test::MeasuredNode;

constexpr std::uint32_t kRuntimePcr = test::kScenarioRuntimePcr;

runtime::RuntimeLog Runtime(std::vector<runtime::RuntimeEntry> entries) {
  return test::ScenarioRuntime(std::move(entries));
}

using Node = MeasuredNode;

// What the attacker sends in place of the measured logs.
struct Shown {
  SyntheticLog boot;
  runtime::RuntimeLog runtime;
};

struct Forgery {
  std::string name;
  // The node's real state; by default the good machine, good runtime.
  std::function<void(Node&)> real = [](Node&) {};
  // The rewrite of what the signature does not cover.
  std::function<void(Shown&)> rewrite = [](Shown&) {};
  CodeList codes;  // exactly, in order; empty for an honest control
  std::function<void(Policy&)> policy_change = [](Policy&) {};
};

std::ostream& operator<<(std::ostream& out, const Forgery& forgery) { return out << forgery.name; }

CodeList Codes(const Verdict& verdict) {
  CodeList codes;
  for (const Reason& reason : verdict.reasons) codes.emplace_back(ReasonCodeName(reason.code));
  return codes;
}

// A PCR 7 variable extended after boot by root: a real extend, so the
// quote covers it.
void ExtendSecureBootOn(SyntheticLog& boot) {
  boot.MeasureData(7, kEvEfiVariableDriverConfig,
                   UefiVariableData(kGlobalVariableGuid, "SecureBoot", Bytes{1}));
}

std::vector<Forgery> Forgeries() {
  UefiMachine secure_boot_off;
  secure_boot_off.secure_boot = false;
  UefiMachine evil_loader;
  evil_loader.boot_applications = {"shimx64.efi", "grubx64.efi", "evil-vmlinuz"};
  auto with_machine = [](UefiMachine machine) {
    return [machine](Node& node) { node.boot = UefiBoot(machine); };
  };
  // PCR 4's extends: action, separator, shim, grub, kernel.
  constexpr std::size_t kKernelSlot = 4;

  std::vector<Forgery> forgeries;
  forgeries.push_back({.name = "HonestControl", .codes = {}});
  {
    UefiMachine quirk;
    quirk.variables_hashed_by_value = true;
    forgeries.push_back({.name = "HonestControlWithValueOnlyVariableDigests",
                         .real = with_machine(quirk),
                         .codes = {}});
  }
  forgeries.push_back({.name = "HonestSecureBootOffIsRefused",
                       .real = with_machine(secure_boot_off),
                       .codes = {"BOOT_POLICY_VIOLATION"}});

  // Hole 1: Secure Boot state from unbound data.
  forgeries.push_back(
      {.name = "SecureBootDataEditedKeepingTheDigest",
       .real = with_machine(secure_boot_off),
       .rewrite = [](Shown& shown) { shown.boot.events[shown.boot.IndexOf(7, 0)].data.back() = 1; },
       .codes = {"BOOT_EVENT_UNBOUND", "BOOT_POLICY_VIOLATION"}});
  {
    UefiMachine quirk_off = secure_boot_off;
    quirk_off.variables_hashed_by_value = true;
    forgeries.push_back(
        {.name = "SecureBootValueEditedUnderTheValueOnlyQuirk",
         .real = with_machine(quirk_off),
         .rewrite =
             [](Shown& shown) { shown.boot.events[shown.boot.IndexOf(7, 0)].data.back() = 1; },
         .codes = {"BOOT_EVENT_UNBOUND", "BOOT_POLICY_VIOLATION"}});
    UefiMachine quirk_kek_one = quirk_off;
    quirk_kek_one.variable_values["KEK"] = Bytes{1};
    forgeries.push_back(
        {.name = "RelabelledVariableSuppliesSecureBoot",
         .real = with_machine(quirk_kek_one),
         .rewrite =
             [](Shown& shown) {
               // KEK's value is 01: give it SecureBoot's name, and KEK's to slot 0.
               shown.boot.events[shown.boot.IndexOf(7, 0)].data =
                   UefiVariableData(kGlobalVariableGuid, "KEK", Bytes{0});
               shown.boot.events[shown.boot.IndexOf(7, 2)].data =
                   UefiVariableData(kGlobalVariableGuid, "SecureBoot", Bytes{1});
             },
         .codes = {"BOOT_EVENT_UNBOUND", "BOOT_EVENT_UNBOUND", "BOOT_POLICY_VIOLATION"}});
  }
  // Secure Boot off at boot; root then extends a well-formed "SecureBoot =
  // 1" into PCR 7 (a real extend, after the separator).
  auto off_then_secure_boot_extended = [=](Node& node) {
    with_machine(secure_boot_off)(node);
    ExtendSecureBootOn(node.boot);
  };
  forgeries.push_back({.name = "SecureBootVariableAfterTheSeparator",
                       .real = off_then_secure_boot_extended,
                       .rewrite =
                           [](Shown& shown) {
                             // Hide the real one from anything keyed on the type.
                             shown.boot.events[shown.boot.IndexOf(7, 0)].type =
                                 kEvEfiVariableAuthority;
                           },
                       .codes = {"BOOT_POLICY_VIOLATION"}});
  forgeries.push_back({.name = "SecureBootSlotGarbledAndOneAppended",
                       .real = off_then_secure_boot_extended,
                       .rewrite =
                           [](Shown& shown) {
                             shown.boot.events[shown.boot.IndexOf(7, 0)].data = Bytes{0xde, 0xad};
                           },
                       .codes = {"BOOT_EVENT_UNBOUND", "BOOT_POLICY_VIOLATION"}});
  forgeries.push_back({.name = "SeparatorRelabelledToReopenTheConfiguration",
                       .real =
                           [=](Node& node) {
                             with_machine(secure_boot_off)(node);
                             ExtendSecureBootOn(node.boot);
                             node.boot.MeasureData(7, kEvSeparator, Bytes{0, 0, 0, 0});
                           },
                       .rewrite =
                           [](Shown& shown) {
                             shown.boot.events[shown.boot.IndexOf(7, 5)].type = kEvEventTag;
                             shown.boot.events[shown.boot.IndexOf(7, 0)].data = Bytes{0};
                           },
                       .codes = {"BOOT_EVENT_UNBOUND", "BOOT_POLICY_VIOLATION"}});
  forgeries.push_back({.name = "DuplicatedSeparator",
                       .rewrite =
                           [](Shown& shown) {
                             std::size_t separator = shown.boot.IndexOf(7, 5);
                             shown.boot.events.insert(
                                 shown.boot.events.begin() + static_cast<std::ptrdiff_t>(separator),
                                 shown.boot.events[separator]);
                           },
                       .codes = {"BOOT_LOG_REPLAY_MISMATCH", "BOOT_POLICY_VIOLATION"}});
  forgeries.push_back({.name = "SecureBootFromAnUnquotedBank",
                       .real = with_machine(secure_boot_off),
                       .rewrite =
                           [](Shown& shown) {
                             // Consistent in sha1, which the quote does not cover.
                             LogEvent& slot = shown.boot.events[shown.boot.IndexOf(7, 0)];
                             slot.data =
                                 UefiVariableData(kGlobalVariableGuid, "SecureBoot", Bytes{1});
                             slot.digests[kSha1] =
                                 tpm::HashWith(*tpm::HashAlgorithmById(kSha1), slot.data).value();
                           },
                       .codes = {"BOOT_EVENT_UNBOUND", "BOOT_POLICY_VIOLATION"}});

  // Hole 2: the boot-application rule keyed on the event type.
  for (std::uint32_t type : {kEvEfiBootServicesDriver, kEvEfiRuntimeServicesDriver, kEvEfiAction,
                             kEvSeparator, kEvAction, kEvEventTag}) {
    forgeries.push_back({.name = "EvilLoaderRelabelledAs" + std::string(EventTypeName(type)),
                         .real = with_machine(evil_loader),
                         .rewrite =
                             [type](Shown& shown) {
                               shown.boot.events[shown.boot.IndexOf(4, kKernelSlot)].type = type;
                             },
                         .codes = {"BOOT_POLICY_VIOLATION"}});
  }
  // Review R1: a loader built as a boot-service driver is measured into PCR
  // 2, never PCR 4 (Boot0000 or Driver0000 pointed at it through efivarfs).
  auto driver_loader = [](std::string image) {
    return [image](Node& node) {
      UefiMachine machine;
      machine.boot_applications = {};
      node.boot = UefiBoot(machine);
      node.boot.Measure(2, kEvEfiBootServicesDriver, test::ImageLoadEvent(image),
                        test::PeImage(image));
    };
  };
  forgeries.push_back(
      {.name = "LoaderMeasuredAsADriverIntoPcr2WithoutSecureBootRule",
       .real = driver_loader("evil-loader.efi"),
       .codes = {"BOOT_POLICY_VIOLATION"},
       .policy_change = [](Policy& policy) { policy.boot.secure_boot_required = false; }});
  forgeries.push_back({.name = "SignedDriverImageInPcr2WithSecureBootOn",
                       .real = driver_loader("old-signed.efi"),
                       .codes = {"BOOT_POLICY_VIOLATION"}});
  forgeries.push_back({.name = "EvilLoaderAsAnActionCarryingItsPreimage",
                       .real = with_machine(evil_loader),
                       .rewrite =
                           [](Shown& shown) {
                             LogEvent& kernel =
                                 shown.boot.events[shown.boot.IndexOf(4, kKernelSlot)];
                             kernel.type = kEvEfiAction;
                             kernel.data = test::PeImage("evil-vmlinuz");
                           },
                       .codes = {"BOOT_POLICY_VIOLATION"}});
  forgeries.push_back(
      {.name = "EvilLoaderMovedToAnUnquotedPcr",
       .real = with_machine(evil_loader),
       .rewrite =
           [](Shown& shown) { shown.boot.events[shown.boot.IndexOf(4, kKernelSlot)].pcr = 11; },
       .codes = {"BOOT_LOG_REPLAY_MISMATCH", "BOOT_POLICY_VIOLATION"}});
  forgeries.push_back(
      {.name = "EventMovedBetweenQuotedPcrs",
       .real = with_machine(evil_loader),
       .rewrite =
           [](Shown& shown) { shown.boot.events[shown.boot.IndexOf(4, kKernelSlot)].pcr = 5; },
       .codes = {"BOOT_LOG_REPLAY_MISMATCH", "BOOT_LOG_REPLAY_MISMATCH", "BOOT_POLICY_VIOLATION"}});
  forgeries.push_back({.name = "EventInAnUnquotedBankOnly",
                       .rewrite =
                           [](Shown& shown) {
                             // An extra PCR 4 event with only a sha1 digest.
                             shown.boot.MeasureData(4, kEvEfiAction, ToBytes("extra"));
                             shown.boot.events.back().digests.erase(kSha256);
                           },
                       .codes = {"BOOT_LOG_REPLAY_MISMATCH", "BOOT_POLICY_VIOLATION"}});

  // Hole 3: a runtime measurement laundered through the boot log. attestd
  // measured the evil runc, then the good one; the attacker shows the evil
  // one's extend as a "firmware" event and a runtime log of the good one.
  auto launder = [](Shown& shown) {
    Sha256Digest evil = runtime::RuntimeExtendDigest(EvilRunc());
    LogEvent fake;
    fake.pcr = kRuntimePcr;
    fake.type = kEvEventTag;
    fake.digests[kSha256].assign(evil.begin(), evil.end());
    fake.digests[kSha1] = Bytes(20, 0x11);
    fake.data = ToBytes("firmware event");
    shown.boot.events.push_back(fake);
    shown.runtime.entries.erase(shown.runtime.entries.begin());
  };
  auto evil_then_good = [](Node& node) {
    node.runtime = Runtime({EvilRunc(), GoodRunc(), GoodContainerd()});
  };
  forgeries.push_back({.name = "RuntimeMeasurementLaunderedThroughTheBootLog",
                       .real = evil_then_good,
                       .rewrite = launder,
                       .codes = {"BOOT_LOG_RUNTIME_PCR"}});
  forgeries.push_back(
      {.name = "LaunderingAgainstAPinnedFirmwareValue",
       .real = evil_then_good,
       .rewrite = launder,
       .codes = {"BOOT_LOG_RUNTIME_PCR"},
       .policy_change = [](Policy& policy) { policy.runtime.firmware_values = {Sha256Digest{}}; }});
  forgeries.push_back({.name = "HonestEvilRuncIsRefused",
                       .real = evil_then_good,
                       .codes = {"RUNTIME_NOT_APPROVED"}});

  // The runtime log's informational fields decide nothing.
  forgeries.push_back({.name = "EvilRuncWithEditedDetailTimeAndSize",
                       .real = evil_then_good,
                       .rewrite =
                           [](Shown& shown) {
                             runtime::RuntimeEntry& evil = shown.runtime.entries.front();
                             evil.time = "2020-01-01T00:00:00Z";
                             evil.size = 1;
                             evil.detail = "approved";
                           },
                       .codes = {"RUNTIME_NOT_APPROVED"}});
  forgeries.push_back({.name = "EvilRuncRelabelledMissing",
                       .real = evil_then_good,
                       .rewrite =
                           [](Shown& shown) {
                             runtime::RuntimeEntry& evil = shown.runtime.entries.front();
                             evil.kind = runtime::RuntimeKind::kMissing;
                             evil.sha256 = {};
                             evil.size = 0;
                             evil.detail = "stat: No such file or directory (ENOENT)";
                           },
                       .codes = {"RUNTIME_LOG_REPLAY_MISMATCH"}});
  forgeries.push_back(
      {.name = "EvilRuncDroppedFromTheRuntimeLog",
       .real = evil_then_good,
       .rewrite = [](Shown& shown) { shown.runtime.entries.erase(shown.runtime.entries.begin()); },
       .codes = {"RUNTIME_LOG_REPLAY_MISMATCH"}});
  return forgeries;
}

class SoundnessTest : public ::testing::TestWithParam<Forgery> {
 protected:
  Verdict Run(const Forgery& forgery) {
    Node node;
    forgery.real(node);
    Policy policy = GoodMachinePolicy();
    forgery.policy_change(policy);
    // The quote covers what the TPM holds: the logs as measured.
    evidence_ = test::QuoteNode(factory_, node, policy.selection, nonce_);
    Shown shown{node.boot, node.runtime};
    forgery.rewrite(shown);
    evidence_.boot_log = shown.boot.Serialize();
    evidence_.runtime_log = shown.runtime;
    key_ = factory_.LoadedKey();
    policy_ = policy;
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
  EXPECT_EQ(Codes(verdict), forgery.codes) << VerdictToJson(verdict).dump(2);
  EXPECT_EQ(verdict.trusted, forgery.codes.empty());
}

std::string ForgeryName(const ::testing::TestParamInfo<Forgery>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Forgeries, SoundnessTest, ::testing::ValuesIn(Forgeries()), ForgeryName);

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
  EXPECT_EQ(Codes(refused), CodeList{"BOOT_LOG_RUNTIME_PCR"});
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
