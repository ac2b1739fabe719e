// The configuration's value checks (config_values.cpp) and its key table
// (config.cpp), shared with the tests that compare the table against
// verifier/README.md and verifier/examples/verifier.toml.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "attest/error.h"

namespace attest::service::internal {

// Every key ParseServiceConfig accepts, as written in the README's table:
// "listen", "limits.threads", "webhooks[].url", ...
std::vector<std::string> ServiceConfigKeys();

// What is wrong with a value ("" when nothing is). Messages fit after
// "FILE: key.path: ".
std::string CheckListenAddress(std::string_view listen);
std::string CheckWebhookUrl(std::string_view url);
std::string CheckServerName(std::string_view name);

}  // namespace attest::service::internal
