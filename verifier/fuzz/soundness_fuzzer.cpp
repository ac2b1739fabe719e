// libFuzzer target for the verdict's soundness (issue 10): a node whose
// real state its policy refuses (Secure Boot off, an unapproved boot
// application or driver-built loader, an unapproved runtime binary, that
// binary laundered through the boot log) plays a root attacker. The input first chooses extends
// root makes after boot (the quote covers them: this target signs as the
// TPM would), then rewrites only what the signature does not cover: event
// types, event data, event PCR indexes, digests of the unquoted sha1 bank,
// the order and number of log records, fake records carrying digests
// copied from elsewhere, and the runtime log. The verdict must never be
// trusted: if it is, the target aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <fuzzer/FuzzedDataProvider.h>

#include "attest/runtime/entry.h"
#include "attest/tpm/algorithms.h"
#include "attest/verifier/event_log.h"
#include "attest/verifier/verify.h"

#include "evidence_factory.h"
#include "soundness_scenario.h"
#include "synthetic_boot.h"

namespace {

using attest::Bytes;
using attest::runtime::RuntimeEntry;
using attest::runtime::RuntimeKind;
using attest::verifier::Evidence;
using attest::verifier::Policy;
namespace test = attest::verifier::test;
namespace verifier = attest::verifier;

struct Fixture {
  test::EvidenceFactory factory;
  attest::verifier::AttestationKey key = factory.LoadedKey();
  Policy policy = test::GoodMachinePolicy();
  Bytes nonce = Bytes(32, 0x42);
};

// The harness must be able to say "trusted": the good node, unrewritten,
// is. Otherwise every verdict below would be untrusted for a setup reason
// and the target would prove nothing.
Fixture& TheFixture() {
  static Fixture fixture = [] {
    Fixture made;
    test::MeasuredNode good;
    Evidence evidence = test::QuoteNode(made.factory, good, made.policy.selection, made.nonce);
    verifier::Verdict verdict =
        verifier::VerifyEvidence({evidence, made.key, made.policy, made.nonce, std::nullopt});
    if (!verdict.trusted) {
      std::fprintf(stderr, "soundness_fuzzer: the good node is not trusted:\n%s\n",
                   verifier::VerdictToJson(verdict).dump(2).c_str());
      std::abort();
    }
    return made;
  }();
  return fixture;
}

// The node's real, refused state.
test::MeasuredNode BadNode(std::uint8_t which) {
  test::MeasuredNode node;
  test::UefiMachine machine;
  switch (which % 6) {
    case 0:
      machine.secure_boot = false;
      break;
    case 1:  // value-only digests, and a one-byte 01 value to relabel
      machine.secure_boot = false;
      machine.variables_hashed_by_value = true;
      machine.variable_values["KEK"] = Bytes{1};
      break;
    case 2:
      machine.boot_applications = {"shimx64.efi", "grubx64.efi", "evil-vmlinuz"};
      break;
    case 5:  // a loader built as a driver: measured into PCR 2
      machine.boot_applications = {};
      node.boot = test::UefiBoot(machine);
      node.boot.Measure(2, verifier::kEvEfiBootServicesDriver,
                        test::ImageLoadEvent("evil-loader.efi"), test::PeImage("evil-loader.efi"));
      return node;
    default:  // 3, 4: the evil runc ran, then the good one
      node.runtime =
          test::ScenarioRuntime({test::EvilRunc(), test::GoodRunc(), test::GoodContainerd()});
      break;
  }
  node.boot = test::UefiBoot(machine);
  return node;
}

const std::uint32_t kTypes[] = {verifier::kEvSeparator,
                                verifier::kEvAction,
                                verifier::kEvEventTag,
                                verifier::kEvIpl,
                                verifier::kEvNoAction,
                                verifier::kEvOmitBootDeviceEvents,
                                verifier::kEvEfiVariableDriverConfig,
                                verifier::kEvEfiVariableBoot,
                                verifier::kEvEfiBootServicesApplication,
                                verifier::kEvEfiBootServicesDriver,
                                verifier::kEvEfiAction,
                                verifier::kEvEfiVariableAuthority,
                                verifier::kEvEfiGptEvent};
const char* const kVariables[] = {"SecureBoot", "PK", "KEK", "db", "dbx", "MokList"};

Bytes SomeBytes(FuzzedDataProvider& input) {
  return input.ConsumeBytes<std::uint8_t>(input.ConsumeIntegralInRange<std::size_t>(0, 64));
}

Bytes SomeData(FuzzedDataProvider& input) {
  switch (input.ConsumeIntegralInRange(0, 4)) {
    case 0:
      return test::UefiVariableData(
          input.ConsumeBool() ? test::kGlobalVariableGuid : test::kImageSecurityDatabaseGuid,
          input.PickValueInArray(kVariables), SomeBytes(input));
    case 1:
      return Bytes{0, 0, 0, 0};
    case 2:
      return attest::ToBytes("Calling EFI Application from Boot Option");
    case 3:
      return test::PeImage("evil-vmlinuz");
    default:
      return SomeBytes(input);
  }
}

Bytes Sha1(const Bytes& data) {
  return attest::tpm::HashWith(*attest::tpm::HashAlgorithmById(test::kSha1), data).value();
}

// Root extends after boot: real extends, so the quote covers them.
void ExtendAfterBoot(FuzzedDataProvider& input, test::MeasuredNode& node) {
  int extends = input.ConsumeIntegralInRange(0, 3);
  for (int i = 0; i < extends; ++i) {
    if (input.ConsumeBool()) {
      Bytes data = SomeData(input);
      std::uint32_t pcr = input.ConsumeIntegralInRange<std::uint32_t>(0, 16);
      node.boot.MeasureData(pcr, input.PickValueInArray(kTypes), data);
    } else {
      RuntimeEntry entry =
          test::ScenarioFileEntry(input.ConsumeBool() ? "/usr/bin/runc" : "/usr/bin/containerd",
                                  input.ConsumeRandomLengthString(32));
      node.runtime.entries.push_back(entry);
    }
  }
}

void RewriteEvent(FuzzedDataProvider& input, test::SyntheticLog& log,
                  const test::MeasuredNode& node) {
  if (log.events.empty()) return;
  std::size_t index = input.ConsumeIntegralInRange<std::size_t>(0, log.events.size() - 1);
  test::LogEvent& event = log.events[index];
  switch (input.ConsumeIntegralInRange(0, 7)) {
    case 0:
      event.type = input.PickValueInArray(kTypes);
      break;
    case 1:
      event.data = SomeData(input);
      break;
    case 2:  // make the unquoted sha1 bank agree with the new data
      event.digests[test::kSha1] = Sha1(event.data);
      break;
    case 3:
      event.pcr = input.ConsumeIntegralInRange<std::uint32_t>(0, 23);
      break;
    case 4:
      log.events.erase(log.events.begin() + static_cast<std::ptrdiff_t>(index));
      break;
    case 5: {
      test::LogEvent copy = event;
      log.events.insert(log.events.begin() + static_cast<std::ptrdiff_t>(index), copy);
      break;
    }
    case 6: {
      std::size_t other = input.ConsumeIntegralInRange<std::size_t>(0, log.events.size() - 1);
      std::swap(log.events[index], log.events[other]);
      break;
    }
    default: {
      // A fake record whose sha256 digest is a runtime entry's extend: the
      // laundering move.
      if (node.runtime.entries.empty()) break;
      const RuntimeEntry& entry = node.runtime.entries[input.ConsumeIntegralInRange<std::size_t>(
          0, node.runtime.entries.size() - 1)];
      attest::Sha256Digest extend = attest::runtime::RuntimeExtendDigest(entry);
      test::LogEvent fake;
      fake.pcr = input.ConsumeBool() ? test::kScenarioRuntimePcr
                                     : input.ConsumeIntegralInRange<std::uint32_t>(0, 23);
      fake.type = input.PickValueInArray(kTypes);
      fake.data = SomeData(input);
      fake.digests[test::kSha256].assign(extend.begin(), extend.end());
      fake.digests[test::kSha1] = Sha1(fake.data);
      log.events.insert(log.events.begin() + static_cast<std::ptrdiff_t>(index), fake);
      break;
    }
  }
}

void RewriteRuntime(FuzzedDataProvider& input, attest::runtime::RuntimeLog& runtime) {
  if (runtime.entries.empty()) return;
  std::size_t index = input.ConsumeIntegralInRange<std::size_t>(0, runtime.entries.size() - 1);
  RuntimeEntry& entry = runtime.entries[index];
  switch (input.ConsumeIntegralInRange(0, 5)) {
    case 0:
      entry.time = input.ConsumeRandomLengthString(40);
      break;
    case 1:
      entry.detail = input.ConsumeRandomLengthString(40);
      break;
    case 2:
      entry.size = input.ConsumeIntegral<std::uint64_t>();
      break;
    case 3:
      entry.kind = input.PickValueInArray({RuntimeKind::kFile, RuntimeKind::kMissing,
                                           RuntimeKind::kUnreadable, RuntimeKind::kUnstable,
                                           RuntimeKind::kSaveFailed});
      break;
    case 4:
      runtime.entries.erase(runtime.entries.begin() + static_cast<std::ptrdiff_t>(index));
      break;
    default:
      entry.pcr = input.ConsumeIntegralInRange<std::uint32_t>(0, 23);
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  Fixture& fixture = TheFixture();
  test::MeasuredNode node = BadNode(input.ConsumeIntegral<std::uint8_t>());
  ExtendAfterBoot(input, node);
  Evidence evidence =
      test::QuoteNode(fixture.factory, node, fixture.policy.selection, fixture.nonce);
  test::SyntheticLog shown_boot = node.boot;
  attest::runtime::RuntimeLog shown_runtime = node.runtime;
  while (input.remaining_bytes() > 0) {
    if (input.ConsumeIntegralInRange(0, 3) == 0) {
      RewriteRuntime(input, shown_runtime);
    } else {
      RewriteEvent(input, shown_boot, node);
    }
  }
  evidence.boot_log = shown_boot.Serialize();
  evidence.runtime_log = shown_runtime;
  verifier::Verdict verdict = verifier::VerifyEvidence(
      {evidence, fixture.key, fixture.policy, fixture.nonce, std::nullopt});
  if (verdict.trusted) {
    std::fprintf(stderr, "a refused node was trusted after rewriting unsigned data:\n%s\n",
                 verifier::VerdictToJson(verdict).dump(2).c_str());
    std::abort();
  }
  return 0;
}
