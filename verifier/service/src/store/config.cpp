// ParseServiceConfig: the TOML file walked against one table of keys, so
// that an unknown key anywhere, a wrong type or a bad value is an error
// "FILE: key.path: what is wrong", and the README's key table can be
// checked against the same list (ServiceConfigKeys).
#include "attest/service/config.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <span>

#include <toml++/toml.h>

#include "attest/http/proxy_protocol.h"
#include "attest/toml_reader.h"

#include "src/store/config_internal.h"

namespace attest::service {
namespace {

using toml_reader::GetBool;
using toml_reader::GetInteger;
using toml_reader::GetNumber;
using toml_reader::GetPath;
using toml_reader::GetPaths;
using toml_reader::GetString;
using toml_reader::KeyError;
using toml_reader::WrongType;

// The file (its name and directory) and the configuration it fills.
struct Context : toml_reader::Source {
  Context(ServiceConfig& target, std::string_view file_name, std::string directory)
      : Source{file_name, std::move(directory)}, config(target) {}
  ServiceConfig& config;
};

using Setter = Status (*)(const toml::node&, const std::string& key, Context&);

struct KeySpec {
  std::string_view key;  // within its table
  Setter set;
};

struct SectionSpec {
  std::string_view name;
  std::span<const KeySpec> keys;
};

template <typename Duration>
Status SetDuration(Duration& out, const toml::node& node, const std::string& key, Context& c,
                   std::int64_t min, std::int64_t max) {
  ATTEST_ASSIGN_OR_RETURN(std::int64_t count, GetInteger(node, key, c, min, max));
  out = Duration(count);
  return OkStatus();
}

template <typename Integer>
Status SetInteger(Integer& out, const toml::node& node, const std::string& key, Context& c,
                  std::int64_t min, std::int64_t max) {
  ATTEST_ASSIGN_OR_RETURN(std::int64_t value, GetInteger(node, key, c, min, max));
  out = static_cast<Integer>(value);
  return OkStatus();
}

Status SetOptionalPath(std::optional<std::string>& out, const toml::node& node,
                       const std::string& key, Context& c) {
  ATTEST_ASSIGN_OR_RETURN(std::string path, GetPath(node, key, c));
  out = std::move(path);
  return OkStatus();
}

const std::array<KeySpec, 3> kTopLevelKeys = {{
    {"listen",
     [](const toml::node& node, const std::string& key, Context& c) -> Status {
       ATTEST_ASSIGN_OR_RETURN(c.config.listen, GetString(node, key, c));
       std::string problem = internal::CheckListenAddress(c.config.listen);
       return problem.empty() ? OkStatus() : Status(KeyError(c, key, problem));
     }},
    {"state_dir",
     [](const toml::node& node, const std::string& key, Context& c) -> Status {
       ATTEST_ASSIGN_OR_RETURN(c.config.state_dir, GetString(node, key, c));
       if (c.config.state_dir.empty() || c.config.state_dir.front() != '/') {
         return KeyError(c, key, "must be an absolute path, not \"" + c.config.state_dir + "\"");
       }
       return OkStatus();
     }},
    {"storage",
     [](const toml::node& node, const std::string& key, Context& c) -> Status {
       ATTEST_ASSIGN_OR_RETURN(c.config.storage, GetString(node, key, c));
       const std::string& storage = c.config.storage;
       if (storage.starts_with("postgresql://") || storage.starts_with("postgres://")) {
         return OkStatus();
       }
       if (storage.empty() || storage.front() != '/') {
         return KeyError(c, key,
                         "must be a postgresql:// URL or the absolute path of a directory, not \"" +
                             storage + "\"");
       }
       return OkStatus();
     }},
}};

const std::array<KeySpec, 2> kTlsKeys = {{
    {"server_names",
     [](const toml::node& node, const std::string& key, Context& c) -> Status {
       const auto* array = node.as_array();
       if (array == nullptr) return WrongType(c, key, "an array of names", node);
       c.config.server_names.clear();
       for (std::size_t i = 0; i < array->size(); ++i) {
         const std::string element = key + "[" + std::to_string(i) + "]";
         ATTEST_ASSIGN_OR_RETURN(std::string name, GetString((*array)[i], element, c));
         std::string problem = internal::CheckServerName(name);
         if (!problem.empty()) return KeyError(c, element, problem);
         c.config.server_names.push_back(std::move(name));
       }
       return OkStatus();
     }},
    {"client_ca", [](const toml::node& node, const std::string& key,
                     Context& c) { return SetOptionalPath(c.config.client_ca, node, key, c); }},
}};

const std::array<KeySpec, 4> kEnrollmentKeys = {{
    {"tpm_ca_bundle",
     [](const toml::node& node, const std::string& key, Context& c) {
       return SetOptionalPath(c.config.tpm_ca_bundle, node, key, c);
     }},
    {"ek_allowlist",
     [](const toml::node& node, const std::string& key, Context& c) {
       return SetOptionalPath(c.config.ek_allowlist, node, key, c);
     }},
    {"require_approval",
     [](const toml::node& node, const std::string& key, Context& c) -> Status {
       ATTEST_ASSIGN_OR_RETURN(c.config.require_approval, GetBool(node, key, c));
       return OkStatus();
     }},
    {"lifetime_seconds",
     [](const toml::node& node, const std::string& key, Context& c) {
       return SetDuration(c.config.enrollment_lifetime, node, key, c, 10, 86400);
     }},
}};

const std::array<KeySpec, 4> kPolicyKeys = {{
    {"file", [](const toml::node& node, const std::string& key,
                Context& c) { return SetOptionalPath(c.config.policy_file, node, key, c); }},
    {"policy_keys",
     [](const toml::node& node, const std::string& key, Context& c) -> Status {
       ATTEST_ASSIGN_OR_RETURN(c.config.policy_keys, GetPaths(node, key, c));
       return OkStatus();
     }},
    {"approval_keys",
     [](const toml::node& node, const std::string& key, Context& c) -> Status {
       ATTEST_ASSIGN_OR_RETURN(c.config.approval_keys, GetPaths(node, key, c));
       return OkStatus();
     }},
    {"trust_max_age_seconds",
     [](const toml::node& node, const std::string& key, Context& c) {
       return SetDuration(c.config.trust_max_age, node, key, c, 0, 7 * 86400);
     }},
}};

const std::array<KeySpec, 2> kCertificateKeys = {{
    {"allow_file_keys",
     [](const toml::node& node, const std::string& key, Context& c) -> Status {
       ATTEST_ASSIGN_OR_RETURN(c.config.allow_file_keys, GetBool(node, key, c));
       return OkStatus();
     }},
    {"crl_validity_seconds",
     [](const toml::node& node, const std::string& key, Context& c) {
       return SetDuration(c.config.crl_validity, node, key, c, 60, 30 * 86400);
     }},
}};

const std::array<KeySpec, 9> kLimitKeys = {{
    {"max_connections",
     [](const toml::node& node, const std::string& key, Context& c) {
       return SetInteger(c.config.max_connections, node, key, c, 1, 100000);
     }},
    {"max_connections_per_address",
     [](const toml::node& node, const std::string& key, Context& c) {
       return SetInteger(c.config.max_connections_per_address, node, key, c, 1, 100000);
     }},
    {"max_body_bytes",
     [](const toml::node& node, const std::string& key, Context& c) {
       return SetInteger(c.config.max_body_bytes, node, key, c, 1024, std::int64_t{1} << 30);
     }},
    {"header_timeout_ms",
     [](const toml::node& node, const std::string& key, Context& c) {
       return SetDuration(c.config.header_timeout, node, key, c, 100, 3600000);
     }},
    {"body_timeout_ms",
     [](const toml::node& node, const std::string& key, Context& c) {
       return SetDuration(c.config.body_timeout, node, key, c, 100, 3600000);
     }},
    {"idle_timeout_ms",
     [](const toml::node& node, const std::string& key, Context& c) {
       return SetDuration(c.config.idle_timeout, node, key, c, 100, 3600000);
     }},
    {"threads",
     [](const toml::node& node, const std::string& key, Context& c) {
       return SetInteger(c.config.threads.emplace(), node, key, c, 1, 64);
     }},
    {"rate_per_second",
     [](const toml::node& node, const std::string& key, Context& c) -> Status {
       ATTEST_ASSIGN_OR_RETURN(c.config.rate_limit.per_second, GetNumber(node, key, c, 0.001, 1e6));
       return OkStatus();
     }},
    {"rate_burst",
     [](const toml::node& node, const std::string& key, Context& c) -> Status {
       ATTEST_ASSIGN_OR_RETURN(c.config.rate_limit.burst, GetNumber(node, key, c, 1, 1e6));
       return OkStatus();
     }},
}};

const std::array<KeySpec, 1> kProxyProtocolKeys = {{
    {"trusted_proxies",
     [](const toml::node& node, const std::string& key, Context& c) -> Status {
       const auto* array = node.as_array();
       if (array == nullptr) return WrongType(c, key, "an array of addresses", node);
       c.config.trusted_proxies.clear();
       for (std::size_t i = 0; i < array->size(); ++i) {
         const std::string element = key + "[" + std::to_string(i) + "]";
         ATTEST_ASSIGN_OR_RETURN(std::string proxy, GetString((*array)[i], element, c));
         Result<http::AddressPrefix> prefix = http::ParseAddressPrefix(proxy);
         if (!prefix.ok()) return KeyError(c, element, prefix.error().message);
         c.config.trusted_proxies.push_back(std::move(proxy));
       }
       return OkStatus();
     }},
}};

const std::array<SectionSpec, 6> kSections = {{
    {"tls", kTlsKeys},
    {"enrollment", kEnrollmentKeys},
    {"policy", kPolicyKeys},
    {"certificates", kCertificateKeys},
    {"limits", kLimitKeys},
    {"proxy_protocol", kProxyProtocolKeys},
}};

// [[webhooks]]: an array of tables, each checked on its own.
constexpr std::string_view kWebhooks = "webhooks";
constexpr std::array<std::string_view, 2> kWebhookKeys = {"url", "ca_bundle"};

const KeySpec* FindKey(std::span<const KeySpec> keys, std::string_view key) {
  for (const KeySpec& spec : keys) {
    if (spec.key == key) return &spec;
  }
  return nullptr;
}

Status ParseSection(const SectionSpec& section, const toml::node& node, Context& c) {
  const auto* table = node.as_table();
  if (table == nullptr) {
    return WrongType(c, section.name, "a table ([" + std::string(section.name) + "])", node);
  }
  for (auto&& [name, value] : *table) {
    const std::string key = std::string(section.name) + "." + std::string(name.str());
    const KeySpec* spec = FindKey(section.keys, name.str());
    if (spec == nullptr) return KeyError(c, key, "unknown key");
    ATTEST_RETURN_IF_ERROR(spec->set(value, key, c));
  }
  return OkStatus();
}

Result<WebhookConfig> ParseWebhook(const toml::node& node, const std::string& where, Context& c) {
  const auto* table = node.as_table();
  if (table == nullptr) return WrongType(c, where, "a table ([[webhooks]])", node);
  WebhookConfig webhook;
  bool has_url = false;
  for (auto&& [name, value] : *table) {
    const std::string key = where + "." + std::string(name.str());
    if (name.str() == kWebhookKeys[0]) {
      ATTEST_ASSIGN_OR_RETURN(webhook.url, GetString(value, key, c));
      std::string problem = internal::CheckWebhookUrl(webhook.url);
      if (!problem.empty()) return KeyError(c, key, problem);
      has_url = true;
    } else if (name.str() == kWebhookKeys[1]) {
      ATTEST_RETURN_IF_ERROR(SetOptionalPath(webhook.ca_bundle, value, key, c));
    } else {
      return KeyError(c, key, "unknown key");
    }
  }
  if (!has_url) return KeyError(c, where + ".url", "missing (every webhook needs one)");
  return webhook;
}

Status ParseWebhooks(const toml::node& node, Context& c) {
  const auto* array = node.as_array();
  if (array == nullptr) return WrongType(c, kWebhooks, "an array of tables ([[webhooks]])", node);
  for (std::size_t i = 0; i < array->size(); ++i) {
    const std::string where = std::string(kWebhooks) + "[" + std::to_string(i) + "]";
    ATTEST_ASSIGN_OR_RETURN(WebhookConfig webhook, ParseWebhook((*array)[i], where, c));
    c.config.webhooks.push_back(std::move(webhook));
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
    if (key == kWebhooks) {
      ATTEST_RETURN_IF_ERROR(ParseWebhooks(value, c));
      continue;
    }
    const SectionSpec* section = nullptr;
    for (const SectionSpec& candidate : kSections) {
      if (candidate.name == key) section = &candidate;
    }
    if (section == nullptr) return KeyError(c, key, "unknown key");
    ATTEST_RETURN_IF_ERROR(ParseSection(*section, value, c));
  }
  if (c.config.state_dir.empty()) return KeyError(c, "state_dir", "missing (it is required)");
  return OkStatus();
}

}  // namespace

namespace internal {

std::vector<std::string> ServiceConfigKeys() {
  std::vector<std::string> keys;
  for (const KeySpec& spec : kTopLevelKeys) keys.emplace_back(spec.key);
  for (const SectionSpec& section : kSections) {
    for (const KeySpec& spec : section.keys) {
      keys.push_back(std::string(section.name) + "." + std::string(spec.key));
    }
  }
  for (std::string_view key : kWebhookKeys) {
    keys.push_back(std::string(kWebhooks) + "[]." + std::string(key));
  }
  return keys;
}

}  // namespace internal

Result<ServiceConfig> ParseServiceConfig(std::string_view toml_text, std::string_view name) {
  ServiceConfig config;
  Context context(config, name, std::filesystem::path(name).parent_path().string());
  ATTEST_ASSIGN_OR_RETURN(toml::table root, toml_reader::ParseText(toml_text, name));
  ATTEST_RETURN_IF_ERROR(ParseRoot(root, context));
  return config;
}

StorageLocation ResolveStorage(const std::string& storage, const std::string& state_dir) {
  StorageLocation location;
  if (storage.starts_with("postgresql://") || storage.starts_with("postgres://")) {
    location.postgres_url = storage;
  } else {
    location.sqlite_dir = storage.empty() ? state_dir : storage;
  }
  return location;
}

unsigned ServingThreads(const ServiceConfig& config, unsigned cores) {
  if (config.threads) return *config.threads;
  if (!ResolveStorage(config.storage, config.state_dir).is_postgres()) return 2;
  return std::clamp(2 * cores, 4u, 16u);
}

Result<ServiceConfig> LoadServiceConfig(const std::string& path) {
  ATTEST_ASSIGN_OR_RETURN(toml_reader::ConfigFile file, toml_reader::ReadConfigFile(path));
  return ParseServiceConfig(file.text, file.name);
}

}  // namespace attest::service
