// The DSSE v1 pre-authentication encoding: what a signature over a typed
// payload actually signs, so a signature made for one payload type can never
// be replayed as another (https://github.com/secure-systems-lab/dsse).
#pragma once

#include <string_view>

#include "attest/bytes.h"

namespace attest {

// "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, LEN in ASCII decimal.
Bytes DssePreAuthEncoding(std::string_view payload_type, ByteView body);

}  // namespace attest
