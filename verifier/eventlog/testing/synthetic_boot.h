// A UEFI boot built in memory: a crypto-agile event log whose every digest
// is the hash of what the firmware measured, so the PCR values it replays
// to are the ones a TPM would hold. Tests and the soundness fuzzer boot a
// synthetic machine this way and then, as a root attacker on the node
// would, rewrite what the log says (types, data, unquoted banks) or extend
// more (which changes the quote). Needs nothing outside the repository.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "attest/bytes.h"
#include "attest/sha256.h"

namespace attest::verifier::test {

inline constexpr std::uint16_t kSha1 = 0x0004;
inline constexpr std::uint16_t kSha256 = 0x000B;

// One record as it will be written: everything editable.
struct LogEvent {
  std::uint32_t pcr = 0;
  std::uint32_t type = 0;
  std::map<std::uint16_t, Bytes> digests;  // bank -> digest
  Bytes data;
};

class SyntheticLog {
 public:
  explicit SyntheticLog(std::vector<std::uint16_t> banks = {kSha1, kSha256});

  // Appends an extend whose digest in every bank is H(measured), logging
  // `data` (the same bytes, unless the firmware hashes something else, as
  // for an image or a value-only variable).
  SyntheticLog& Measure(std::uint32_t pcr, std::uint32_t type, ByteView data, ByteView measured);
  SyntheticLog& MeasureData(std::uint32_t pcr, std::uint32_t type, ByteView data) {
    return Measure(pcr, type, data, data);
  }
  // The index in `events` of the `position`-th extend of `pcr`.
  std::size_t IndexOf(std::uint32_t pcr, std::size_t position) const;
  // The Spec ID event, then every event, as binary_bios_measurements.
  Bytes Serialize() const;

  std::vector<std::uint16_t> banks;
  std::vector<LogEvent> events;
};

// UEFI_VARIABLE_DATA for `guid` (text form) and an ASCII `name`.
Bytes UefiVariableData(std::string_view guid, std::string_view name, ByteView value);
// One EFI_SIGNATURE_LIST of type EFI_CERT_X509_GUID holding `certificate`
// (any bytes), as PK, KEK, db and dbx hold them.
Bytes SignatureList(std::string_view certificate);
// Bytes standing in for a PE image's Authenticode preimage: binary, as a
// real one is (it starts with the DOS header).
Bytes PeImage(std::string_view name);
Sha256Digest ImageDigest(std::string_view name);  // sha256(PeImage(name))
// UEFI_IMAGE_LOAD_EVENT with a file-path device path "\EFI\BOOT\<name>".
Bytes ImageLoadEvent(std::string_view name);

inline constexpr std::string_view kGlobalVariableGuid = "8be4df61-93ca-11d2-aa0d-00e098032b8c";
inline constexpr std::string_view kImageSecurityDatabaseGuid =
    "d719b2cb-3d3a-4596-a3bc-dad00e67656f";

struct UefiMachine {
  bool secure_boot = true;
  // PCR 7 variables hashed by value only (the named firmware quirk).
  bool variables_hashed_by_value = false;
  // Loaded from the ESP, in order, into PCR 4.
  std::vector<std::string> boot_applications = {"shimx64.efi", "grubx64.efi", "vmlinuz"};
  // Values for SecureBoot, PK, KEK, db, dbx (default: Secure Boot from
  // `secure_boot`, one signature list each).
  std::map<std::string, Bytes> variable_values;
};

// PCRs 0-7 the way EDK2 firmware measures them: CRTM version and firmware
// blob (0), BootOrder (1), separators, "Calling EFI Application" then the
// boot applications (4), GPT and ExitBootServices (5), the Secure Boot
// variables, separator and, with Secure Boot on, an authority (7).
SyntheticLog UefiBoot(const UefiMachine& machine);

}  // namespace attest::verifier::test
