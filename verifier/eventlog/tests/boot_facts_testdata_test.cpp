// Boot facts of the real logs (the repository's OVMF fixtures and the shared
// set's), each verified against the PCRs its source recorded (its sidecar):
// the binding rules establish what the logs show and turn none of them into
// a failure.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "attest/testdata.h"
#include "attest/verifier/boot_facts.h"
#include "attest/verifier/event_log.h"

#include "boot_facts_test_util.h"
#include "event_log_test_util.h"

namespace attest::verifier {
namespace {

using test::Checked;
using test::CheckFixtureLog;
using test::CheckLogAt;
using test::CheckRealLog;
using test::kSha256;

TEST(BootFactsRealLogTest, SecureBootOn) {
  ATTEST_NEED_SHARED_TESTDATA();
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
  ATTEST_NEED_SHARED_TESTDATA();
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
  ATTEST_NEED_SHARED_TESTDATA();
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
  ATTEST_NEED_SHARED_TESTDATA();
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

// The repository's Secure Boot fixture (scripts/measured-boot): OVMF with
// Debian's PK and Microsoft's KEK/db, then shim, grub and the kernel from
// the ESP. Every PCR 7 slot is bound; PCR 4 holds shim, grub and the kernel,
// which shim's loader and the firmware both measured (same digest).
TEST(BootFactsFixtureTest, SecureBootOnBindsTheKeysAndFindsShimGrubAndTheKernel) {
  std::unique_ptr<Checked> on = CheckFixtureLog("ovmf-sb-on.bin");
  EXPECT_EQ(on->facts.secure_boot, std::optional<bool>(true)) << on->facts.secure_boot_detail;
  EXPECT_EQ(on->facts.platform_key_present, std::optional<bool>(true));
  EXPECT_EQ(on->facts.key_exchange_key_present, std::optional<bool>(true));
  EXPECT_EQ(on->facts.db_present, std::optional<bool>(true));
  EXPECT_EQ(on->facts.dbx_present, std::optional<bool>(true));
  EXPECT_FALSE(on->facts.uefi_variable_value_only_quirk);
  EXPECT_TRUE(on->facts.unbound.empty());
  ASSERT_TRUE(on->facts.boot_applications.has_value());
  EXPECT_TRUE(InPcr(on->facts, 2).empty());
  std::vector<BootApplication> pcr4 = InPcr(on->facts, 4);
  ASSERT_EQ(pcr4.size(), 4u);
  for (const BootApplication& application : pcr4) {
    EXPECT_EQ(application.type, kEvEfiBootServicesApplication);
    const EventDigest* logged = on->log.events[application.index].digests.Find(kSha256);
    ASSERT_NE(logged, nullptr);
    EXPECT_TRUE(std::ranges::equal(application.digest, logged->digest));
  }
  EXPECT_TRUE(pcr4[0].device_path.ends_with("/\\EFI\\BOOT\\BOOTX64.EFI")) << pcr4[0].device_path;
  EXPECT_EQ(pcr4[1].device_path, "\\EFI\\BOOT\\grubx64.efi");
  EXPECT_EQ(pcr4[2].digest, pcr4[3].digest);  // the kernel, twice
  EXPECT_NE(pcr4[2].digest, pcr4[0].digest);
  EXPECT_NE(pcr4[2].digest, pcr4[1].digest);
}

// The Secure Boot off fixture: OVMF with no keys enrolled, the kernel loaded
// by QEMU's direct-boot loader (-kernel), the one PCR 4 image.
TEST(BootFactsFixtureTest, SecureBootOffHasNoKeysAndFindsTheKernel) {
  std::unique_ptr<Checked> off = CheckFixtureLog("ovmf-sb-off.bin");
  EXPECT_EQ(off->facts.secure_boot, std::optional<bool>(false)) << off->facts.secure_boot_detail;
  EXPECT_EQ(off->facts.platform_key_present, std::optional<bool>(false));
  EXPECT_EQ(off->facts.key_exchange_key_present, std::optional<bool>(false));
  EXPECT_EQ(off->facts.db_present, std::optional<bool>(false));
  EXPECT_EQ(off->facts.dbx_present, std::optional<bool>(false));
  EXPECT_TRUE(off->facts.unbound.empty());
  ASSERT_TRUE(off->facts.boot_applications.has_value());
  ASSERT_EQ(off->facts.boot_applications->size(), 1u);
  const BootApplication& kernel = off->facts.boot_applications->front();
  EXPECT_EQ(kernel.pcr, 4u);
  EXPECT_EQ(kernel.type, kEvEfiBootServicesApplication);
  EXPECT_EQ(kernel.device_path, "Path(4,3)/kernel");
}

// Every real log verifies against its sidecar's PCRs with no fact-bearing
// event unbound: the binding rules turn no real log into a failure.
TEST(BootFactsRealLogTest, NoRealLogHasAnUnboundEvent) {
  std::size_t checked_logs = 0;
  for (const std::string& name : test::AllEventLogPaths()) {
    nlohmann::json sidecar = test::ReadSidecarAt(name);
    if (sidecar["expected_result"] != "accept") continue;
    std::unique_ptr<Checked> checked = CheckLogAt(name);
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
  EXPECT_GE(checked_logs, testdata::SharedPresent() ? 26u : 2u);
}

// The binding the marker rules rely on: on real firmware, separators and
// action strings are hashed exactly as logged.
TEST(BootFactsRealLogTest, SeparatorsAndActionsAreHashedAsLoggedOnRealFirmware) {
  std::size_t markers = 0;
  for (const std::string& name : test::AllEventLogPaths()) {
    if (test::ReadSidecarAt(name)["expected_result"] != "accept") continue;
    std::unique_ptr<Checked> checked = CheckLogAt(name);
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
  EXPECT_GE(markers, testdata::SharedPresent() ? 200u : 20u);
}

}  // namespace
}  // namespace attest::verifier
