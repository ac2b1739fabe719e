#include "example_entries.h"

#include "attest/sha256.h"

namespace attest::runtime {

RuntimeEntry ExampleFile() {
  RuntimeEntry entry;
  entry.pcr = 15;
  entry.path = "/usr/bin/runc";
  entry.kind = RuntimeKind::kFile;
  entry.sha256 = Sha256Of(AsBytes("hello\n"));
  entry.size = 6;
  entry.time = "2026-11-22T09:22:00.000001Z";
  return entry;
}

RuntimeEntry ExampleMissing() {
  RuntimeEntry entry;
  entry.pcr = 15;
  entry.path = "/etc/containerd/config.toml";
  entry.kind = RuntimeKind::kMissing;
  entry.detail = "stat: No such file or directory (ENOENT)";
  entry.time = "2026-11-22T09:22:00.000002Z";
  return entry;
}

}  // namespace attest::runtime
