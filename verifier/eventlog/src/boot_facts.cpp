// Boot facts from verified extends only (verifier/FORMAT.md §4): the Secure
// Boot configuration from PCR 7's first five extends, and the PCR 4
// extends a policy checks against its allowed boot applications.
#include "attest/verifier/boot_facts.h"

#include <algorithm>
#include <array>
#include <string>
#include <string_view>

#include "attest/tpm/algorithms.h"

#include "event_log_quirks.h"
#include "uefi_data.h"

namespace attest::verifier {
namespace {

// PFP §3.3.4.8: before its separator, PCR 7 measures these variables, in
// this order. A variable's position binds its GUID and name when the
// digest covers only its value (the value-only quirk), and keeps a root
// attacker, who can only extend after the firmware, from supplying any of
// them: every slot precedes PCR 7's separator.
struct Pcr7Slot {
  std::string_view name;
  std::string_view guid;
};
constexpr std::array<Pcr7Slot, 5> kPcr7Slots = {{
    {"SecureBoot", uefi::kEfiGlobalVariableGuid},
    {"PK", uefi::kEfiGlobalVariableGuid},
    {"KEK", uefi::kEfiGlobalVariableGuid},
    {"db", uefi::kEfiImageSecurityDatabaseGuid},
    {"dbx", uefi::kEfiImageSecurityDatabaseGuid},
}};
constexpr std::uint32_t kSecureBootPcr = 7;
// PFP §3.3.4: UEFI drivers and option ROMs (2) and boot applications (4).
// An image's PE subsystem picks the PCR, so a loader built as a driver
// lands in PCR 2: both are checked.
constexpr std::array<std::uint32_t, 2> kImagePcrs = {2, 4};
constexpr std::string_view kUefiDebugMode = "UEFI Debug Mode";

// Marker text longer than any the PFP defines is not a marker: an
// Authenticode preimage is far longer, and never printable.
constexpr std::size_t kMaxMarkerTextSize = 128;

bool IsMarkerText(ByteView data) {
  while (!data.empty() && data.back() == 0) data = data.first(data.size() - 1);
  return !data.empty() && data.size() <= kMaxMarkerTextSize &&
         std::ranges::all_of(data, [](std::uint8_t c) { return c >= 0x20 && c <= 0x7e; });
}

// 0x00000000, 0x00000001 (firmware error) and 0xffffffff (TCG 1.2 BIOS).
bool IsSeparatorValue(ByteView data) {
  if (data.size() != 4) return false;
  bool zeros = std::ranges::all_of(data, [](std::uint8_t c) { return c == 0; });
  bool ones = std::ranges::all_of(data, [](std::uint8_t c) { return c == 0xff; });
  bool error = data[0] == 1 && data[1] == 0 && data[2] == 0 && data[3] == 0;
  return zeros || ones || error;
}

std::string_view TextOf(ByteView data) {
  while (!data.empty() && data.back() == 0) data = data.first(data.size() - 1);
  return AsText(data);
}

// An event of `type` whose digest binds short printable text.
bool IsBoundActionText(const VerifiedExtend& extend, std::uint16_t bank, std::uint32_t type) {
  return extend.event->type == type && IsMarkerText(extend.event->data) &&
         BindingOf(extend, bank) == DataBinding::kWhole;
}

// The cheap checks first: hashing every extend's data is most of the cost
// of reading facts.
bool IsBoundSeparator(const VerifiedExtend& extend, std::uint16_t bank) {
  return extend.event->type == kEvSeparator && IsSeparatorValue(extend.event->data) &&
         BindingOf(extend, bank) == DataBinding::kWhole;
}

// A separator or an action string the firmware logs around the boot
// applications ("Calling EFI Application from Boot Option", "Calling INT
// 19h", "BOOT ATTEMPTS OMITTED"): the digest binds short printable text,
// which no loaded image hashes to.
bool IsBoundMarker(const VerifiedExtend& extend, std::uint16_t bank) {
  if (IsBoundSeparator(extend, bank)) return true;
  return std::ranges::any_of(
      std::array<std::uint32_t, 3>{kEvAction, kEvEfiAction, kEvOmitBootDeviceEvents},
      [&](std::uint32_t type) { return IsBoundActionText(extend, bank, type); });
}

std::string SlotText(std::size_t slot) {
  return "PCR 7 slot " + std::to_string(slot) + " (" + std::string(kPcr7Slots[slot].name) + ")";
}

std::optional<bool>* SlotFact(BootFacts& facts, std::size_t slot) {
  switch (slot) {
    case 0:
      return &facts.secure_boot;
    case 1:
      return &facts.platform_key_present;
    case 2:
      return &facts.key_exchange_key_present;
    case 3:
      return &facts.db_present;
    default:
      return &facts.dbx_present;
  }
}

// SecureBoot is one byte, 0 or 1; measured empty, the variable is absent:
// off. Anything else establishes nothing.
void SetSecureBoot(ByteView value, const VerifiedExtend& extend, BootFacts& facts) {
  if (value.empty() || (value.size() == 1 && value[0] <= 1)) {
    facts.secure_boot = !value.empty() && value[0] == 1;
    return;
  }
  facts.secure_boot_detail = "event " + std::to_string(extend.index) +
                             " measures a SecureBoot value of " + std::to_string(value.size()) +
                             " bytes, not one byte 0 or 1";
}

// One slot: the extend at position `slot`, a variable of the slot's name,
// bound whole or by the value-only quirk.
void ReadSlot(const VerifiedExtend& extend, std::size_t slot, std::uint16_t bank,
              BootFacts& facts) {
  DataBinding binding = BindingOf(extend, bank);
  // Under the value-only quirk a key database must also look like one: the
  // bytes of a whole-hashed record, wrapped as the value of a made-up
  // record, would otherwise pass for a key.
  if (binding == DataBinding::kUefiVariableValueOnly && slot > 0) {
    std::optional<uefi::UefiVariableData> wrapped = uefi::ParseUefiVariableData(extend.event->data);
    if (wrapped && !wrapped->data.empty() && !uefi::IsSignatureListSequence(wrapped->data)) {
      binding = DataBinding::kUnbound;
    }
  }
  std::string where = "event " + std::to_string(extend.index) + " in " + SlotText(slot);
  std::optional<uefi::UefiVariableData> variable = uefi::ParseUefiVariableData(extend.event->data);
  bool named = variable && uefi::GuidEquals(variable->guid, kPcr7Slots[slot].guid) &&
               uefi::Utf16Equals(variable->name, kPcr7Slots[slot].name);
  std::string problem;
  if (binding == DataBinding::kUnbound) {
    problem = where + ": its data is not what its digest binds";
    facts.unbound.push_back({extend.index, kSecureBootPcr, problem});
  } else if (!named && binding == DataBinding::kUefiVariableValueOnly) {
    problem = where + ": names another variable, and its digest covers only the value";
    facts.unbound.push_back({extend.index, kSecureBootPcr, problem});
  } else if (!named) {
    problem = where + ": not the " + std::string(kPcr7Slots[slot].name) +
              " variable the PC Client profile measures there";
  }
  if (!problem.empty()) {
    if (slot == 0) facts.secure_boot_detail = problem;
    return;
  }
  facts.uefi_variable_value_only_quirk |= binding == DataBinding::kUefiVariableValueOnly;
  if (slot == 0) {
    SetSecureBoot(variable->data, extend, facts);
  } else {
    *SlotFact(facts, slot) = !variable->data.empty();
  }
}

void ReadSecureBootConfiguration(const VerifiedEventLog& log, BootFacts& facts) {
  std::optional<std::uint16_t> bank = log.StrongestBank(kSecureBootPcr);
  if (!bank) {
    facts.secure_boot_detail =
        "PCR 7 is not verified: the quote does not cover it, or the log does not replay to it";
    return;
  }
  std::span<const VerifiedExtend> extends = *log.Extends(kSecureBootPcr, *bank);
  auto separator = std::ranges::find_if(
      extends, [&](const VerifiedExtend& extend) { return IsBoundSeparator(extend, *bank); });
  if (separator == extends.end()) {
    facts.secure_boot_detail =
        "PCR 7 has no separator whose data is bound, so the firmware's configuration events "
        "cannot be told from later extends";
    return;
  }
  // Action strings the firmware measures first ("UEFI Debug Mode",
  // "DMA Protection Disabled"): firmware-made, so they only shift the slots.
  std::size_t first_slot = 0;
  bool debug_mode = false;
  while (first_slot < separator->position &&
         IsBoundActionText(extends[first_slot], *bank, kEvEfiAction)) {
    debug_mode |= TextOf(extends[first_slot].event->data) == kUefiDebugMode;
    ++first_slot;
  }
  for (std::size_t slot = 0; slot < kPcr7Slots.size(); ++slot) {
    if (first_slot + slot >= separator->position) {
      if (slot == 0) facts.secure_boot_detail = "the firmware measured no SecureBoot variable";
      break;
    }
    ReadSlot(extends[first_slot + slot], slot, *bank, facts);
  }
  if (debug_mode && facts.secure_boot) {
    facts.secure_boot.reset();
    facts.secure_boot_detail =
        "the firmware measured \"UEFI Debug Mode\": a firmware debugger can undo whatever "
        "Secure Boot enforces";
  }
}

BootApplication ImageOf(const VerifiedExtend& extend, std::uint32_t pcr) {
  BootApplication application;
  application.index = extend.index;
  application.pcr = pcr;
  std::ranges::copy(extend.digest, application.digest.begin());
  application.type = extend.event->type;
  if (std::optional<uefi::UefiImageLoadEvent> image =
          uefi::ParseUefiImageLoadEvent(extend.event->data)) {
    application.device_path = uefi::DevicePathToText(image->device_path);
  }
  return application;
}

void ReadBootApplications(const VerifiedEventLog& log, BootFacts& facts) {
  for (std::uint32_t pcr : kImagePcrs) {
    if (!log.Extends(pcr, kTpmAlgSha256)) return;  // one unverified PCR: nothing is established
  }
  std::vector<BootApplication>& applications = facts.boot_applications.emplace();
  for (std::uint32_t pcr : kImagePcrs) {
    std::span<const VerifiedExtend> extends = *log.Extends(pcr, kTpmAlgSha256);
    for (const VerifiedExtend& extend : extends) {
      if (!IsBoundMarker(extend, kTpmAlgSha256)) applications.push_back(ImageOf(extend, pcr));
    }
  }
  std::ranges::sort(applications, {}, &BootApplication::index);
}

}  // namespace

DataBinding BindingOf(const VerifiedExtend& extend, std::uint16_t bank) {
  std::optional<tpm::HashAlgorithm> algorithm = tpm::HashAlgorithmById(bank);
  if (!algorithm) return DataBinding::kUnbound;
  Result<Bytes> whole = tpm::HashWith(*algorithm, extend.event->data);
  if (whole.ok() && std::ranges::equal(*whole, extend.digest)) return DataBinding::kWhole;
  if (quirks::DigestIsOfUefiVariableValue(extend.event->data, extend.digest, *algorithm)) {
    return DataBinding::kUefiVariableValueOnly;
  }
  return DataBinding::kUnbound;
}

BootFacts ExtractBootFacts(const VerifiedEventLog& log) {
  BootFacts facts;
  ReadSecureBootConfiguration(log, facts);
  ReadBootApplications(log, facts);
  return facts;
}

}  // namespace attest::verifier
