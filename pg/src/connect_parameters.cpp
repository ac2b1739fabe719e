#include "src/connect_parameters.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <string_view>

#include <libpq-fe.h>

namespace attest::pg {
namespace {

// Our defaults for settings the URL leaves unset. Keepalives and
// tcp_user_timeout make a dead server or a cut network show within about
// 30 s instead of the kernel's hours, so a writer's lock is not held by a
// connection nobody can use.
constexpr std::pair<const char*, const char*> kDefaults[] = {
    {"client_encoding", "UTF8"},  {"keepalives", "1"},       {"keepalives_idle", "10"},
    {"keepalives_interval", "5"}, {"keepalives_count", "3"}, {"tcp_user_timeout", "30000"},
};

// Modes that send data to a server whose certificate was not checked against
// its name (or without TLS at all).
bool IsUnverified(std::string_view mode) {
  return mode == "disable" || mode == "allow" || mode == "prefer" || mode == "require";
}

// A libpq host entry names a unix socket directory when it is a path (or an
// abstract socket, '@'); anything else is a TCP host name or address.
bool AnyTcpHost(const std::string& hosts, const std::string& hostaddrs) {
  if (!hostaddrs.empty()) return true;
  if (hosts.empty()) return false;  // libpq's default: the compiled-in socket dir
  std::string_view rest = hosts;
  while (true) {
    const std::size_t comma = rest.find(',');
    std::string_view host = rest.substr(0, comma);
    if (host.empty() || (host.front() != '/' && host.front() != '@')) return true;
    if (comma == std::string_view::npos) return false;
    rest.remove_prefix(comma + 1);
  }
}

std::string Environment(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

}  // namespace

std::string ConnectParameters::Get(const std::string& keyword) const {
  for (const auto& [key, value] : keywords) {
    if (key == keyword) return value;
  }
  return "";
}

Result<ConnectParameters> BuildConnectParameters(const std::string& url,
                                                 const ConnectOptions& options) {
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &parse_error);
  PQfreemem(parse_error);  // it may quote the URL, password and all
  if (parsed == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "not a valid PostgreSQL URL (postgresql://[user@]host[:port]/database"
                     "[?param=value&...]); the URL is not repeated here, as it may hold a secret");
  }
  std::map<std::string, std::string, std::less<>> in_url;
  for (PQconninfoOption* option = parsed; option->keyword != nullptr; ++option) {
    if (option->val != nullptr && option->val[0] != '\0') in_url[option->keyword] = option->val;
  }
  PQconninfoFree(parsed);
  for (const char* secret : {"password", "sslpassword"}) {
    if (in_url.contains(secret)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       std::string("the PostgreSQL URL carries a ") + secret +
                           ": remove it, and put the password in a passfile (PGPASSFILE) or the "
                           "service's environment instead");
    }
  }

  ConnectParameters parameters;
  auto add_default = [&](const std::string& keyword, const std::string& value) {
    if (!in_url.contains(keyword)) parameters.keywords.emplace_back(keyword, value);
  };
  // libpq reads PGSSLMODE only when no parameter sets sslmode, so ours goes
  // in only when neither the URL nor the environment chose one.
  const std::string environment_mode = Environment("PGSSLMODE");
  if (auto mode = in_url.find("sslmode"); mode != in_url.end()) {
    parameters.sslmode = mode->second;
  } else if (!environment_mode.empty()) {
    parameters.sslmode = environment_mode;
  } else {
    parameters.sslmode = "verify-full";
    parameters.keywords.emplace_back("sslmode", "verify-full");
  }
  auto url_or_environment = [&](const char* keyword, const char* variable) {
    auto found = in_url.find(keyword);
    return found != in_url.end() ? found->second : Environment(variable);
  };
  parameters.tcp = AnyTcpHost(url_or_environment("host", "PGHOST"),
                              url_or_environment("hostaddr", "PGHOSTADDR"));
  if (parameters.tcp && IsUnverified(parameters.sslmode) && !options.allow_insecure_transport) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the PostgreSQL URL reaches a TCP host with sslmode=" + parameters.sslmode +
                         ", which does not verify the server (data and credentials could go to "
                         "an impostor or in clear text): set sslmode=verify-full (and "
                         "sslrootcert) in the URL, or connect through a unix socket, or allow "
                         "insecure transport explicitly (allow_insecure_transport)");
  }

  add_default("connect_timeout", std::to_string(options.connect_timeout_seconds));
  parameters.keywords.emplace_back("fallback_application_name", options.application_name);
  for (const auto& [keyword, value] : kDefaults) add_default(keyword, value);
  // After a failover the old primary (or a standby) may answer first; a
  // writer asks for the one that accepts writes instead of failing on it.
  if (options.read_write) add_default("target_session_attrs", "read-write");
  if (auto startup = in_url.find("options"); startup != in_url.end()) {
    parameters.url_options = startup->second;
  }
  parameters.keywords.emplace_back("dbname", url);
  return parameters;
}

}  // namespace attest::pg
