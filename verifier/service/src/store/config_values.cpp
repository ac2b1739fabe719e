// Checks of the configuration's structured strings: listen addresses,
// webhook URLs, server names, and relative paths.
#include <cctype>

#include "src/store/config_internal.h"

namespace attest::service::internal {
namespace {

bool IsHostnameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-';
}

bool IsIpv6Char(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
}

// "" for a decimal port 0..65535 (`allow_zero` else 1..65535).
std::string CheckPort(std::string_view port, bool allow_zero) {
  if (port.empty() || port.size() > 5) return "the port must be 1 to 5 digits";
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return "the port \"" + std::string(port) + "\" is not a number";
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535 || (value == 0 && !allow_zero)) {
    return "the port " + std::string(port) + " is outside " + (allow_zero ? "0" : "1") + "..65535";
  }
  return "";
}

struct HostPort {
  std::string_view host;  // without brackets
  bool bracketed = false;
  std::string_view port;  // "" when absent
  bool has_port = false;
};

// Splits "HOST[:PORT]" or "[IPV6][:PORT]"; "" error when well-formed.
std::string SplitHostPort(std::string_view text, HostPort& out) {
  if (!text.empty() && text.front() == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos) return "an IPv6 address needs a closing ']'";
    out.host = text.substr(1, close - 1);
    out.bracketed = true;
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return "expected ':' and a port after ']'";
      out.port = rest.substr(1);
      out.has_port = true;
    }
    if (out.host.empty()) return "the IPv6 address is empty";
    for (char c : out.host) {
      if (!IsIpv6Char(c)) return "\"" + std::string(out.host) + "\" is not an IPv6 address";
    }
    return "";
  }
  std::size_t colon = text.rfind(':');
  out.host = text.substr(0, colon);
  if (colon != std::string_view::npos) {
    out.port = text.substr(colon + 1);
    out.has_port = true;
  }
  if (out.host.empty()) return "the host is empty";
  for (char c : out.host) {
    if (!IsHostnameChar(c)) {
      return "\"" + std::string(out.host) +
             "\" is not a host name or IPv4 address (write an IPv6 address in brackets)";
    }
  }
  return "";
}

}  // namespace

std::string CheckListenAddress(std::string_view listen) {
  HostPort parts;
  if (std::string problem = SplitHostPort(listen, parts); !problem.empty()) {
    return "\"" + std::string(listen) + "\": " + problem + " (expected HOST:PORT)";
  }
  if (!parts.has_port) return "\"" + std::string(listen) + "\" has no port (expected HOST:PORT)";
  // Port 0 asks the kernel for a free port (tests).
  if (std::string problem = CheckPort(parts.port, true); !problem.empty()) {
    return "\"" + std::string(listen) + "\": " + problem;
  }
  return "";
}

std::string CheckWebhookUrl(std::string_view url) {
  constexpr std::string_view kHttps = "https://";
  constexpr std::string_view kHttp = "http://";
  const bool https = url.substr(0, kHttps.size()) == kHttps;
  const bool http = url.substr(0, kHttp.size()) == kHttp;
  if (!https && !http) return "\"" + std::string(url) + "\" is not an https:// URL";
  std::string_view rest = url.substr(https ? kHttps.size() : kHttp.size());
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) {
    return "\"" + std::string(url) + "\" carries credentials; the request is signed instead";
  }
  HostPort parts;
  if (std::string problem = SplitHostPort(authority, parts); !problem.empty()) {
    return "\"" + std::string(url) + "\": " + problem;
  }
  if (parts.has_port) {
    if (std::string problem = CheckPort(parts.port, false); !problem.empty()) {
      return "\"" + std::string(url) + "\": " + problem;
    }
  }
  if (http && parts.host != "127.0.0.1" && !(parts.bracketed && parts.host == "::1")) {
    return "\"" + std::string(url) +
           "\": http:// is allowed only to 127.0.0.1 or [::1]; use https://";
  }
  return "";
}

std::string CheckServerName(std::string_view name) {
  if (name.empty()) return "a server name is empty";
  if (name.size() > 253) return "a server name is longer than 253 characters";
  for (char c : name) {
    if (!IsHostnameChar(c) && c != ':') {
      return "\"" + std::string(name) + "\" is not a DNS name or IP address";
    }
  }
  return "";
}

}  // namespace attest::service::internal
