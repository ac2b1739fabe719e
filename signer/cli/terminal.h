// Asking for a passphrase on the controlling terminal, without echo.
#pragma once

#include <string_view>

#include "attest/error.h"
#include "attest/secret.h"

namespace attest::signer::cli {

// Opens /dev/tty (never stdin: a pipe must not silently become the
// passphrase), prints `prompt` there, reads one line with echo off and
// restores the terminal. With `confirm`, asks again and requires the same
// answer. kInvalidArgument when there is no terminal, the line is empty or
// the answers differ.
Result<SecretBytes> PromptPassphrase(std::string_view prompt, bool confirm);

}  // namespace attest::signer::cli
