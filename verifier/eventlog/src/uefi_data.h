// Decoders for the UEFI structures some events carry (PFP §10.4.x,
// UEFI spec §3/§10). Internal to attest_eventlog. They never fail the log:
// each returns nullopt (or a best-effort string) for a malformed payload.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "attest/bytes.h"

namespace attest::verifier::uefi {

// UEFI_VARIABLE_DATA.
struct UefiVariableData {
  ByteView guid;  // 16 bytes, EFI_GUID layout
  ByteView name;  // UTF-16LE, UnicodeNameLength code units
  ByteView data;
};
std::optional<UefiVariableData> ParseUefiVariableData(ByteView data);

// Whether `value` is a sequence of well-formed EFI_SIGNATURE_LISTs (UEFI
// §32.4.1) that exactly fills it, as PK, KEK, db and dbx hold: each list's
// SignatureListSize covers its 28-byte header, SignatureHeaderSize and a
// whole number of SignatureSize-byte entries (each at least its 16-byte
// owner GUID).
bool IsSignatureListSequence(ByteView value);

// UEFI_IMAGE_LOAD_EVENT: the fields a reader of the log cares about.
struct UefiImageLoadEvent {
  std::uint64_t image_location = 0;
  std::uint64_t image_length = 0;
  ByteView device_path;
};
std::optional<UefiImageLoadEvent> ParseUefiImageLoadEvent(ByteView data);

// "8be4df61-93ca-11d2-aa0d-00e098032b8c". Precondition: guid.size() == 16.
std::string GuidToString(ByteView guid);
bool GuidEquals(ByteView guid, std::string_view text);

inline constexpr std::string_view kEfiGlobalVariableGuid = "8be4df61-93ca-11d2-aa0d-00e098032b8c";
inline constexpr std::string_view kEfiImageSecurityDatabaseGuid =
    "d719b2cb-3d3a-4596-a3bc-dad00e67656f";

// ASCII with trailing NULs removed, anything outside 0x20..0x7e as '?'.
std::string PrintableAscii(ByteView bytes);
// UTF-16LE the same way (code units above 0x7e as '?'); odd trailing byte dropped.
std::string PrintableUtf16(ByteView bytes);
// Even length, at least one code unit, and every high byte zero: the way
// systemd-boot and shim write ASCII load options as UTF-16LE.
bool LooksLikeUtf16Ascii(ByteView bytes);
// Whether a UTF-16LE name equals the ASCII `name` exactly.
bool Utf16Equals(ByteView utf16, std::string_view name);

// EFI_DEVICE_PATH_PROTOCOL as text, UEFI §10.6 style for the common nodes
// ("HD(1,GPT,<guid>)/\EFI\BOOT\BOOTX64.EFI"); other nodes as
// "Path(type,subtype)". Stops at a malformed node.
std::string DevicePathToText(ByteView path);

}  // namespace attest::verifier::uefi
