#include "attest/openssl.h"

#include <array>
#include <string>

#include <openssl/err.h>

namespace attest {

Error OpensslError(std::string_view action, ErrorCode code) {
  std::string message(action);
  unsigned long error = ERR_get_error();
  if (error != 0) {
    std::array<char, 256> reason{};
    ERR_error_string_n(error, reason.data(), reason.size());
    message += ": ";
    message += reason.data();
  }
  ERR_clear_error();
  return MakeError(code, std::move(message));
}

}  // namespace attest
