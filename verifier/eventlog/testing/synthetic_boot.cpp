#include "synthetic_boot.h"

#include <stdexcept>

#include "attest/tpm/algorithms.h"
#include "attest/verifier/event_log.h"

namespace attest::verifier::test {
namespace {

void PutU16(Bytes& out, std::uint16_t value) {
  out.push_back(static_cast<std::uint8_t>(value));
  out.push_back(static_cast<std::uint8_t>(value >> 8));
}

void PutU32(Bytes& out, std::uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8)
    out.push_back(static_cast<std::uint8_t>(value >> shift));
}

void PutU64(Bytes& out, std::uint64_t value) {
  for (int shift = 0; shift < 64; shift += 8)
    out.push_back(static_cast<std::uint8_t>(value >> shift));
}

void PutBytes(Bytes& out, ByteView bytes) { out.insert(out.end(), bytes.begin(), bytes.end()); }

void PutUtf16(Bytes& out, std::string_view ascii) {
  for (char c : ascii) PutU16(out, static_cast<std::uint8_t>(c));
}

tpm::HashAlgorithm Bank(std::uint16_t id) {
  std::optional<tpm::HashAlgorithm> algorithm = tpm::HashAlgorithmById(id);
  if (!algorithm) throw std::invalid_argument("unknown bank");
  return *algorithm;
}

// EFI_GUID bytes from "8be4df61-93ca-11d2-aa0d-00e098032b8c": the first
// three fields little-endian, the rest as written.
Bytes GuidBytes(std::string_view text) {
  auto hex = [&](std::size_t at) {
    return static_cast<std::uint8_t>(std::stoul(std::string(text.substr(at, 2)), nullptr, 16));
  };
  Bytes guid;
  for (std::size_t at : {6, 4, 2, 0, 11, 9, 16, 14}) guid.push_back(hex(at));
  for (std::size_t at : {19, 21, 24, 26, 28, 30, 32, 34}) guid.push_back(hex(at));
  return guid;
}

Bytes Text(std::string_view text) { return ToBytes(text); }

}  // namespace

SyntheticLog::SyntheticLog(std::vector<std::uint16_t> log_banks) : banks(std::move(log_banks)) {}

SyntheticLog& SyntheticLog::Measure(std::uint32_t pcr, std::uint32_t type, ByteView data,
                                    ByteView measured) {
  LogEvent event;
  event.pcr = pcr;
  event.type = type;
  for (std::uint16_t bank : banks) {
    Result<Bytes> digest = tpm::HashWith(Bank(bank), measured);
    if (!digest.ok()) throw std::runtime_error(digest.error().message);
    event.digests[bank] = std::move(digest).value();
  }
  event.data.assign(data.begin(), data.end());
  events.push_back(std::move(event));
  return *this;
}

std::size_t SyntheticLog::IndexOf(std::uint32_t pcr, std::size_t position) const {
  for (std::size_t index = 0; index < events.size(); ++index) {
    if (events[index].pcr != pcr || events[index].type == kEvNoAction) continue;
    if (position-- == 0) return index;
  }
  throw std::out_of_range("no such extend of PCR " + std::to_string(pcr));
}

Bytes SyntheticLog::Serialize() const {
  // TCG_EfiSpecIdEvent in a TCG_PCClientPCREvent (PFP §10.4.5.1).
  Bytes spec_id = Text(std::string_view("Spec ID Event03\0", 16));
  PutU32(spec_id, 0);                           // platformClass
  spec_id.insert(spec_id.end(), {0, 2, 0, 2});  // version 2.0 errata 0, uintnSize 2
  PutU32(spec_id, static_cast<std::uint32_t>(banks.size()));
  for (std::uint16_t bank : banks) {
    PutU16(spec_id, bank);
    PutU16(spec_id, static_cast<std::uint16_t>(Bank(bank).digest_size));
  }
  spec_id.push_back(0);  // vendorInfoSize
  Bytes out;
  PutU32(out, 0);
  PutU32(out, kEvNoAction);
  out.insert(out.end(), 20, 0);
  PutU32(out, static_cast<std::uint32_t>(spec_id.size()));
  PutBytes(out, spec_id);
  for (const LogEvent& event : events) {
    PutU32(out, event.pcr);
    PutU32(out, event.type);
    PutU32(out, static_cast<std::uint32_t>(event.digests.size()));
    for (const auto& [bank, digest] : event.digests) {
      PutU16(out, bank);
      PutBytes(out, digest);
    }
    PutU32(out, static_cast<std::uint32_t>(event.data.size()));
    PutBytes(out, event.data);
  }
  return out;
}

Bytes UefiVariableData(std::string_view guid, std::string_view name, ByteView value) {
  Bytes out = GuidBytes(guid);
  PutU64(out, name.size());
  PutU64(out, value.size());
  PutUtf16(out, name);
  PutBytes(out, value);
  return out;
}

