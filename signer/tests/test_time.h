// The one signing time the signer tests use, so their envelopes and ledger
// records are the same bytes on every run.
#pragma once

#include <chrono>

#include "attest/clock.h"

namespace attest::signer::test {

inline const TimePoint kSigningTime = TimePoint(std::chrono::seconds(1795000000));

}  // namespace attest::signer::test
