#include "attest/openssl.h"

#include <string>

#include <openssl/err.h>

namespace attest {

Error OpensslError(std::string_view action, ErrorCode code) {
  std::string message(action);
  unsigned long error = ERR_get_error();
  if (error != 0) {
    char reason[256];
    ERR_error_string_n(error, reason, sizeof(reason));
    message += ": ";
    message += reason;
  }
  ERR_clear_error();
  return MakeError(code, std::move(message));
}

}  // namespace attest
