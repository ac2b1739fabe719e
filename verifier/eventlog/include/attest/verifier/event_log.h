// The TCG PC Client firmware event log (binary_bios_measurements): the
// SHA1-only TCG 1.2 layout and the crypto-agile layout (TCG PC Client
// Platform Firmware Profile §10), parsed without copying, replayed into PCR
// values, and summarized for people.
//
// A parsed EventLog is unverified: it says what the node claims. Only
// VerifyEventLog (verified_event_log.h), which compares ReplayEventLog() with
// the quoted PCRs, makes any of it evidence.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "attest/bytes.h"
#include "attest/error.h"
#include "attest/tpm/pcr.h"

namespace attest::verifier {

// Event types, TCG PC Client PFP §10.4.1 (names as in the spec).
inline constexpr std::uint32_t kEvPrebootCert = 0x00000000;
inline constexpr std::uint32_t kEvPostCode = 0x00000001;
inline constexpr std::uint32_t kEvUnused = 0x00000002;
inline constexpr std::uint32_t kEvNoAction = 0x00000003;
inline constexpr std::uint32_t kEvSeparator = 0x00000004;
inline constexpr std::uint32_t kEvAction = 0x00000005;
inline constexpr std::uint32_t kEvEventTag = 0x00000006;
inline constexpr std::uint32_t kEvSCrtmContents = 0x00000007;
inline constexpr std::uint32_t kEvSCrtmVersion = 0x00000008;
inline constexpr std::uint32_t kEvCpuMicrocode = 0x00000009;
inline constexpr std::uint32_t kEvPlatformConfigFlags = 0x0000000A;
inline constexpr std::uint32_t kEvTableOfDevices = 0x0000000B;
inline constexpr std::uint32_t kEvCompactHash = 0x0000000C;
inline constexpr std::uint32_t kEvIpl = 0x0000000D;
inline constexpr std::uint32_t kEvIplPartitionData = 0x0000000E;
inline constexpr std::uint32_t kEvNonhostCode = 0x0000000F;
inline constexpr std::uint32_t kEvNonhostConfig = 0x00000010;
inline constexpr std::uint32_t kEvNonhostInfo = 0x00000011;
inline constexpr std::uint32_t kEvOmitBootDeviceEvents = 0x00000012;
inline constexpr std::uint32_t kEvPostCode2 = 0x00000013;
inline constexpr std::uint32_t kEvEfiEventBase = 0x80000000;
inline constexpr std::uint32_t kEvEfiVariableDriverConfig = 0x80000001;
inline constexpr std::uint32_t kEvEfiVariableBoot = 0x80000002;
inline constexpr std::uint32_t kEvEfiBootServicesApplication = 0x80000003;
inline constexpr std::uint32_t kEvEfiBootServicesDriver = 0x80000004;
inline constexpr std::uint32_t kEvEfiRuntimeServicesDriver = 0x80000005;
inline constexpr std::uint32_t kEvEfiGptEvent = 0x80000006;
inline constexpr std::uint32_t kEvEfiAction = 0x80000007;
inline constexpr std::uint32_t kEvEfiPlatformFirmwareBlob = 0x80000008;
inline constexpr std::uint32_t kEvEfiHandoffTables = 0x80000009;
inline constexpr std::uint32_t kEvEfiPlatformFirmwareBlob2 = 0x8000000A;
inline constexpr std::uint32_t kEvEfiHandoffTables2 = 0x8000000B;
inline constexpr std::uint32_t kEvEfiVariableBoot2 = 0x8000000C;
inline constexpr std::uint32_t kEvEfiGptEvent2 = 0x8000000D;
inline constexpr std::uint32_t kEvEfiHcrtmEvent = 0x80000010;
inline constexpr std::uint32_t kEvEfiVariableAuthority = 0x800000E0;
inline constexpr std::uint32_t kEvEfiSpdmFirmwareBlob = 0x800000E1;
inline constexpr std::uint32_t kEvEfiSpdmFirmwareConfig = 0x800000E2;

inline constexpr std::uint16_t kTpmAlgSha1 = 0x0004;
inline constexpr std::uint16_t kTpmAlgSha256 = 0x000B;

// Limits that bound what a hostile log can make the parser do. No TCG hash
// algorithm registry has more than 8 hash algorithms or digests above 64 bytes.
inline constexpr std::size_t kMaxEventLogAlgorithms = 8;
inline constexpr std::size_t kMaxEventLogDigestSize = 64;

enum class EventLogFormat { kSha1Legacy, kCryptoAgile };

// One digest of an event; `digest` points into the log buffer.
struct EventDigest {
  std::uint16_t algorithm_id;  // TPM_ALG_ID
  ByteView digest;
};

// The digests of one event, stored inline (no heap allocation per event).
class EventDigests {
 public:
  const EventDigest* begin() const { return items_.data(); }
  const EventDigest* end() const { return items_.data() + size_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const EventDigest& operator[](std::size_t i) const { return items_[i]; }
  // Precondition: size() < kMaxEventLogAlgorithms.
  void push_back(const EventDigest& digest) { items_[size_++] = digest; }
  // The digest for `algorithm_id`, or nullptr.
  const EventDigest* Find(std::uint16_t algorithm_id) const;

 private:
  std::array<EventDigest, kMaxEventLogAlgorithms> items_{};
  std::size_t size_ = 0;
};

// One record of the log (TCG_PCClientPCREvent or TCG_PCR_EVENT2).
struct BootEvent {
  std::size_t offset = 0;  // byte offset of the event header in the log
  std::uint32_t pcr = 0;
  std::uint32_t type = 0;
  EventDigests digests;
  ByteView data;  // event data, pointing into the log buffer
};

// TCG_EfiSpecIdEvent (PFP §10.4.5.1): the first record of a crypto-agile log.
struct SpecIdEvent {
  std::uint32_t platform_class = 0;
  std::uint8_t spec_version_minor = 0;
  std::uint8_t spec_version_major = 0;
  std::uint8_t spec_errata = 0;
  std::uint8_t uintn_size = 0;
  // (algorithm id, digest size) in header order.
  std::vector<std::pair<std::uint16_t, std::uint16_t>> algorithms;
  ByteView vendor_info;
};

// A parsed log. It BORROWS the buffer given to ParseEventLog: every ByteView
// in it points there, so the buffer must outlive the EventLog.
struct EventLog {
  EventLogFormat format = EventLogFormat::kSha1Legacy;
  std::vector<std::uint16_t> banks;  // algorithm ids the header declares (legacy: {SHA1})
  std::vector<BootEvent> events;     // every record, EV_NO_ACTION included, in log order
  std::optional<std::uint8_t> startup_locality;  // from a StartupLocality EV_NO_ACTION in PCR 0
  bool hcrtm = false;                            // an EV_EFI_HCRTM_EVENT in PCR 0
  std::optional<SpecIdEvent> spec_id;            // crypto-agile only
};

// Parses a whole log. Errors are kCorrupt with a message that starts
// "byte offset N: " (N = absolute offset of the offending field). Rejects a
// truncated or trailing partial record, digest counts or algorithms the Spec
// ID header does not declare, a malformed Spec ID event, and PCR indexes
// >= 24 on events that extend. Decoded payloads (UEFI structures) are not
// checked here: a malformed payload affects only facts and rendering.
Result<EventLog> ParseEventLog(ByteView log);

// Replays every event (except EV_NO_ACTION) into every declared bank this
// build can hash. PCRs without events are omitted, except PCR 0 when a
// StartupLocality or H-CRTM event sets its initial value (00..0L, or 00..04
// for H-CRTM, which wins). A PCR where some extending event lacks the bank's
// digest is omitted from that bank: its value cannot be known.
tpm::PcrValues ReplayEventLog(const EventLog& log);
// The same for only those of the log's banks that are in `banks`: a
// verifier needs the banks a quote covers, and replaying the others (SHA-384
// and SHA-512 cost three times SHA-256 per extend) would prove nothing.
tpm::PcrValues ReplayEventLog(const EventLog& log, std::span<const std::uint16_t> banks);

// What the log says, for people: unverified claims, never decided on
// (boot_facts.h has what a policy may use). Read from every event as logged.
struct BootLogSummary {
  std::map<std::uint32_t, std::uint32_t> separators;  // PCR -> number of EV_SEPARATOR events
  bool separator_error = false;  // an EV_SEPARATOR whose data is 0x00000001 (firmware error)
  bool exit_boot_services_seen = false;  // EV_EFI_ACTION "Exit Boot Services Invocation"
  // EV_IPL text that is a kernel command line: grub's "kernel_cmdline: " /
  // "grub_kernel_cmdline " (prefix removed), or UTF-16 load options from
  // systemd-boot/systemd-stub (PCR 8, 9, 12). Printable ASCII only. Grub
  // and systemd-stub do not hash these strings as logged: display only.
  std::vector<std::string> kernel_command_lines;
  std::vector<std::string> ipl_texts;  // the other EV_IPL strings, printable ASCII only
};

BootLogSummary SummarizeBootLog(const EventLog& log);

// "EV_SEPARATOR", "EV_EFI_ACTION"...; "EV_UNKNOWN" for any other value.
std::string_view EventTypeName(std::uint32_t type);

// The operator's view, like tpm2_eventlog: every event (index, offset, PCR,
// type, digests per bank, decoded data where the type is known) followed by
// the replayed PCRs per bank.
std::string RenderEventLogText(const EventLog& log, const tpm::PcrValues& replayed);

// {"events": [{"index", "offset", "pcr", "type", "type_value", "digests":
// {"sha256": hex, ...}, "data": decoded object or {"hex": ...}}, ...],
//  "pcrs": {"sha256": {"0": hex, ...}, ...}}. Banks this build does not know
// are named "alg_0x....".
nlohmann::json EventLogToJson(const EventLog& log, const tpm::PcrValues& replayed);

}  // namespace attest::verifier
