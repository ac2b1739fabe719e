// The operator's summary and the two renderers, on real logs whose content
// the sidecar notes describe (grub / systemd-boot command lines, missing
// ExitBootServices events). boot_facts_test.cpp has what policy reads.
#include <string>

#include <gtest/gtest.h>

#include "attest/encoding.h"
#include "attest/testdata.h"
#include "attest/verifier/event_log.h"

#include "event_log_test_util.h"

namespace attest::verifier {
namespace {

using test::LogBuilder;
using test::ReadEventLog;

struct Parsed {
  Bytes bytes;  // the EventLog borrows it
  EventLog log;
};

Parsed Parse(const std::string& name) {
  Parsed parsed{ReadEventLog(name), {}};
  Result<EventLog> log = ParseEventLog(parsed.bytes);
  EXPECT_TRUE(log.ok()) << name << ": " << log.error().ToString();
  if (log.ok()) parsed.log = std::move(log).value();
  return parsed;
}

TEST(EventLogSummaryTest, Separators) {
  ATTEST_NEED_SHARED_TESTDATA();
  Parsed rhel = Parse("gotpmtools_rhel8-uefi.bin");
  BootLogSummary summary = SummarizeBootLog(rhel.log);
  for (std::uint32_t pcr = 0; pcr <= 7; ++pcr) {
    EXPECT_EQ(summary.separators[pcr], 1u) << "PCR " << pcr;
  }
  EXPECT_FALSE(summary.separator_error);
  EXPECT_TRUE(summary.exit_boot_services_seen);
}

TEST(EventLogSummaryTest, ExitBootServicesMissing) {
  ATTEST_NEED_SHARED_TESTDATA();
  BootLogSummary summary = SummarizeBootLog(Parse("goattest_ebs_event_missing_eventlog.bin").log);
  EXPECT_FALSE(summary.exit_boot_services_seen);
}

TEST(EventLogSummaryTest, GrubKernelCommandLine) {
  ATTEST_NEED_SHARED_TESTDATA();
  BootLogSummary ubuntu = SummarizeBootLog(Parse("gotpmtools_ubuntu-2104-no-secure-boot.bin").log);
  ASSERT_EQ(ubuntu.kernel_command_lines.size(), 1u);
  EXPECT_EQ(ubuntu.kernel_command_lines[0],
            "/boot/vmlinuz-5.11.0-1006-gcp root=PARTUUID=6443a6ae-e5e9-4df7-9a06-d1329e50f33c ro "
            "console=ttyS0 panic=-1");
  EXPECT_NE(
      std::find(ubuntu.ipl_texts.begin(), ubuntu.ipl_texts.end(), "/boot/vmlinuz-5.11.0-1006-gcp"),
      ubuntu.ipl_texts.end());

  BootLogSummary rhel = SummarizeBootLog(Parse("gotpmtools_rhel8-uefi.bin").log);
  ASSERT_EQ(rhel.kernel_command_lines.size(), 1u);
  EXPECT_TRUE(rhel.kernel_command_lines[0].starts_with(
      "(hd0,gpt2)/boot/vmlinuz-4.18.0-240.22.1.el8_3.x86_64 root=UUID="))
      << rhel.kernel_command_lines[0];
  EXPECT_NE(std::find(rhel.ipl_texts.begin(), rhel.ipl_texts.end(), "grub_cmd set pager=1"),
            rhel.ipl_texts.end());
}

TEST(EventLogSummaryTest, SystemdBootLoadOptions) {
  ATTEST_NEED_SHARED_TESTDATA();
  BootLogSummary summary = SummarizeBootLog(Parse("tpm2tools_event-sd-boot-fedora37.bin").log);
  ASSERT_FALSE(summary.kernel_command_lines.empty());
  EXPECT_EQ(summary.kernel_command_lines[0], "console=ttyS0 console=tty0 efi=debug");
}

TEST(EventLogSummaryTest, SeparatorErrorValue) {
  const std::vector<std::pair<std::uint16_t, std::uint16_t>> banks = {{0x000B, 32}};
  LogBuilder builder;
  builder.SpecId(banks)
      .AgileEvent(0, kEvSeparator, banks, 0, AsBytes(std::string_view("\0\0\0\0", 4)))
      .AgileEvent(1, kEvSeparator, banks, 0, AsBytes(std::string_view("\1\0\0\0", 4)));
  Result<EventLog> log = ParseEventLog(builder.bytes());
  ASSERT_TRUE(log.ok()) << log.error().ToString();
  BootLogSummary summary = SummarizeBootLog(*log);
  EXPECT_TRUE(summary.separator_error);
  EXPECT_EQ(summary.separators.size(), 2u);
}

TEST(EventLogRenderTest, JsonShape) {
  ATTEST_NEED_SHARED_TESTDATA();
  Parsed keylime = Parse("keylime_mb_log.bin");
  tpm::PcrValues pcrs = ReplayEventLog(keylime.log);
  nlohmann::json json = EventLogToJson(keylime.log, pcrs);
  ASSERT_TRUE(json.is_object());
  ASSERT_EQ(json.size(), 2u);
  ASSERT_EQ(json["events"].size(), 102u);
  const nlohmann::json& spec = json["events"][0];
  EXPECT_EQ(spec["index"], 0);
  EXPECT_EQ(spec["offset"], 0);
  EXPECT_EQ(spec["pcr"], 0);
  EXPECT_EQ(spec["type"], "EV_NO_ACTION");
  EXPECT_EQ(spec["type_value"], 3);
  EXPECT_EQ(spec["digests"]["sha1"], std::string(40, '0'));
  EXPECT_EQ(spec["data"]["signature"], "Spec ID Event03");
  EXPECT_EQ(spec["data"]["algorithms"][0]["algorithm"], "sha256");
  for (const nlohmann::json& event : json["events"]) {
    for (const char* key : {"index", "offset", "pcr", "type", "type_value", "digests", "data"}) {
      EXPECT_TRUE(event.contains(key)) << key;
    }
    EXPECT_TRUE(event["data"].is_object());
  }
  const nlohmann::json& second = json["events"][1];
  EXPECT_EQ(second["offset"], keylime.log.events[1].offset);
  EXPECT_TRUE(second["digests"].contains("sha256"));
  EXPECT_EQ(json["pcrs"]["sha256"]["0"], HexEncode(pcrs.at(0x000B).at(0)));
  EXPECT_EQ(json["pcrs"]["sha256"].size(), 11u);
  EXPECT_NO_THROW(json.dump());
}

TEST(EventLogRenderTest, JsonDecodesVariablesAndStartupLocality) {
  ATTEST_NEED_SHARED_TESTDATA();
  Parsed alex = Parse("gotpmtools_glinux-alex.bin");
  nlohmann::json json = EventLogToJson(alex.log, ReplayEventLog(alex.log));
  bool locality = false;
  bool secure_boot = false;
  for (const nlohmann::json& event : json["events"]) {
    if (event["data"].contains("startup_locality")) {
      locality = true;
      EXPECT_EQ(event["data"]["startup_locality"], 3);
    }
    if (event["data"].value("variable_name", "") == "SecureBoot") {
      secure_boot = true;
      EXPECT_EQ(event["data"]["variable_guid"], "8be4df61-93ca-11d2-aa0d-00e098032b8c");
    }
  }
  EXPECT_TRUE(locality);
  EXPECT_TRUE(secure_boot);
}

TEST(EventLogRenderTest, TextHasEventsAndPcrLines) {
  ATTEST_NEED_SHARED_TESTDATA();
  Parsed keylime = Parse("keylime_mb_log.bin");
  tpm::PcrValues pcrs = ReplayEventLog(keylime.log);
  std::string text = RenderEventLogText(keylime.log, pcrs);
  EXPECT_NE(text.find("Event 0 (offset 0): PCR 0 EV_NO_ACTION (0x00000003)"), std::string::npos);
  EXPECT_NE(text.find("EV_SEPARATOR"), std::string::npos);
  EXPECT_NE(text.find("PCRs:\n  sha256:\n"), std::string::npos);
  for (const auto& [pcr, value] : pcrs.at(0x000B)) {
    char line[8];
    std::snprintf(line, sizeof(line), "%2u: ", pcr);
    EXPECT_NE(text.find(std::string(line) + HexEncode(value)), std::string::npos) << pcr;
  }
}

TEST(EventLogRenderTest, TypeNames) {
  EXPECT_EQ(EventTypeName(kEvSeparator), "EV_SEPARATOR");
  EXPECT_EQ(EventTypeName(kEvEfiHcrtmEvent), "EV_EFI_HCRTM_EVENT");
  EXPECT_EQ(EventTypeName(0x8401), "EV_UNKNOWN");
}

}  // namespace
}  // namespace attest::verifier