Bytes SignatureList(std::string_view certificate) {
  constexpr std::uint32_t kHeaderSize = 16 + 4 + 4 + 4;
  constexpr std::uint32_t kOwnerSize = 16;
  auto entry_size = static_cast<std::uint32_t>(kOwnerSize + certificate.size());
  Bytes list = GuidBytes("a5c059a1-94e4-4aa7-87b5-ab155c2bf072");  // EFI_CERT_X509_GUID
  PutU32(list, kHeaderSize + entry_size);
  PutU32(list, 0);  // SignatureHeaderSize
  PutU32(list, entry_size);
  PutBytes(list, GuidBytes("77fa9abd-0359-4d32-bd60-28f4e78f784b"));  // owner
  PutBytes(list, AsBytes(certificate));
  return list;
}

Bytes PeImage(std::string_view name) {
  Bytes image = {'M', 'Z', 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0xff, 0xff};
  for (int i = 0; i < 64; ++i) PutBytes(image, AsBytes(name));
  PutBytes(image, AsBytes(std::string_view("PE\0\0", 4)));
  return image;
}

Sha256Digest ImageDigest(std::string_view name) { return Sha256Of(PeImage(name)); }

Bytes ImageLoadEvent(std::string_view name) {
  Bytes path;
  std::string file = "\\EFI\\BOOT\\" + std::string(name);
  path.insert(path.end(), {0x04, 0x04});  // Media, File Path
  PutU16(path, static_cast<std::uint16_t>(4 + 2 * (file.size() + 1)));
  PutUtf16(path, file);
  PutU16(path, 0);
  path.insert(path.end(), {0x7f, 0xff, 0x04, 0x00});  // End of device path
  Bytes out;
  PutU64(out, 0x7e000000);  // ImageLocationInMemory
  PutU64(out, PeImage(name).size());
  PutU64(out, 0);  // ImageLinkTimeAddress
  PutU64(out, path.size());
  PutBytes(out, path);
  return out;
}

SyntheticLog UefiBoot(const UefiMachine& machine) {
  SyntheticLog log;
  const Bytes separator = {0, 0, 0, 0};
  log.MeasureData(0, kEvSCrtmVersion, Bytes{'1', 0, '.', 0, '0', 0, 0, 0});
  Bytes blob;
  PutU64(blob, 0xffc00000);
  PutU64(blob, 0x00400000);
  log.Measure(0, kEvEfiPlatformFirmwareBlob, blob, Text("firmware volume contents"));
  Bytes boot_order = {0x01, 0x00, 0x00, 0x00};
  log.Measure(1, kEvEfiVariableBoot, UefiVariableData(kGlobalVariableGuid, "BootOrder", boot_order),
              boot_order);

  // PCR 7: SecureBoot, PK, KEK, db, dbx, in the PFP's order.
  Bytes secure_boot = {static_cast<std::uint8_t>(machine.secure_boot ? 1 : 0)};
  const std::vector<std::pair<std::string, std::string_view>> variables = {
      {"SecureBoot", kGlobalVariableGuid},
      {"PK", kGlobalVariableGuid},
      {"KEK", kGlobalVariableGuid},
      {"db", kImageSecurityDatabaseGuid},
      {"dbx", kImageSecurityDatabaseGuid}};
  for (const auto& [name, guid] : variables) {
    Bytes value = name == "SecureBoot" ? secure_boot : SignatureList("certificate in " + name);
    if (auto found = machine.variable_values.find(name); found != machine.variable_values.end()) {
      value = found->second;
    }
    Bytes data = UefiVariableData(guid, name, value);
    log.Measure(7, kEvEfiVariableDriverConfig, data,
                machine.variables_hashed_by_value ? ByteView(value) : ByteView(data));
  }

  log.MeasureData(4, kEvEfiAction, Text("Calling EFI Application from Boot Option"));
  for (std::uint32_t pcr = 0; pcr <= 7; ++pcr) log.MeasureData(pcr, kEvSeparator, separator);
  log.MeasureData(5, kEvEfiGptEvent, Text("GPT header and partition entries"));
  for (std::size_t i = 0; i < machine.boot_applications.size(); ++i) {
    const std::string& name = machine.boot_applications[i];
    log.Measure(4, kEvEfiBootServicesApplication, ImageLoadEvent(name), PeImage(name));
    if (i == 0 && machine.secure_boot) {
      Bytes certificate = Text("db certificate that signed the first boot application");
      log.MeasureData(7, kEvEfiVariableAuthority,
                      UefiVariableData(kImageSecurityDatabaseGuid, "db", certificate));
    }
  }
  log.MeasureData(5, kEvEfiAction, Text("Exit Boot Services Invocation"));
  log.MeasureData(5, kEvEfiAction, Text("Exit Boot Services Returned with Success"));
  return log;
}

}  // namespace attest::verifier::test
