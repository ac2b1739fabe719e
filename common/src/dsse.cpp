#include "attest/dsse.h"

#include <string>

namespace attest {

Bytes DssePreAuthEncoding(std::string_view payload_type, ByteView body) {
  const std::string type_length = std::to_string(payload_type.size());
  const std::string body_length = std::to_string(body.size());
  Bytes encoded;
  encoded.reserve(7 + type_length.size() + 1 + payload_type.size() + 1 + body_length.size() + 1 +
                  body.size());
  for (std::string_view piece : {std::string_view("DSSEv1 "), std::string_view(type_length),
                                 std::string_view(" "), payload_type, std::string_view(" "),
                                 std::string_view(body_length), std::string_view(" ")}) {
    AppendBytes(encoded, AsBytes(piece));
  }
  AppendBytes(encoded, body);
  return encoded;
}

}  // namespace attest
