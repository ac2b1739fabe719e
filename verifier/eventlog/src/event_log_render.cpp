// The operator's views of a log: JSON for tools, text for people. Both decode
// the same payloads (DecodeEventData), so they cannot disagree.
#include <cstdio>
#include <string>

#include "attest/encoding.h"
#include "attest/tpm/algorithms.h"
#include "attest/verifier/event_log.h"

#include "uefi_data.h"

namespace attest::verifier {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kStartupLocality("StartupLocality\0", 16);
constexpr std::string_view kSpecId03("Spec ID Event03\0", 16);

std::string Hex8(std::uint32_t value) {
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "0x%08x", value);
  return buffer;
}

bool StartsWithText(ByteView data, std::string_view prefix) {
  return data.size() >= prefix.size() && AsText(data.first(prefix.size())) == prefix;
}

bool IsPrintableText(ByteView data) {
  while (!data.empty() && data.back() == 0) data = data.first(data.size() - 1);
  if (data.empty()) return false;
  for (std::uint8_t c : data) {
    if ((c < 0x20 || c > 0x7e) && c != '\n' && c != '\t') return false;
  }
  return true;
}

// Text events may be ASCII or UTF-16LE depending on who wrote them.
Json TextOrHex(ByteView data) {
  if (uefi::LooksLikeUtf16Ascii(data)) return Json{{"text", uefi::PrintableUtf16(data)}};
  if (IsPrintableText(data)) return Json{{"text", uefi::PrintableAscii(data)}};
  return Json{{"hex", HexEncode(data)}};
}

Json DecodeSpecId(const SpecIdEvent& spec) {
  Json algorithms = Json::array();
  for (const auto& [id, size] : spec.algorithms) {
    algorithms.push_back(Json{{"algorithm", tpm::AlgorithmName(id)}, {"digest_size", size}});
  }
  return Json{{"signature", "Spec ID Event03"},
              {"platform_class", spec.platform_class},
              {"spec_version", std::to_string(spec.spec_version_major) + "." +
                                   std::to_string(spec.spec_version_minor) + "." +
                                   std::to_string(spec.spec_errata)},
              {"uintn_size", spec.uintn_size},
              {"algorithms", algorithms},
              {"vendor_info", HexEncode(spec.vendor_info)}};
}

Json DecodeNoAction(const EventLog& log, std::size_t index, const BootEvent& event) {
  if (index == 0 && log.spec_id && StartsWithText(event.data, kSpecId03)) {
    return DecodeSpecId(*log.spec_id);
  }
  if (event.data.size() == kStartupLocality.size() + 1 &&
      StartsWithText(event.data, kStartupLocality)) {
    return Json{{"signature", "StartupLocality"}, {"startup_locality", event.data.back()}};
  }
  if (event.data.size() >= 16) {
    ByteView signature = event.data.first(16);
    if (IsPrintableText(signature)) {
      return Json{{"signature", uefi::PrintableAscii(signature)}, {"hex", HexEncode(event.data)}};
    }
  }
  return Json{{"hex", HexEncode(event.data)}};
}

Json DecodeVariable(const BootEvent& event) {
  std::optional<uefi::UefiVariableData> variable = uefi::ParseUefiVariableData(event.data);
  if (!variable) return Json{{"hex", HexEncode(event.data)}};
  Json decoded{{"variable_guid", uefi::GuidToString(variable->guid)},
               {"variable_name", uefi::PrintableUtf16(variable->name)},
               {"variable_data_length", variable->data.size()},
               {"variable_data", HexEncode(variable->data)}};
  if (event.type == kEvEfiVariableDriverConfig && uefi::Utf16Equals(variable->name, "SecureBoot")) {
    decoded["secure_boot"] = variable->data.size() == 1 && variable->data[0] == 1;
  }
  return decoded;
}

Json DecodeImageLoad(const BootEvent& event) {
  std::optional<uefi::UefiImageLoadEvent> image = uefi::ParseUefiImageLoadEvent(event.data);
  if (!image) return Json{{"hex", HexEncode(event.data)}};
  return Json{{"image_location", image->image_location},
              {"image_length", image->image_length},
              {"device_path", uefi::DevicePathToText(image->device_path)}};
}

