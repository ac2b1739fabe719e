// ParseEnvelope's member-by-member reader (envelope_parse.cpp), split out to
// keep each file to one job.
#pragma once

#include "attest/json.h"
#include "attest/json_fields.h"
#include "attest/signer/envelope.h"

namespace attest::signer::internal {

// Reads and type-checks every member of `document` into `envelope`; the
// cross-member checks (time shape, manifest digest) are the caller's.
Status ParseEnvelopeFields(const JsonFields& fields, const Json& document, Envelope& envelope);

}  // namespace attest::signer::internal
