// The operator's summary of a log: separators, ExitBootServices, and what
// grub or systemd-boot measured as text (PCRs 8, 9, 12). Unverified claims:
// nothing here reaches a verdict (boot_summary.cpp has what does).
#include <string>

#include "attest/verifier/event_log.h"

#include "uefi_data.h"

namespace attest::verifier {
namespace {

constexpr std::string_view kExitBootServicesInvocation = "Exit Boot Services Invocation";
// grub 2.04+ ("kernel_cmdline: ") and the RHEL/Fedora grub patches
// ("grub_kernel_cmdline ").
constexpr std::string_view kKernelCmdlinePrefixes[] = {"kernel_cmdline: ", "grub_kernel_cmdline "};

void NoteIpl(const BootEvent& event, BootLogSummary& summary) {
  bool load_options_pcr = event.pcr == 8 || event.pcr == 9 || event.pcr == 12;
  if (load_options_pcr && uefi::LooksLikeUtf16Ascii(event.data)) {
    std::string text = uefi::PrintableUtf16(event.data);
    // systemd-boot pads load options with spaces.
    std::size_t first = text.find_first_not_of(' ');
    std::size_t last = text.find_last_not_of(' ');
    summary.kernel_command_lines.push_back(
        first == std::string::npos ? std::string() : text.substr(first, last - first + 1));
    return;
  }
  std::string text = uefi::PrintableAscii(event.data);
  for (std::string_view prefix : kKernelCmdlinePrefixes) {
    if (text.starts_with(prefix)) {
      summary.kernel_command_lines.push_back(text.substr(prefix.size()));
      return;
    }
  }
  summary.ipl_texts.push_back(std::move(text));
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

BootLogSummary SummarizeBootLog(const EventLog& log) {
  BootLogSummary summary;
  for (const BootEvent& event : log.events) {
    switch (event.type) {
      case kEvSeparator:
        ++summary.separators[event.pcr];
        summary.separator_error |= IsSeparatorError(event.data);
        break;
      case kEvEfiAction:
        summary.exit_boot_services_seen |= IsExitBootServicesInvocation(event.data);
        break;
      case kEvIpl:
        NoteIpl(event, summary);
        break;
      default:
        break;
    }
  }
  return summary;
}

}  // namespace attest::verifier
