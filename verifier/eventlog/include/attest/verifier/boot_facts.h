// What a boot policy may decide on, read only from a VerifiedEventLog. A
// fact comes from an event only when the event's digest, in a verified
// bank, binds the bytes the fact is read from; verifier/FORMAT.md §4 lists
// the rule for each fact. Everything else in the log is for people to read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "attest/sha256.h"
#include "attest/verifier/verified_event_log.h"

namespace attest::verifier {

// How an event's data relates to the digest that replay vouches for.
enum class DataBinding {
  kUnbound,  // the data does not hash to the digest: it says nothing
  kWhole,    // digest = H(data): every byte of the data is bound
  // Named firmware quirk: a UEFI variable event whose digest is H(VariableData)
  // alone. The value is bound; the GUID and name are not (position binds them).
  kUefiVariableValueOnly,
};

// kWhole, else kUefiVariableValueOnly when the data is a UEFI_VARIABLE_DATA
// whose value hashes to the digest, else kUnbound. `bank` is the bank the
// extend was verified in.
DataBinding BindingOf(const VerifiedExtend& extend, std::uint16_t bank);

// An event that sits where a fact is read but whose data is not bound (or,
// under the value-only quirk, names another variable than its position).
struct UnboundEvent {
  std::size_t index = 0;  // in EventLog::events
  std::uint32_t pcr = 0;
  std::string detail;
};

// One image the firmware measured, which a policy checks against its
// allowed boot applications: every extend of PCRs 2 (drivers) and 4 (boot
// applications) but bound separators and action strings.
struct BootApplication {
  std::size_t index = 0;    // in EventLog::events
  std::uint32_t pcr = 0;    // 2 or 4
  Sha256Digest digest{};    // the sha256 digest the TPM extended
  std::uint32_t type = 0;   // as logged: display only
  std::string device_path;  // as logged: display only, may be empty
};

struct BootFacts {
  // The SecureBoot variable of PCR 7's first slot: nullopt when not
  // established (secure_boot_detail says why), including when the firmware
  // measured "UEFI Debug Mode".
  std::optional<bool> secure_boot;
  std::string secure_boot_detail;
  // PK, KEK, db and dbx from the next four slots: measured non-empty, or
  // nullopt when not established.
  std::optional<bool> platform_key_present;
  std::optional<bool> key_exchange_key_present;
  std::optional<bool> db_present;
  std::optional<bool> dbx_present;
  // A slot was bound only through the value-only quirk.
  bool uefi_variable_value_only_quirk = false;
  // PCR 2's and PCR 4's images in the sha256 bank, in log order; nullopt
  // when sha256 PCR 2 or 4 is not verified (not quoted, or its replay does
  // not match).
  std::optional<std::vector<BootApplication>> boot_applications;
  std::vector<UnboundEvent> unbound;
};

BootFacts ExtractBootFacts(const VerifiedEventLog& log);

}  // namespace attest::verifier
