#include "uefi_data.h"

#include <array>
#include <cstdio>

#include "attest/byte_reader.h"

namespace attest::verifier::uefi {
namespace {

constexpr std::size_t kGuidSize = 16;

char Printable(std::uint32_t c) { return c >= 0x20 && c <= 0x7e ? static_cast<char>(c) : '?'; }

std::string Hex32(std::uint32_t value) {
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "0x%x", value);
  return buffer;
}

}  // namespace

std::optional<UefiVariableData> ParseUefiVariableData(ByteView data) {
  ByteReader reader(data);
  UefiVariableData variable;
  std::optional<ByteView> guid = reader.ReadBytes(kGuidSize);
  std::optional<std::uint64_t> name_length = reader.ReadU64Le();
  std::optional<std::uint64_t> data_length = reader.ReadU64Le();
  if (!guid || !name_length || !data_length) return std::nullopt;
  // Compare before multiplying so a hostile length cannot overflow.
  if (*name_length > reader.remaining() / 2) return std::nullopt;
  variable.guid = *guid;
  variable.name = *reader.ReadBytes(static_cast<std::size_t>(*name_length) * 2);
  // Some firmware (and go-tpm-tools' notes) shows VariableDataLength that
  // disagrees with the event size; the declared length must fit.
  if (*data_length > reader.remaining()) return std::nullopt;
  variable.data = *reader.ReadBytes(static_cast<std::size_t>(*data_length));
  return variable;
}

bool IsSignatureListSequence(ByteView value) {
  constexpr std::size_t kListHeaderSize = 16 + 4 + 4 + 4;  // SignatureType and three sizes
  constexpr std::size_t kOwnerSize = 16;                   // EFI_SIGNATURE_DATA.SignatureOwner
  ByteReader reader(value);
  while (reader.remaining() > 0) {
    std::size_t remaining = reader.remaining();
    std::optional<ByteView> type = reader.ReadBytes(16);
    std::optional<std::uint32_t> list_size = reader.ReadU32Le();
    std::optional<std::uint32_t> header_size = reader.ReadU32Le();
    std::optional<std::uint32_t> signature_size = reader.ReadU32Le();
    if (!type || !list_size || !header_size || !signature_size) return false;
    if (*list_size > remaining || *list_size < kListHeaderSize ||
        *header_size > *list_size - kListHeaderSize || *signature_size < kOwnerSize) {
      return false;
    }
    std::size_t entries = *list_size - kListHeaderSize - *header_size;
    if (entries % *signature_size != 0) return false;
    if (!reader.ReadBytes(*list_size - kListHeaderSize)) return false;
  }
  return true;
}

std::optional<UefiImageLoadEvent> ParseUefiImageLoadEvent(ByteView data) {
  ByteReader reader(data);
  UefiImageLoadEvent image;
  std::optional<std::uint64_t> location = reader.ReadU64Le();
  std::optional<std::uint64_t> length = reader.ReadU64Le();
  std::optional<std::uint64_t> link_address = reader.ReadU64Le();
  std::optional<std::uint64_t> path_length = reader.ReadU64Le();
  if (!location || !length || !link_address || !path_length) return std::nullopt;
  if (*path_length > reader.remaining()) return std::nullopt;
  image.image_location = *location;
  image.image_length = *length;
  image.device_path = *reader.ReadBytes(static_cast<std::size_t>(*path_length));
  return image;
}

namespace {

// EFI_GUID text: the first three fields are little-endian integers, the
// last two byte strings. Written without snprintf: facts compare GUIDs for
// every variable event.
constexpr std::array<std::uint8_t, kGuidSize> kGuidTextOrder = {3, 2, 1,  0,  5,  4,  7,  6,
                                                                8, 9, 10, 11, 12, 13, 14, 15};
std::array<char, 36> GuidChars(ByteView guid) {
  static constexpr std::string_view kDigits = "0123456789abcdef";
  std::array<char, 36> text{};
  std::size_t out = 0;
  for (std::size_t i = 0; i < kGuidSize; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text[out++] = '-';
    std::uint8_t byte = guid[kGuidTextOrder[i]];
    text[out++] = kDigits[byte >> 4];
    text[out++] = kDigits[byte & 0xf];
  }
  return text;
}

}  // namespace

std::string GuidToString(ByteView guid) {
  std::array<char, 36> text = GuidChars(guid);
  return std::string(text.data(), text.size());
}

