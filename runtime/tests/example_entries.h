// The two events of runtime/FORMAT.md §5, shared by the entry and log tests.
#pragma once

#include "attest/runtime/entry.h"

namespace attest::runtime {

// /usr/bin/runc holding the 6 bytes "hello\n", and a configured config file
// that does not exist.
RuntimeEntry ExampleFile();
RuntimeEntry ExampleMissing();

}  // namespace attest::runtime