Json DecodeEventData(const EventLog& log, std::size_t index) {
  const BootEvent& event = log.events[index];
  switch (event.type) {
    case kEvNoAction:
      return DecodeNoAction(log, index, event);
    case kEvSeparator:
      return Json{{"separator", HexEncode(event.data)},
                  {"error", event.data.size() == 4 && event.data[0] == 1 && event.data[1] == 0 &&
                                event.data[2] == 0 && event.data[3] == 0}};
    case kEvEfiVariableDriverConfig:
    case kEvEfiVariableBoot:
    case kEvEfiVariableBoot2:
    case kEvEfiVariableAuthority:
      return DecodeVariable(event);
    case kEvEfiBootServicesApplication:
    case kEvEfiBootServicesDriver:
    case kEvEfiRuntimeServicesDriver:
      return DecodeImageLoad(event);
    case kEvIpl:
    case kEvAction:
    case kEvEfiAction:
    case kEvPostCode:
    case kEvSCrtmVersion:
    case kEvEfiHcrtmEvent:
    case kEvEventTag:
    case kEvCompactHash:
      return TextOrHex(event.data);
    default:
      return Json{{"hex", HexEncode(event.data)}};
  }
}

Json PcrsToJson(const tpm::PcrValues& replayed) {
  Json pcrs = Json::object();
  for (const auto& [bank, values] : replayed) {
    Json bank_values = Json::object();
    for (const auto& [pcr, value] : values) bank_values[std::to_string(pcr)] = HexEncode(value);
    pcrs[tpm::AlgorithmName(bank)] = std::move(bank_values);
  }
  return pcrs;
}

void AppendDecodedText(const Json& decoded, std::string& out) {
  for (const auto& [key, value] : decoded.items()) {
    out += "  ";
    out += key;
    out += ": ";
    out += value.is_string() ? value.get<std::string>() : value.dump();
    out += "\n";
  }
}

}  // namespace

nlohmann::json EventLogToJson(const EventLog& log, const tpm::PcrValues& replayed) {
  Json events = Json::array();
  for (std::size_t i = 0; i < log.events.size(); ++i) {
    const BootEvent& event = log.events[i];
    Json digests = Json::object();
    for (const EventDigest& digest : event.digests) {
      digests[tpm::AlgorithmName(digest.algorithm_id)] = HexEncode(digest.digest);
    }
    events.push_back(Json{{"index", i},
                          {"offset", event.offset},
                          {"pcr", event.pcr},
                          {"type", std::string(EventTypeName(event.type))},
                          {"type_value", event.type},
                          {"digests", std::move(digests)},
                          {"data", DecodeEventData(log, i)}});
  }
  return Json{{"events", std::move(events)}, {"pcrs", PcrsToJson(replayed)}};
}

std::string RenderEventLogText(const EventLog& log, const tpm::PcrValues& replayed) {
  std::string out = log.format == EventLogFormat::kCryptoAgile
                        ? "Format: crypto-agile (TCG_PCR_EVENT2)\n"
                        : "Format: SHA1 (TCG_PCClientPCREvent)\n";
  for (std::size_t i = 0; i < log.events.size(); ++i) {
    const BootEvent& event = log.events[i];
    out += "Event " + std::to_string(i) + " (offset " + std::to_string(event.offset) + "): PCR " +
           std::to_string(event.pcr) + " " + std::string(EventTypeName(event.type)) + " (" +
           Hex8(event.type) + ")\n";
    for (const EventDigest& digest : event.digests) {
      out +=
          "  " + tpm::AlgorithmName(digest.algorithm_id) + ": " + HexEncode(digest.digest) + "\n";
    }
    out += "  size: " + std::to_string(event.data.size()) + "\n";
    AppendDecodedText(DecodeEventData(log, i), out);
  }
  out += "PCRs:\n";
  for (const auto& [bank, values] : replayed) {
    out += "  " + tpm::AlgorithmName(bank) + ":\n";
    for (const auto& [pcr, value] : values) {
      char index[8];
      std::snprintf(index, sizeof(index), "%2u", pcr);
      out += "    " + std::string(index) + ": " + HexEncode(value) + "\n";
    }
  }
  return out;
}

}  // namespace attest::verifier
