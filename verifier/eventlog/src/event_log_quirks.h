// Firmware departures from the TCG PC Client Platform Firmware Profile that
// the verifier accepts, each named, each with the logs it was seen in, and
// each bounded so that it binds no byte the spec's rule would not.
#pragma once

#include "attest/bytes.h"
#include "attest/tpm/algorithms.h"

namespace attest::verifier::quirks {

// "UEFI variable value-only digest": PFP §10.4.4 says a UEFI variable
// event's digest is H(UEFI_VARIABLE_DATA), the whole structure. Some
// firmware hashes only VariableData, the value (seen in PCR 7 of
// goattest_linux_tpm12.bin, and in PCR 1 and 5 of most shared logs for
// Boot#### and BootOrder). True when `data` is a well-formed
// UEFI_VARIABLE_DATA whose VariableData hashes to `digest`. The value is
// then bound and the GUID and name are not: a caller must bind them some
// other way (boot_facts.cpp binds them by position).
bool DigestIsOfUefiVariableValue(ByteView data, ByteView digest,
                                 const tpm::HashAlgorithm& algorithm);

}  // namespace attest::verifier::quirks
