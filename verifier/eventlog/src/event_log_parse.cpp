// Framing of the TCG PC Client event log: TCG_PCClientPCREvent (SHA1 layout,
// PFP §10.2.1), TCG_PCR_EVENT2 (crypto-agile, §10.2.2) and the Spec ID event
// (TCG_EfiSpecIdEvent, §10.4.5.1) that selects between them. Every length is
// checked against what remains before it is used.
#include <algorithm>
#include <cstring>
#include <string>

#include "attest/byte_reader.h"
#include "attest/tpm/algorithms.h"
#include "attest/tpm/pcr.h"
#include "attest/verifier/event_log.h"

namespace attest::verifier {
namespace {

constexpr std::size_t kSha1Size = 20;
// pcrIndex, eventType, digest[20], eventSize.
constexpr std::size_t kLegacyHeaderSize = 4 + 4 + kSha1Size + 4;
constexpr std::string_view kSpecIdSignature03("Spec ID Event03\0", 16);
constexpr std::string_view kStartupLocalitySignature("StartupLocality\0", 16);
// Reserve at most this many events up front; more grow geometrically.
constexpr std::size_t kMaxInitialReserve = 128;

Error Corrupt(std::size_t offset, std::string_view what) {
  std::string message = "byte offset ";
  message += std::to_string(offset);
  message += ": ";
  message += what;
  return MakeError(ErrorCode::kCorrupt, std::move(message));
}

bool StartsWith(ByteView data, std::string_view prefix) {
  return data.size() >= prefix.size() &&
         std::memcmp(data.data(), prefix.data(), prefix.size()) == 0;
}

// Records what an event tells about PCR 0's initial value (rules 2 and 3).
void NoteInitialValueEvent(const BootEvent& event, EventLog& log) {
  if (event.pcr != 0) return;
  if (event.type == kEvNoAction && event.data.size() == kStartupLocalitySignature.size() + 1 &&
      StartsWith(event.data, kStartupLocalitySignature)) {
    log.startup_locality = event.data.back();
  } else if (event.type == kEvEfiHcrtmEvent) {
    log.hcrtm = true;
  }
}

// An event that extends must name a PCR the TPM has; EV_NO_ACTION records
// extend nothing, so their index is only informational.
Status CheckPcrIndex(std::size_t offset, std::uint32_t pcr, std::uint32_t type) {
  if (type != kEvNoAction && pcr >= tpm::kPcrCount) {
    return Corrupt(offset, "PCR index " + std::to_string(pcr) + " out of range");
  }
  return OkStatus();
}

// Reads eventSize and the event data that follows.
Status ReadEventData(ByteReader& reader, ByteView& out) {
  std::size_t size_offset = reader.offset();
  std::optional<std::uint32_t> size = reader.ReadU32Le();
  if (!size) return Corrupt(size_offset, "truncated event data size");
  std::optional<ByteView> data = reader.ReadBytes(*size);
  if (!data) {
    return Corrupt(size_offset, "event data size " + std::to_string(*size) + " exceeds the " +
                                    std::to_string(reader.remaining()) + " bytes left");
  }
  out = *data;
  return OkStatus();
}

// TCG_PCClientPCREvent: the whole SHA1 log, and the first record of a
// crypto-agile one. Fills `event` in place (events are large; no copies).
Status ReadLegacyEvent(ByteReader& reader, BootEvent& event) {
  event.offset = reader.offset();
  if (reader.remaining() < kLegacyHeaderSize) {
    return Corrupt(event.offset, "truncated event header (" + std::to_string(reader.remaining()) +
                                     " bytes left, need " + std::to_string(kLegacyHeaderSize) +
                                     ")");
  }
  event.pcr = *reader.ReadU32Le();
  event.type = *reader.ReadU32Le();
  ATTEST_RETURN_IF_ERROR(CheckPcrIndex(event.offset, event.pcr, event.type));
  event.digests.push_back(EventDigest{kTpmAlgSha1, *reader.ReadBytes(kSha1Size)});
  return ReadEventData(reader, event.data);
}

// TCG_EfiSpecIdEvent inside the first record's data.
Result<SpecIdEvent> ParseSpecIdEvent(ByteReader reader) {
  SpecIdEvent spec;
  reader.Skip(kSpecIdSignature03.size());
  std::size_t field = reader.offset();
  std::optional<std::uint32_t> platform_class = reader.ReadU32Le();
  std::optional<std::uint8_t> minor = reader.ReadU8();
  std::optional<std::uint8_t> major = reader.ReadU8();
  std::optional<std::uint8_t> errata = reader.ReadU8();
  std::optional<std::uint8_t> uintn_size = reader.ReadU8();
  if (!platform_class || !minor || !major || !errata || !uintn_size) {
    return Corrupt(field, "truncated Spec ID event header");
  }
  spec.platform_class = *platform_class;
  spec.spec_version_minor = *minor;
  spec.spec_version_major = *major;
  spec.spec_errata = *errata;
  spec.uintn_size = *uintn_size;
  if (spec.uintn_size != 1 && spec.uintn_size != 2) {
    return Corrupt(field + 7,
                   "Spec ID uintnSize " + std::to_string(spec.uintn_size) + " is neither 1 nor 2");
  }

  field = reader.offset();
  std::optional<std::uint32_t> count = reader.ReadU32Le();
  if (!count) return Corrupt(field, "truncated Spec ID numberOfAlgorithms");
  if (*count == 0 || *count > kMaxEventLogAlgorithms) {
    return Corrupt(field, "Spec ID numberOfAlgorithms " + std::to_string(*count) +
                              " is not in 1.." + std::to_string(kMaxEventLogAlgorithms));
  }
  if (reader.remaining() < std::size_t{*count} * 4) {
    return Corrupt(field,
                   "Spec ID numberOfAlgorithms " + std::to_string(*count) + " exceeds the event");
  }
  spec.algorithms.reserve(*count);
  for (std::uint32_t i = 0; i < *count; ++i) {
    field = reader.offset();
    std::uint16_t id = *reader.ReadU16Le();
    std::uint16_t size = *reader.ReadU16Le();
    if (size == 0 || size > kMaxEventLogDigestSize) {
      return Corrupt(field + 2, "Spec ID digest size " + std::to_string(size) + " for algorithm " +
                                    tpm::AlgorithmIdHex(id) + " is not in 1..64");
    }
    std::optional<tpm::HashAlgorithm> known = tpm::HashAlgorithmById(id);
    if (known && known->digest_size != size) {
      return Corrupt(field + 2, "Spec ID digest size " + std::to_string(size) + " for " +
                                    std::string(known->name) + " should be " +
                                    std::to_string(known->digest_size));
    }
    for (const auto& [other_id, other_size] : spec.algorithms) {
      if (other_id == id)
        return Corrupt(field, "Spec ID lists algorithm " + tpm::AlgorithmIdHex(id) + " twice");
    }
    spec.algorithms.emplace_back(id, size);
  }

  field = reader.offset();
  std::optional<std::uint8_t> vendor_size = reader.ReadU8();
  if (!vendor_size) return Corrupt(field, "truncated Spec ID vendorInfoSize");
  std::optional<ByteView> vendor_info = reader.ReadBytes(*vendor_size);
  if (!vendor_info) {
    return Corrupt(field, "Spec ID vendorInfoSize " + std::to_string(*vendor_size) +
                              " exceeds the " + std::to_string(reader.remaining()) +
                              " bytes left in the event");
  }
  spec.vendor_info = *vendor_info;
  if (!reader.empty()) {
    return Corrupt(reader.offset(), std::to_string(reader.remaining()) +
                                        " unexpected bytes after the Spec ID vendorInfo");
  }
  return spec;
}

// The digest size the header declares for `id`, or 0.
std::size_t DeclaredDigestSize(const SpecIdEvent& spec, std::uint16_t id) {
  for (const auto& [algorithm, size] : spec.algorithms) {
    if (algorithm == id) return size;
  }
  return 0;
}

// TCG_PCR_EVENT2. Digests must be algorithms the header declares, each at
// most once; fewer digests than banks are allowed (tpm2-tools writes such
// logs), and replay then treats the missing banks as unknown.
Status ReadAgileEvent(ByteReader& reader, const SpecIdEvent& spec, BootEvent& event) {
  event.offset = reader.offset();
  std::optional<std::uint32_t> pcr = reader.ReadU32Le();
  std::optional<std::uint32_t> type = reader.ReadU32Le();
  if (!pcr || !type) return Corrupt(event.offset, "truncated event header");
  event.pcr = *pcr;
  event.type = *type;
  ATTEST_RETURN_IF_ERROR(CheckPcrIndex(event.offset, event.pcr, event.type));

  std::size_t field = reader.offset();
  std::optional<std::uint32_t> count = reader.ReadU32Le();
  if (!count) return Corrupt(field, "truncated digest count");
  if (*count == 0 || *count > spec.algorithms.size()) {
    return Corrupt(field, "digest count " + std::to_string(*count) + " is not in 1.." +
                              std::to_string(spec.algorithms.size()) + " (the Spec ID banks)");
  }
  for (std::uint32_t i = 0; i < *count; ++i) {
    field = reader.offset();
    std::optional<std::uint16_t> id = reader.ReadU16Le();
    if (!id) return Corrupt(field, "truncated digest algorithm");
    std::size_t size = DeclaredDigestSize(spec, *id);
    if (size == 0) {
      return Corrupt(field, "digest algorithm " + tpm::AlgorithmIdHex(*id) +
                                " is not declared in the Spec ID event");
    }
    if (event.digests.Find(*id) != nullptr) {
      return Corrupt(field, "digest algorithm " + tpm::AlgorithmIdHex(*id) + " appears twice");
    }
    std::optional<ByteView> digest = reader.ReadBytes(size);
    if (!digest) return Corrupt(field + 2, "truncated digest");
    event.digests.push_back(EventDigest{*id, *digest});
  }
  return ReadEventData(reader, event.data);
}

void ReserveEvents(std::vector<BootEvent>& events, std::size_t remaining, std::size_t min_size) {
  events.reserve(std::min(remaining / min_size + 1, kMaxInitialReserve));
}

}  // namespace

const EventDigest* EventDigests::Find(std::uint16_t algorithm_id) const {
  for (const EventDigest& digest : *this) {
    if (digest.algorithm_id == algorithm_id) return &digest;
  }
  return nullptr;
}

Result<EventLog> ParseEventLog(ByteView bytes) {
  EventLog log;
  ByteReader reader(bytes);
  if (reader.empty()) return Corrupt(0, "empty event log");

  BootEvent first;
  ATTEST_RETURN_IF_ERROR(ReadLegacyEvent(reader, first));
  if (first.type == kEvNoAction && first.pcr == 0 && StartsWith(first.data, kSpecIdSignature03)) {
    ATTEST_ASSIGN_OR_RETURN(SpecIdEvent spec, ParseSpecIdEvent(ByteReader(
                                                  first.data, first.offset + kLegacyHeaderSize)));
    log.format = EventLogFormat::kCryptoAgile;
    for (const auto& [id, size] : spec.algorithms) log.banks.push_back(id);
    // Smallest TCG_PCR_EVENT2: header, count, one algorithm id + 1-byte
    // digest, eventSize.
    ReserveEvents(log.events, reader.remaining(), 4 + 4 + 4 + 2 + 1 + 4);
    log.events.push_back(first);
    while (!reader.empty()) {
      BootEvent& event = log.events.emplace_back();
      ATTEST_RETURN_IF_ERROR(ReadAgileEvent(reader, spec, event));
      NoteInitialValueEvent(event, log);
    }
    log.spec_id = std::move(spec);
    return log;
  }

  log.format = EventLogFormat::kSha1Legacy;
  log.banks.push_back(kTpmAlgSha1);
  ReserveEvents(log.events, reader.remaining(), kLegacyHeaderSize);
  NoteInitialValueEvent(first, log);
  log.events.push_back(first);
  while (!reader.empty()) {
    BootEvent& event = log.events.emplace_back();
    ATTEST_RETURN_IF_ERROR(ReadLegacyEvent(reader, event));
    NoteInitialValueEvent(event, log);
  }
  return log;
}

}  // namespace attest::verifier
