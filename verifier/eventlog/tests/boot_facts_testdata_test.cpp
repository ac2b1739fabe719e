// Boot facts of the shared real logs, each verified against the PCRs its
// source recorded (its sidecar): the binding rules establish what the logs
// show and turn none of them into a failure.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "attest/verifier/boot_facts.h"
#include "attest/verifier/event_log.h"

#include "boot_facts_test_util.h"
#include "event_log_test_util.h"

namespace attest::verifier {
namespace {

using testing::Checked;
using testing::CheckRealLog;
using testing::kSha256;

TEST(BootFactsRealLogTest, SecureBootOn) {
  for (const char* name :
       {"gotpmtools_rhel8-uefi.bin", "gotpmtools_debian-10.bin", "keylime_mb_log.bin",
        "gotpmtools_cos-101-amd-sev.bin", "goattest_sb_cert_eventlog.bin",
        "goattest_windows_gcp_shielded_vm.bin", "tcglogparser_binary_bios_measurements.bin"}) {
    std::unique_ptr<Checked> checked = CheckRealLog(name);
    EXPECT_EQ(checked->facts.secure_boot, std::optional<bool>(true))
        << name << ": " << checked->facts.secure_boot_detail;
    EXPECT_EQ(checked->facts.platform_key_present, std::optional<bool>(true)) << name;
    EXPECT_EQ(checked->facts.db_present, std::optional<bool>(true)) << name;
    EXPECT_FALSE(checked->facts.uefi_variable_value_only_quirk) << name;
  }
}

TEST(BootFactsRealLogTest, SecureBootOffOrAbsent) {
  for (const char* name :
       {"gotpmtools_ubuntu-2104-no-secure-boot.bin", "gotpmtools_glinux-alex.bin",
        "rustkeylime_uefi_log.bin", "fwupd_binary_bios_measurements-v1.bin",
        // SecureBoot measured with no data: the variable is absent.
        "gotpmtools_arch-linux-workstation.bin", "tpm2tools_event-sd-boot-fedora37.bin"}) {
    std::unique_ptr<Checked> checked = CheckRealLog(name);
    EXPECT_EQ(checked->facts.secure_boot, std::optional<bool>(false))
        << name << ": " << checked->facts.secure_boot_detail;
  }
}

TEST(BootFactsRealLogTest, ValueOnlyVariableDigestsAreANamedQuirk) {
  // A TPM 1.2 machine whose firmware hashed only the variables' values.
  std::unique_ptr<Checked> checked = CheckRealLog("goattest_linux_tpm12.bin");
  EXPECT_EQ(checked->facts.secure_boot, std::optional<bool>(false))
      << checked->facts.secure_boot_detail;
  EXPECT_TRUE(checked->facts.uefi_variable_value_only_quirk);
  EXPECT_EQ(checked->facts.key_exchange_key_present, std::optional<bool>(true));
  EXPECT_TRUE(checked->facts.unbound.empty());
}

std::vector<BootApplication> InPcr(const BootFacts& facts, std::uint32_t pcr) {
  std::vector<BootApplication> found;
  for (const BootApplication& application : facts.boot_applications.value()) {
    if (application.pcr == pcr) found.push_back(application);
  }
  return found;
}

TEST(BootFactsRealLogTest, BootApplicationsAreEveryPcr2And4ExtendButMarkers) {
  std::unique_ptr<Checked> rhel = CheckRealLog("gotpmtools_rhel8-uefi.bin");
  ASSERT_TRUE(rhel->facts.boot_applications.has_value());
  // "Calling EFI Application from Boot Option" and the separators are
  // markers; shim, grub and the kernel are checked (PCR 2 has no driver).
  ASSERT_EQ(rhel->facts.boot_applications->size(), 3u);
  const BootApplication& shim = rhel->facts.boot_applications->front();
  EXPECT_EQ(shim.type, kEvEfiBootServicesApplication);
  EXPECT_NE(shim.device_path.find("\\EFI\\redhat\\shimx64.efi"), std::string::npos)
      << shim.device_path;
  EXPECT_EQ((*rhel->facts.boot_applications)[1].device_path, "\\EFI\\redhat\\grubx64.efi");
  const EventDigest* logged = rhel->log.events[shim.index].digests.Find(kSha256);
  ASSERT_NE(logged, nullptr);
  EXPECT_TRUE(std::ranges::equal(shim.digest, logged->digest));

  // A BIOS log: the MBR's EV_IPL is checked like any loaded code, the
  // EV_ACTION strings and the 0xffffffff separator are markers; PCR 2's
  // option ROMs are checked too.
  std::unique_ptr<Checked> bios = CheckRealLog("imaverify_e5460c7_binary_bios_measurements.bin");
  ASSERT_TRUE(bios->facts.boot_applications.has_value());
  std::vector<BootApplication> pcr4 = InPcr(bios->facts, 4);
  ASSERT_EQ(pcr4.size(), 1u);
  EXPECT_EQ(pcr4.front().type, kEvIpl);
  EXPECT_EQ(InPcr(bios->facts, 2).size(), bios->facts.boot_applications->size() - 1);

  // UEFI drivers from option ROMs (PCR 2) are images like any other.
  std::unique_ptr<Checked> keylime = CheckRealLog("rustkeylime_uefi_log.bin");
  std::vector<BootApplication> drivers = InPcr(keylime->facts, 2);
  EXPECT_EQ(drivers.size(), 8u);  // five and one after the separator, a runtime driver, 0x8401
  EXPECT_TRUE(std::ranges::any_of(drivers, [](const BootApplication& driver) {
    return driver.type == kEvEfiBootServicesDriver;
  }));
  EXPECT_FALSE(bios->facts.secure_boot.has_value());
  EXPECT_EQ(bios->facts.secure_boot_detail, "the firmware measured no SecureBoot variable");
}

// Every real log verifies against its sidecar's PCRs with no fact-bearing
// event unbound: the binding rules turn no real log into a failure.
TEST(BootFactsRealLogTest, NoRealLogHasAnUnboundEvent) {
  std::size_t checked_logs = 0;
  for (const std::string& name : testing::EventLogFiles()) {
    nlohmann::json sidecar = testing::ReadSidecar(name);
    if (sidecar["expected_result"] != "accept") continue;
    std::unique_ptr<Checked> checked = CheckRealLog(name);
    ASSERT_TRUE(checked->verified.has_value()) << name;
    std::size_t verified_pcrs = 0;
    for (std::uint32_t pcr = 0; pcr < tpm::kPcrCount; ++pcr) {
      verified_pcrs += checked->verified->StrongestBank(pcr).has_value() ? 1 : 0;
    }
    EXPECT_GT(verified_pcrs, 0u) << name;
    EXPECT_TRUE(checked->verified->mismatches().empty()) << name;
    EXPECT_TRUE(checked->verified->unexplained_banks().empty()) << name;
    for (const UnboundEvent& unbound : checked->facts.unbound) {
      ADD_FAILURE() << name << ": event " << unbound.index << ": " << unbound.detail;
    }
    ++checked_logs;
  }
  EXPECT_GE(checked_logs, 24u);
}

// The binding the marker rules rely on: on real firmware, separators and
// action strings are hashed exactly as logged.
TEST(BootFactsRealLogTest, SeparatorsAndActionsAreHashedAsLoggedOnRealFirmware) {
  std::size_t markers = 0;
  for (const std::string& name : testing::EventLogFiles()) {
    if (testing::ReadSidecar(name)["expected_result"] != "accept") continue;
    std::unique_ptr<Checked> checked = CheckRealLog(name);
    for (std::uint32_t pcr = 0; pcr < tpm::kPcrCount; ++pcr) {
      std::optional<std::uint16_t> bank = checked->verified->StrongestBank(pcr);
      if (!bank) continue;
      std::span<const VerifiedExtend> extends = *checked->verified->Extends(pcr, *bank);
      for (const VerifiedExtend& extend : extends) {
        std::uint32_t type = extend.event->type;
        if (type != kEvSeparator && type != kEvEfiAction && type != kEvAction) continue;
        EXPECT_EQ(BindingOf(extend, *bank), DataBinding::kWhole)
            << name << " event " << extend.index << " (" << EventTypeName(type) << ")";
        ++markers;
      }
    }
  }
  EXPECT_GE(markers, 200u);
}

}  // namespace
}  // namespace attest::verifier
