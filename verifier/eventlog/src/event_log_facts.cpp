// Boot facts for policy: Secure Boot state and keys (PCR 7), loaded UEFI
// applications, separators, ExitBootServices, and what grub or
// systemd-boot measured as text (PCRs 8, 9, 12).
#include <string>

#include "attest/verifier/event_log.h"

#include "uefi_data.h"

namespace attest::verifier {
namespace {

using uefi::GuidEquals;
using uefi::kEfiGlobalVariableGuid;
using uefi::kEfiImageSecurityDatabaseGuid;
using uefi::Utf16Equals;

constexpr std::string_view kExitBootServicesInvocation = "Exit Boot Services Invocation";
// grub 2.04+ ("kernel_cmdline: ") and the RHEL/Fedora grub patches
// ("grub_kernel_cmdline ").
constexpr std::string_view kKernelCmdlinePrefixes[] = {"kernel_cmdline: ", "grub_kernel_cmdline "};

// PFP §10.4.4: Secure Boot configuration variables are measured to PCR 7.
void NoteSecureBootVariable(const BootEvent& event, BootFacts& facts) {
  if (event.pcr != 7) return;
  std::optional<uefi::UefiVariableData> variable = uefi::ParseUefiVariableData(event.data);
  if (!variable) return;
  bool present = !variable->data.empty();
  if (GuidEquals(variable->guid, kEfiGlobalVariableGuid)) {
    if (Utf16Equals(variable->name, "SecureBoot")) {
      // An absent variable is measured with no data and means "off"; if the
      // log measures it more than once, any "off" wins.
      bool on = variable->data.size() == 1 && variable->data[0] == 1;
      facts.secure_boot = facts.secure_boot.value_or(true) && on;
    } else if (Utf16Equals(variable->name, "PK")) {
      facts.platform_key_present |= present;
    } else if (Utf16Equals(variable->name, "KEK")) {
      facts.key_exchange_key_present |= present;
    }
  } else if (GuidEquals(variable->guid, kEfiImageSecurityDatabaseGuid)) {
    if (Utf16Equals(variable->name, "db")) {
      facts.db_present |= present;
    } else if (Utf16Equals(variable->name, "dbx")) {
      facts.dbx_present |= present;
    }
  }
}

void NoteBootApplication(const BootEvent& event, BootFacts& facts) {
  BootApplication application;
  application.pcr = event.pcr;
  for (const EventDigest& digest : event.digests) {
    application.digests.emplace(digest.algorithm_id,
                                Bytes(digest.digest.begin(), digest.digest.end()));
  }
  if (std::optional<uefi::UefiImageLoadEvent> image = uefi::ParseUefiImageLoadEvent(event.data)) {
    application.device_path = uefi::DevicePathToText(image->device_path);
  }
  facts.boot_applications.push_back(std::move(application));
}

void NoteIpl(const BootEvent& event, BootFacts& facts) {
  bool load_options_pcr = event.pcr == 8 || event.pcr == 9 || event.pcr == 12;
  if (load_options_pcr && uefi::LooksLikeUtf16Ascii(event.data)) {
    std::string text = uefi::PrintableUtf16(event.data);
    // systemd-boot pads load options with spaces.
    std::size_t first = text.find_first_not_of(' ');
    std::size_t last = text.find_last_not_of(' ');
    facts.kernel_command_lines.push_back(
        first == std::string::npos ? std::string() : text.substr(first, last - first + 1));
    return;
  }
  std::string text = uefi::PrintableAscii(event.data);
  for (std::string_view prefix : kKernelCmdlinePrefixes) {
    if (text.starts_with(prefix)) {
      facts.kernel_command_lines.push_back(text.substr(prefix.size()));
      return;
    }
  }
  facts.ipl_texts.push_back(std::move(text));
}

bool IsSeparatorError(ByteView data) {
  return data.size() == 4 && data[0] == 1 && data[1] == 0 && data[2] == 0 && data[3] == 0;
}

// EV_EFI_ACTION data is the ASCII text, sometimes NUL-terminated.
bool IsExitBootServicesInvocation(ByteView data) {
  while (!data.empty() && data.back() == 0) data = data.first(data.size() - 1);
  return AsText(data) == kExitBootServicesInvocation;
}

}  // namespace

BootFacts ExtractBootFacts(const EventLog& log) {
  BootFacts facts;
  for (const BootEvent& event : log.events) {
    switch (event.type) {
      case kEvEfiVariableDriverConfig:
        NoteSecureBootVariable(event, facts);
        break;
      case kEvEfiBootServicesApplication:
        NoteBootApplication(event, facts);
        break;
      case kEvSeparator:
        ++facts.separators[event.pcr];
        facts.separator_error |= IsSeparatorError(event.data);
        break;
      case kEvEfiAction:
        facts.exit_boot_services_seen |= IsExitBootServicesInvocation(event.data);
        break;
      case kEvIpl:
        NoteIpl(event, facts);
        break;
      default:
        break;
    }
  }
  return facts;
}

}  // namespace attest::verifier
