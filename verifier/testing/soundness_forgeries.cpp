#include "soundness_forgeries.h"

#include "attest/runtime/entry.h"
#include "attest/tpm/algorithms.h"
#include "attest/verifier/event_log.h"

namespace attest::verifier::test {
namespace {

using Node = MeasuredNode;
constexpr std::uint32_t kRuntimePcr = kScenarioRuntimePcr;

runtime::RuntimeLog Runtime(std::vector<runtime::RuntimeEntry> entries) {
  return ScenarioRuntime(std::move(entries));
}

// A PCR 7 variable extended after boot by root: a real extend, so the
// quote covers it.
void ExtendSecureBootOn(SyntheticLog& boot) {
  boot.MeasureData(7, kEvEfiVariableDriverConfig,
                   UefiVariableData(kGlobalVariableGuid, "SecureBoot", Bytes{1}));
}

}  // namespace

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
Policy ForgeryPolicy(const Forgery& forgery) {
  Policy policy = GoodMachinePolicy();
  forgery.policy_change(policy);
  return policy;
}

Evidence ForgeEvidence(const Forgery& forgery, const EvidenceFactory& factory, const Policy& policy,
                       const Bytes& nonce) {
  Node node;
  forgery.real(node);
  // The quote covers what the TPM holds: the logs as measured.
  Evidence evidence = QuoteNode(factory, node, policy.selection, nonce);
  Shown shown{node.boot, node.runtime};
  forgery.rewrite(shown);
  evidence.boot_log = shown.boot.Serialize();
  evidence.runtime_log = shown.runtime;
  return evidence;
}

}  // namespace attest::verifier::test
