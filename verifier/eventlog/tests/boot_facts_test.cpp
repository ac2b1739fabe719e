// Boot facts come only from verified extends whose data their digest binds
// (boot_facts.h, verifier/FORMAT.md §4): synthetic boots (synthetic_boot.h,
// real digests) edited the way a root attacker on the node would edit the
// log. boot_facts_testdata_test.cpp has the real logs.
#include "attest/verifier/boot_facts.h"

#include <algorithm>
#include <string>

#include <gtest/gtest.h>

#include "attest/encoding.h"
#include "attest/tpm/algorithms.h"
#include "attest/verifier/event_log.h"
#include "attest/verifier/verified_event_log.h"

#include "boot_facts_test_util.h"
#include "synthetic_boot.h"

namespace attest::verifier {
namespace {

using test::Check;
using test::Checked;
using test::CheckRealLog;
using test::ImageDigest;
using test::kSha1;
using test::kSha256;
using test::LogEvent;
using test::LoggedIndex;
using test::SyntheticLog;
using test::TpmValues;
using test::UefiBoot;
using test::UefiMachine;

// --- Verification: facts only from quoted pairs that replayed. ---

TEST(VerifiedEventLogTest, OnlyQuotedPairsThatReplayAreVerified) {
  SyntheticLog boot = UefiBoot({});
  tpm::PcrValues quoted = TpmValues(boot);
  quoted[kSha256].erase(7);  // PCR 7 quoted in sha1 only
  quoted[kSha1][4][0] ^= 1;  // sha1 PCR 4 does not replay
  std::unique_ptr<Checked> checked = Check(boot.Serialize(), quoted);
  const VerifiedEventLog& verified = *checked->verified;
  EXPECT_TRUE(verified.Extends(7, kSha1).has_value());
  EXPECT_FALSE(verified.Extends(7, kSha256).has_value());
  EXPECT_EQ(verified.StrongestBank(7), std::optional<std::uint16_t>(kSha1));
  EXPECT_TRUE(verified.Extends(4, kSha256).has_value());
  EXPECT_FALSE(verified.Extends(4, kSha1).has_value());
  ASSERT_EQ(verified.mismatches().size(), 1u);
  EXPECT_EQ(verified.mismatches()[0].pcr, 4u);
  EXPECT_EQ(verified.mismatches()[0].bank, kSha1);
  // Facts from the bank that did verify.
  EXPECT_EQ(checked->facts.secure_boot, std::optional<bool>(true));
}

TEST(VerifiedEventLogTest, UnquotedPcrGivesNoFact) {
  SyntheticLog boot = UefiBoot({});
  tpm::PcrValues quoted = TpmValues(boot);
  quoted[kSha1].erase(7);
  quoted[kSha256].erase(7);
  quoted[kSha256].erase(4);
  std::unique_ptr<Checked> checked = Check(boot.Serialize(), quoted);
  EXPECT_FALSE(checked->facts.secure_boot.has_value());
  EXPECT_NE(checked->facts.secure_boot_detail.find("PCR 7 is not verified"), std::string::npos);
  EXPECT_FALSE(checked->facts.boot_applications.has_value());
}

TEST(VerifiedEventLogTest, MadeUpEventsLackingTheBankAtAResetPcrAreNotVerified) {
  // PCR 9 really holds its reset value. The log claims events for it whose
  // sha256 digest is missing: replay cannot know PCR 9, so a quote of zeros
  // must not verify those events.
  SyntheticLog boot = UefiBoot({});
  tpm::PcrValues quoted = TpmValues(boot);
  quoted[kSha256][9] = Bytes(32, 0);
  boot.MeasureData(9, kEvIpl, ToBytes("made up"));
  boot.events.back().digests.erase(kSha256);
  std::unique_ptr<Checked> checked = Check(boot.Serialize(), quoted);
  EXPECT_FALSE(checked->verified->Extends(9, kSha256).has_value());
  ASSERT_EQ(checked->verified->mismatches().size(), 1u);
  EXPECT_EQ(checked->verified->mismatches()[0].pcr, 9u);
  EXPECT_TRUE(checked->verified->mismatches()[0].replayed.empty());
}

// --- Binding: facts only from bytes the digest covers. ---

TEST(BootFactsBindingTest, HonestBootsEstablishEveryFact) {
  for (bool by_value : {false, true}) {
    UefiMachine machine;
    machine.variables_hashed_by_value = by_value;
    SyntheticLog boot = UefiBoot(machine);
    std::unique_ptr<Checked> checked = Check(boot.Serialize(), TpmValues(boot));
    const BootFacts& facts = checked->facts;
    EXPECT_EQ(facts.secure_boot, std::optional<bool>(true)) << facts.secure_boot_detail;
    EXPECT_EQ(facts.platform_key_present, std::optional<bool>(true));
    EXPECT_EQ(facts.key_exchange_key_present, std::optional<bool>(true));
    EXPECT_EQ(facts.db_present, std::optional<bool>(true));
    EXPECT_EQ(facts.dbx_present, std::optional<bool>(true));
    EXPECT_EQ(facts.uefi_variable_value_only_quirk, by_value);
    EXPECT_TRUE(facts.unbound.empty());
    ASSERT_TRUE(facts.boot_applications.has_value());
    ASSERT_EQ(facts.boot_applications->size(), 3u);
    EXPECT_EQ(facts.boot_applications->at(0).digest, ImageDigest("shimx64.efi"));
    EXPECT_EQ(facts.boot_applications->at(2).device_path, "\\EFI\\BOOT\\vmlinuz");
  }
}

TEST(BootFactsBindingTest, SecureBootDataEditedKeepingTheDigestIsUnbound) {
  for (bool by_value : {false, true}) {
    UefiMachine machine;
    machine.secure_boot = false;
    machine.variables_hashed_by_value = by_value;
    SyntheticLog boot = UefiBoot(machine);
    tpm::PcrValues quoted = TpmValues(boot);
    boot.events[boot.IndexOf(7, 0)].data.back() = 1;  // SecureBoot 0 -> 1
    std::unique_ptr<Checked> checked = Check(boot.Serialize(), quoted);
    EXPECT_FALSE(checked->facts.secure_boot.has_value());
    ASSERT_EQ(checked->facts.unbound.size(), 1u);
    EXPECT_EQ(checked->facts.unbound[0].index, LoggedIndex(boot, 7, 0));
    EXPECT_EQ(checked->facts.unbound[0].pcr, 7u);
  }
}

TEST(BootFactsBindingTest, RelabelledVariableCannotSupplyAnotherVariablesFact) {
  // Value-only digests: KEK's value happens to be the byte 01. Swapping the
  // names of slot 0 (SecureBoot = 00) and slot 2 (KEK = 01) keeps every
  // digest right; position still binds the names.
  UefiMachine machine;
  machine.secure_boot = false;
  machine.variables_hashed_by_value = true;
  machine.variable_values["KEK"] = Bytes{1};
  SyntheticLog boot = UefiBoot(machine);
  tpm::PcrValues quoted = TpmValues(boot);
  LogEvent& slot0 = boot.events[boot.IndexOf(7, 0)];
  LogEvent& slot2 = boot.events[boot.IndexOf(7, 2)];
  slot0.data = test::UefiVariableData(test::kGlobalVariableGuid, "KEK", Bytes{0});
  slot2.data = test::UefiVariableData(test::kGlobalVariableGuid, "SecureBoot", Bytes{1});
  std::unique_ptr<Checked> checked = Check(boot.Serialize(), quoted);
  EXPECT_TRUE(checked->verified->mismatches().empty());
  EXPECT_FALSE(checked->facts.secure_boot.has_value());
  EXPECT_FALSE(checked->facts.key_exchange_key_present.has_value());
  EXPECT_EQ(checked->facts.unbound.size(), 2u);
  // With whole-structure digests the same swap breaks the binding itself.
  machine.variables_hashed_by_value = false;
  SyntheticLog whole = UefiBoot(machine);
  tpm::PcrValues whole_quoted = TpmValues(whole);
  std::swap(whole.events[whole.IndexOf(7, 0)].data, whole.events[whole.IndexOf(7, 2)].data);
  std::unique_ptr<Checked> swapped = Check(whole.Serialize(), whole_quoted);
  EXPECT_FALSE(swapped->facts.secure_boot.has_value());
  EXPECT_EQ(swapped->facts.unbound.size(), 2u);
}

TEST(BootFactsBindingTest, SecureBootMeasuredAfterTheSeparatorGivesNoFact) {
  // The node boots with Secure Boot off; root then extends a well-formed
  // "SecureBoot = 1" into PCR 7 and relabels the real one's type.
  UefiMachine machine;
  machine.secure_boot = false;
  SyntheticLog boot = UefiBoot(machine);
  boot.MeasureData(7, kEvEfiVariableDriverConfig,
                   test::UefiVariableData(test::kGlobalVariableGuid, "SecureBoot", Bytes{1}));
  tpm::PcrValues quoted = TpmValues(boot);
  boot.events[boot.IndexOf(7, 0)].type = kEvEfiVariableAuthority;
  std::unique_ptr<Checked> checked = Check(boot.Serialize(), quoted);
  EXPECT_EQ(checked->facts.secure_boot, std::optional<bool>(false));
  EXPECT_TRUE(checked->facts.unbound.empty());
}

TEST(BootFactsBindingTest, HiddenSeparatorLeavesNoConfiguration) {
  UefiMachine machine;
  SyntheticLog boot = UefiBoot(machine);
  tpm::PcrValues quoted = TpmValues(boot);
  boot.events[boot.IndexOf(7, 5)].type = kEvEventTag;
  std::unique_ptr<Checked> checked = Check(boot.Serialize(), quoted);
  EXPECT_FALSE(checked->facts.secure_boot.has_value());
  EXPECT_NE(checked->facts.secure_boot_detail.find("no separator"), std::string::npos);
}

TEST(BootFactsBindingTest, FirmwareOutOfTheProfilesOrderEstablishesNothing) {
  // Whole digests, but PK measured first: the firmware departs from the
  // PFP's order, so no slot is read (nothing is unbound either).
  SyntheticLog boot = UefiBoot({});
  std::swap(boot.events[boot.IndexOf(7, 0)], boot.events[boot.IndexOf(7, 1)]);
  std::unique_ptr<Checked> checked = Check(boot.Serialize(), TpmValues(boot));
  EXPECT_FALSE(checked->facts.secure_boot.has_value());
  EXPECT_FALSE(checked->facts.platform_key_present.has_value());
  EXPECT_TRUE(checked->facts.unbound.empty());
  EXPECT_NE(checked->facts.secure_boot_detail.find("not the SecureBoot variable"),
            std::string::npos)
      << checked->facts.secure_boot_detail;
}

TEST(BootFactsBindingTest, SecureBootValueOtherThanZeroOrOneEstablishesNothing) {
  UefiMachine machine;
  machine.variable_values["SecureBoot"] = Bytes{2};
  SyntheticLog boot = UefiBoot(machine);
  std::unique_ptr<Checked> checked = Check(boot.Serialize(), TpmValues(boot));
  EXPECT_FALSE(checked->facts.secure_boot.has_value());
  EXPECT_NE(checked->facts.secure_boot_detail.find("not one byte 0 or 1"), std::string::npos);
}

// --- PCR 4: the digest decides, whatever the type says. ---

std::vector<Sha256Digest> AppDigests(const BootFacts& facts) {
  std::vector<Sha256Digest> digests;
  for (const BootApplication& application : facts.boot_applications.value()) {
    digests.push_back(application.digest);
  }
  return digests;
}

TEST(BootFactsPcr4Test, RelabelledLoaderIsStillChecked) {
  UefiMachine machine;
  machine.boot_applications = {"shimx64.efi", "evil.efi"};
  SyntheticLog boot = UefiBoot(machine);
  tpm::PcrValues quoted = TpmValues(boot);
  std::size_t evil = boot.IndexOf(4, 3);  // action, separator, shim, evil
  for (std::uint32_t type : {kEvEfiBootServicesDriver, kEvEfiAction, kEvSeparator, kEvAction}) {
    boot.events[evil].type = type;
    std::unique_ptr<Checked> checked = Check(boot.Serialize(), quoted);
    EXPECT_EQ(AppDigests(checked->facts),
              (std::vector<Sha256Digest>{ImageDigest("shimx64.efi"), ImageDigest("evil.efi")}))
        << EventTypeName(type);
  }
}

TEST(BootFactsPcr4Test, ActionCarryingTheImagePreimageIsStillChecked) {
  // The data now hashes to the digest, but it is an image, not a marker.
  UefiMachine machine;
  machine.boot_applications = {"evil.efi"};
  SyntheticLog boot = UefiBoot(machine);
  tpm::PcrValues quoted = TpmValues(boot);
  LogEvent& evil = boot.events[boot.IndexOf(4, 2)];
  evil.type = kEvEfiAction;
  evil.data = test::PeImage("evil.efi");
  std::unique_ptr<Checked> checked = Check(boot.Serialize(), quoted);
  EXPECT_EQ(AppDigests(checked->facts), std::vector<Sha256Digest>{ImageDigest("evil.efi")});
}

TEST(BootFactsPcr4Test, MarkerDigestsAreCheckedWhenTheirDataIsNotBound) {
  SyntheticLog boot = UefiBoot({});
  tpm::PcrValues quoted = TpmValues(boot);
  boot.events[boot.IndexOf(4, 0)].data = ToBytes("Calling EFI Application from Boot Optiom");
  std::unique_ptr<Checked> checked = Check(boot.Serialize(), quoted);
  EXPECT_EQ(checked->facts.boot_applications->size(), 4u);
}

TEST(BootFactsPcr4Test, Sha256Pcr2And4MustBeVerified) {
  SyntheticLog boot = UefiBoot({});
  tpm::PcrValues quoted = TpmValues(boot);
  for (std::uint32_t pcr : {2u, 4u}) {
    tpm::PcrValues without = quoted;
    without[kSha256].erase(pcr);
    std::unique_ptr<Checked> checked = Check(boot.Serialize(), without);
    EXPECT_FALSE(checked->facts.boot_applications.has_value()) << pcr;
  }
  quoted.erase(kSha256);  // only sha1 quoted
  std::unique_ptr<Checked> checked = Check(boot.Serialize(), quoted);
  EXPECT_FALSE(checked->facts.boot_applications.has_value());
}

// Review R1: a loader built as a boot-service driver is measured into PCR 2,
// not PCR 4: it is checked all the same.
TEST(BootFactsPcr4Test, LoaderMeasuredAsADriverIntoPcr2IsChecked) {
  UefiMachine machine;
  machine.boot_applications = {};
  SyntheticLog boot = UefiBoot(machine);
  boot.Measure(2, kEvEfiBootServicesDriver, test::ImageLoadEvent("evil-loader.efi"),
               test::PeImage("evil-loader.efi"));
  std::unique_ptr<Checked> checked = Check(boot.Serialize(), TpmValues(boot));
  ASSERT_EQ(AppDigests(checked->facts), std::vector<Sha256Digest>{ImageDigest("evil-loader.efi")});
  EXPECT_EQ(checked->facts.boot_applications->front().pcr, 2u);
}

// --- Review findings R2, R3 and firmware's leading PCR 7 actions. ---

// R2: the firmware hashed PK's whole record (PK absent). Under the
// value-only quirk, that record wrapped as the value of a made-up "PK"
// record hashes to the digest; a key database must also parse as one.
TEST(BootFactsBindingTest, WholeHashedRecordRewrappedUnderTheQuirkIsUnbound) {
  UefiMachine machine;
  machine.variable_values["PK"] = Bytes{};  // setup mode: no PK
  SyntheticLog boot = UefiBoot(machine);
  tpm::PcrValues quoted = TpmValues(boot);
  LogEvent& pk = boot.events[boot.IndexOf(7, 1)];
  pk.data = test::UefiVariableData(test::kGlobalVariableGuid, "PK", pk.data);
  std::unique_ptr<Checked> checked = Check(boot.Serialize(), quoted);
  EXPECT_TRUE(checked->verified->mismatches().empty());
  EXPECT_FALSE(checked->facts.platform_key_present.has_value());
  ASSERT_EQ(checked->facts.unbound.size(), 1u);
  EXPECT_EQ(checked->facts.unbound[0].index, LoggedIndex(boot, 7, 1));
}

// R3: a quoted bank this OpenSSL could not replay is unknown, not at reset.
TEST(VerifiedEventLogTest, BankTheReplayCouldNotComputeIsNotAtReset) {
  SyntheticLog boot = UefiBoot({});
  Bytes bytes = boot.Serialize();
  EventLog log = ParseEventLog(bytes).value();
  tpm::PcrValues replayed = ReplayEventLog(log);
  tpm::PcrValues quoted;
  quoted[kSha256][7] = Bytes(32, 0);
  replayed.erase(kSha256);  // what a failed EVP_MD_fetch leaves
  VerifiedEventLog verified = VerifyEventLog(log, replayed, quoted, {});
  EXPECT_FALSE(verified.Extends(7, kSha256).has_value());
  ASSERT_EQ(verified.mismatches().size(), 1u);
  EXPECT_TRUE(verified.mismatches()[0].replayed.empty());
}

// Firmware may measure action strings into PCR 7 before the variables.
TEST(BootFactsBindingTest, LeadingFirmwareActionsInPcr7ShiftTheSlots) {
  for (const char* action : {"DMA Protection Disabled", "UEFI Debug Mode"}) {
    SyntheticLog boot = UefiBoot({});
    SyntheticLog with_action;
    with_action.MeasureData(7, kEvEfiAction, ToBytes(action));
    for (const LogEvent& event : boot.events) with_action.events.push_back(event);
    std::unique_ptr<Checked> checked = Check(with_action.Serialize(), TpmValues(with_action));
    EXPECT_TRUE(checked->facts.unbound.empty()) << action;
    EXPECT_EQ(checked->facts.platform_key_present, std::optional<bool>(true)) << action;
    if (std::string_view(action) == "UEFI Debug Mode") {
      EXPECT_FALSE(checked->facts.secure_boot.has_value());
      EXPECT_NE(checked->facts.secure_boot_detail.find("UEFI Debug Mode"), std::string::npos);
    } else {
      EXPECT_EQ(checked->facts.secure_boot, std::optional<bool>(true))
          << checked->facts.secure_boot_detail;
    }
  }
}

}  // namespace
}  // namespace attest::verifier