bool GuidEquals(ByteView guid, std::string_view text) {
  if (guid.size() != kGuidSize) return false;
  std::array<char, 36> chars = GuidChars(guid);
  return std::string_view(chars.data(), chars.size()) == text;
}

std::string PrintableAscii(ByteView bytes) {
  while (!bytes.empty() && bytes.back() == 0) bytes = bytes.first(bytes.size() - 1);
  std::string text;
  text.reserve(bytes.size());
  for (std::uint8_t c : bytes) text.push_back(Printable(c));
  return text;
}

std::string PrintableUtf16(ByteView bytes) {
  std::size_t units = bytes.size() / 2;
  while (units > 0 && bytes[2 * units - 2] == 0 && bytes[2 * units - 1] == 0) --units;
  std::string text;
  text.reserve(units);
  for (std::size_t i = 0; i < units; ++i) {
    text.push_back(Printable(bytes[2 * i] | (std::uint32_t{bytes[2 * i + 1]} << 8)));
  }
  return text;
}

bool LooksLikeUtf16Ascii(ByteView bytes) {
  if (bytes.size() < 2 || bytes.size() % 2 != 0) return false;
  for (std::size_t i = 0; i < bytes.size(); i += 2) {
    if (bytes[i + 1] != 0) return false;
  }
  return bytes[0] != 0;
}

bool Utf16Equals(ByteView utf16, std::string_view name) {
  // UnicodeNameLength may or may not count a terminating NUL.
  if (utf16.size() == 2 * (name.size() + 1) && utf16[utf16.size() - 1] == 0 &&
      utf16[utf16.size() - 2] == 0) {
    utf16 = utf16.first(utf16.size() - 2);
  }
  if (utf16.size() != 2 * name.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (utf16[2 * i] != static_cast<std::uint8_t>(name[i]) || utf16[2 * i + 1] != 0) return false;
  }
  return true;
}

std::string DevicePathToText(ByteView path) {
  std::string text;
  ByteReader reader(path);
  while (reader.remaining() >= 4) {
    std::uint8_t type = *reader.ReadU8();
    std::uint8_t subtype = *reader.ReadU8();
    std::uint16_t length = *reader.ReadU16Le();
    if (length < 4 || length - 4u > reader.remaining()) break;  // malformed: stop here
    ByteView body = *reader.ReadBytes(length - 4u);
    if (type == 0x7f) break;  // End of Hardware Device Path
    std::string node;
    if (type == 0x04 && subtype == 0x04) {  // Media: File Path
      node = PrintableUtf16(body);
    } else if (type == 0x04 && subtype == 0x01 && body.size() >= 38) {  // Media: Hard Drive
      ByteReader hd(body);
      std::uint32_t partition = *hd.ReadU32Le();
      hd.Skip(16);  // start LBA, size
      ByteView signature = *hd.ReadBytes(16);
      std::uint8_t format = *hd.ReadU8();
      std::uint8_t signature_type = *hd.ReadU8();
      node = "HD(" + std::to_string(partition) + "," + (format == 2 ? "GPT" : "MBR");
      if (signature_type == 2) node += "," + GuidToString(signature);
      node += ")";
    } else if (type == 0x02 && subtype == 0x01 && body.size() >= 8) {  // ACPI
      ByteReader acpi(body);
      std::uint32_t hid = *acpi.ReadU32Le();
      std::uint32_t uid = *acpi.ReadU32Le();
      node = hid == 0x0a0341d0 ? "PciRoot(" + Hex32(uid) + ")"
                               : "Acpi(" + Hex32(hid) + "," + Hex32(uid) + ")";
    } else if (type == 0x01 && subtype == 0x01 && body.size() >= 2) {  // Hardware: PCI
      node = "Pci(" + Hex32(body[1]) + "," + Hex32(body[0]) + ")";
    } else if (type == 0x04 && subtype == 0x06 && body.size() >= 16) {  // PIWG firmware file
      node = "FvFile(" + GuidToString(body.first(16)) + ")";
    } else if (type == 0x04 && subtype == 0x07 && body.size() >= 16) {  // PIWG firmware volume
      node = "Fv(" + GuidToString(body.first(16)) + ")";
    } else {
      node = "Path(" + std::to_string(type) + "," + std::to_string(subtype) + ")";
    }
    if (!text.empty()) text += "/";
    text += node;
  }
  return text;
}

}  // namespace attest::verifier::uefi
