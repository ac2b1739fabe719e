// ParseAttestdConfig: the file walked against one table of keys (the
// verifier's configuration reads the same way, through toml_reader).
#include "attest/attestd/config.h"

#include <array>
#include <filesystem>
#include <optional>
#include <span>

#include "attest/attestd/runtime_pcr.h"
#include "attest/toml_reader.h"

namespace attest::attestd {
namespace {

using toml_reader::GetInteger;
using toml_reader::GetPath;
using toml_reader::GetString;
using toml_reader::GetStrings;
using toml_reader::KeyError;
using toml_reader::WrongType;

struct Context : toml_reader::Source {
  Context(AttestdConfig& target, std::string_view file_name, std::string directory)
      : Source{file_name, std::move(directory)}, config(target) {}
  AttestdConfig& config;
};

using Setter = Status (*)(const toml::node&, const std::string& key, Context&);
struct KeySpec {
  std::string_view key;
  Setter set;
};
struct SectionSpec {
  std::string_view name;  // "" for the top level
  std::span<const KeySpec> keys;
};

Status SetSeconds(std::chrono::seconds& out, const toml::node& node, const std::string& key,
                  Context& c, std::int64_t min, std::int64_t max) {
  ATTEST_ASSIGN_OR_RETURN(std::int64_t seconds, GetInteger(node, key, c, min, max));
  out = std::chrono::seconds(seconds);
  return OkStatus();
}

Status SetPath(std::string& out, const toml::node& node, const std::string& key, Context& c) {
  ATTEST_ASSIGN_OR_RETURN(out, GetPath(node, key, c));
  return OkStatus();
}

const std::array<KeySpec, 1> kTopLevelKeys = {{
    {"state_dir", [](const toml::node& node, const std::string& key,
                     Context& c) { return SetPath(c.config.state_dir, node, key, c); }},
}};

const std::array<KeySpec, 3> kTpmKeys = {{
    {"tcti",
     [](const toml::node& node, const std::string& key, Context& c) -> Status {
       ATTEST_ASSIGN_OR_RETURN(c.config.tcti, GetString(node, key, c));
       if (c.config.tcti.empty()) return KeyError(c, key, "is empty (default device:/dev/tpmrm0)");
       return OkStatus();
     }},
    {"ek_algorithm",
     [](const toml::node& node, const std::string& key, Context& c) -> Status {
       ATTEST_ASSIGN_OR_RETURN(std::string name, GetString(node, key, c));
       if (name == "rsa") {
         c.config.ek_algorithm = EkAlgorithm::kRsa;
       } else if (name == "ecc") {
         c.config.ek_algorithm = EkAlgorithm::kEcc;
       } else {
         return KeyError(c, key, "must be \"rsa\" or \"ecc\", not \"" + name + "\"");
       }
       return OkStatus();
     }},
    {"ak_algorithm",
     [](const toml::node& node, const std::string& key, Context& c) -> Status {
       ATTEST_ASSIGN_OR_RETURN(std::string name, GetString(node, key, c));
       if (name == "ecc") {
         c.config.ak_algorithm = AkAlgorithm::kEccP256;
       } else if (name == "rsa") {
         c.config.ak_algorithm = AkAlgorithm::kRsa2048;
       } else {
         return KeyError(c, key, "must be \"ecc\" or \"rsa\", not \"" + name + "\"");
       }
       return OkStatus();
     }},
}};

Status AddVerifierUrl(const std::string& url, const std::string& key, Context& c) {
  Result<VerifierEndpoint> endpoint = ParseVerifierUrl(url);
  if (!endpoint.ok()) return KeyError(c, key, endpoint.error().message);
  for (const VerifierEndpoint& known : c.config.verifiers) {
    if (known.host == endpoint->host && known.port == endpoint->port) {
      return KeyError(c, key, "names " + url + " twice");
    }
  }
  c.config.verifiers.push_back(std::move(endpoint).value());
  return OkStatus();
}

const std::array<KeySpec, 4> kVerifierKeys = {{
    {"url",
     [](const toml::node& node, const std::string& key, Context& c) -> Status {
       ATTEST_ASSIGN_OR_RETURN(std::string url, GetString(node, key, c));
       if (!c.config.verifiers.empty()) {
         return KeyError(c, key, "is given with verifier.urls: use one of the two");
       }
       return AddVerifierUrl(url, key, c);
     }},
    {"urls",
     [](const toml::node& node, const std::string& key, Context& c) -> Status {
       ATTEST_ASSIGN_OR_RETURN(std::vector<std::string> urls, GetStrings(node, key, c));
       if (!c.config.verifiers.empty()) {
         return KeyError(c, key, "is given with verifier.url: use one of the two");
       }
       if (urls.empty() || urls.size() > kMaxVerifierUrls) {
         return KeyError(c, key, "must list 1 to " + std::to_string(kMaxVerifierUrls) + " URLs");
       }
       for (const std::string& url : urls) ATTEST_RETURN_IF_ERROR(AddVerifierUrl(url, key, c));
       return OkStatus();
     }},
    {"ca_bundle", [](const toml::node& node, const std::string& key,
                     Context& c) { return SetPath(c.config.verifier_ca_bundle, node, key, c); }},
    {"timeout_seconds",
     [](const toml::node& node, const std::string& key, Context& c) {
       return SetSeconds(c.config.request_timeout, node, key, c, 1, 600);
     }},
}};

const std::array<KeySpec, 3> kNodeKeys = {{
    {"hostname",
     [](const toml::node& node, const std::string& key, Context& c) -> Status {
       ATTEST_ASSIGN_OR_RETURN(c.config.hostname, GetString(node, key, c));
       if (c.config.hostname.size() > 253) return KeyError(c, key, "is longer than 253 bytes");
       return OkStatus();
     }},
    {"certificate_dir", [](const toml::node& node, const std::string& key,
                           Context& c) { return SetPath(c.config.certificate_dir, node, key, c); }},
    {"key",
     [](const toml::node& node, const std::string& key, Context& c) -> Status {
       ATTEST_ASSIGN_OR_RETURN(std::string kind, GetString(node, key, c));
       if (kind == "tpm") {
         c.config.node_key = NodeKeyKind::kTpm;
       } else if (kind == "file") {
         c.config.node_key = NodeKeyKind::kFile;
       } else {
         return KeyError(c, key, "must be \"tpm\" or \"file\", not \"" + kind + "\"");
       }
       return OkStatus();
     }},
}};

const std::array<KeySpec, 4> kMeasurementKeys = {{
    {"boot_log",
     [](const toml::node& node, const std::string& key, Context& c) -> Status {
       // "" is allowed: a machine without a firmware event log.
       ATTEST_ASSIGN_OR_RETURN(std::string path, GetString(node, key, c));
       c.config.boot_log = toml_reader::ResolvePath(c.base_dir, path);
       return OkStatus();
     }},
    {"runtime_pcr",
     [](const toml::node& node, const std::string& key, Context& c) -> Status {
       ATTEST_ASSIGN_OR_RETURN(std::int64_t pcr, GetInteger(node, key, c, 0, 23));
       c.config.runtime_pcr = static_cast<std::uint32_t>(pcr);
       return OkStatus();
     }},
    {"runtime_files",
     [](const toml::node& node, const std::string& key, Context& c) -> Status {
       ATTEST_ASSIGN_OR_RETURN(c.config.runtime_files, toml_reader::GetPaths(node, key, c));
       return OkStatus();
     }},
    {"runtime_log", [](const toml::node& node, const std::string& key,
                       Context& c) { return SetPath(c.config.runtime_log, node, key, c); }},
}};

const std::array<KeySpec, 4> kScheduleKeys = {{
    {"interval_seconds",
     [](const toml::node& node, const std::string& key, Context& c) {
       return SetSeconds(c.config.interval, node, key, c, 1, 86'400);
     }},
    {"jitter_seconds",
     [](const toml::node& node, const std::string& key, Context& c) {
       return SetSeconds(c.config.jitter, node, key, c, 0, 3'600);
     }},
    {"retry_min_seconds",
     [](const toml::node& node, const std::string& key, Context& c) {
       return SetSeconds(c.config.retry_min, node, key, c, 1, 3'600);
     }},
    {"retry_max_seconds",
     [](const toml::node& node, const std::string& key, Context& c) {
       return SetSeconds(c.config.retry_max, node, key, c, 1, 86'400);
     }},
}};

const std::array<SectionSpec, 6> kSections = {{
    {"", kTopLevelKeys},
    {"tpm", kTpmKeys},
    {"verifier", kVerifierKeys},
    {"node", kNodeKeys},
    {"measurement", kMeasurementKeys},
    {"schedule", kScheduleKeys},
}};

const KeySpec* FindKey(std::span<const KeySpec> keys, std::string_view name) {
  for (const KeySpec& spec : keys) {
    if (spec.key == name) return &spec;
  }
  return nullptr;
}

Status ParseSection(const SectionSpec& section, const toml::node& node, Context& c) {
  const auto* table = node.as_table();
  if (table == nullptr) return WrongType(c, section.name, "a table", node);
  for (auto&& [name, value] : *table) {
    const std::string key = std::string(section.name) + "." + std::string(name.str());
    const KeySpec* spec = FindKey(section.keys, name.str());
    if (spec == nullptr) return KeyError(c, key, "unknown key");
    ATTEST_RETURN_IF_ERROR(spec->set(value, key, c));
  }
  return OkStatus();
}

Status ParseRoot(const toml::table& root, Context& c) {
  for (auto&& [name, value] : root) {
    const std::string key(name.str());
    if (const KeySpec* spec = FindKey(kTopLevelKeys, key)) {
      ATTEST_RETURN_IF_ERROR(spec->set(value, key, c));
      continue;
    }
    const SectionSpec* section = nullptr;
    for (const SectionSpec& candidate : kSections) {
      if (!candidate.name.empty() && candidate.name == key) section = &candidate;
    }
    if (section == nullptr) return KeyError(c, key, "unknown key");
    ATTEST_RETURN_IF_ERROR(ParseSection(*section, value, c));
  }
  if (c.config.verifiers.empty()) {
    return KeyError(c, "verifier.url", "missing (the verifier to attest to; or verifier.urls)");
  }
  if (c.config.verifier_ca_bundle.empty()) {
    return KeyError(c, "verifier.ca_bundle",
                    "missing (the CA that signs the verifier's TLS certificate; attestd never "
                    "talks to a verifier it cannot authenticate)");
  }
  if (c.config.retry_min > c.config.retry_max) {
    return KeyError(c, "schedule.retry_min_seconds", "is larger than schedule.retry_max_seconds");
  }
  Result<std::optional<std::string>> pcr_choice =
      CheckRuntimePcrChoice(c.config.runtime_pcr, false);
  if (!pcr_choice.ok()) return KeyError(c, "measurement.runtime_pcr", pcr_choice.error().message);
  return OkStatus();
}

bool ValidHostCharacter(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '-' || ch == '.';
}

}  // namespace

std::string VerifierUrls(const AttestdConfig& config) {
  std::string urls;
  for (const VerifierEndpoint& endpoint : config.verifiers) {
    urls += (urls.empty() ? "" : " ") + endpoint.url;
  }
  return urls;
}

Result<VerifierEndpoint> ParseVerifierUrl(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  auto fail = [&](std::string_view what) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "\"" + std::string(url) + "\" " + std::string(what) + " (expected https://HOST[:PORT])");
  };
  if (url.substr(0, kScheme.size()) != kScheme) return fail("is not an https:// URL");
  std::string_view rest = url.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#@") != std::string_view::npos) {
    return fail("has a path, query or user part");
  }
  VerifierEndpoint endpoint;
  endpoint.url = std::string(url);
  std::string_view host = rest;
  if (const std::size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    std::string_view port = rest.substr(colon + 1);
    unsigned value = 0;
    if (port.empty() || port.size() > 5) return fail("has a bad port");
    for (char ch : port) {
      if (ch < '0' || ch > '9') return fail("has a bad port");
      value = value * 10 + static_cast<unsigned>(ch - '0');
    }
    if (value == 0 || value > 65535) return fail("has a port out of range");
    endpoint.port = static_cast<std::uint16_t>(value);
  }
  if (host.empty() || host.size() > 253) return fail("has no host");
  for (char ch : host) {
    if (!ValidHostCharacter(ch)) return fail("has a host that is not a DNS name or IPv4 address");
  }
  endpoint.host = std::string(host);
  return endpoint;
}

std::vector<std::string> AttestdConfigKeys() {
  std::vector<std::string> keys;
  for (const SectionSpec& section : kSections) {
    for (const KeySpec& spec : section.keys) {
      keys.push_back(section.name.empty()
                         ? std::string(spec.key)
                         : std::string(section.name) + "." + std::string(spec.key));
    }
  }
  return keys;
}

Result<AttestdConfig> ParseAttestdConfig(std::string_view toml_text, std::string_view name) {
  AttestdConfig config;
  Context context(config, name, std::filesystem::path(name).parent_path().string());
  ATTEST_ASSIGN_OR_RETURN(toml::table root, toml_reader::ParseText(toml_text, name));
  ATTEST_RETURN_IF_ERROR(ParseRoot(root, context));
  return config;
}

Result<AttestdConfig> LoadAttestdConfig(const std::string& path) {
  ATTEST_ASSIGN_OR_RETURN(toml_reader::ConfigFile file, toml_reader::ReadConfigFile(path));
  return ParseAttestdConfig(file.text, file.name);
}

}  // namespace attest::attestd
