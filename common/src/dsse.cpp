#include "attest/dsse.h"

#include <string>

namespace attest {

Bytes DssePreAuthEncoding(std::string_view payload_type, ByteView body) {
  std::string header = "DSSEv1 " + std::to_string(payload_type.size()) + " ";
  header += payload_type;
  header += " " + std::to_string(body.size()) + " ";
  Bytes encoded = ToBytes(header);
  encoded.insert(encoded.end(), body.begin(), body.end());
  return encoded;
}

}  // namespace attest
