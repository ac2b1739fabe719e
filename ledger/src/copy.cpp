// CopyLedgerStore (copy.h): one read snapshot of the source, one write
// transaction on the target.
#include "attest/ledger/copy.h"

#include <limits>
#include <memory>
#include <string>

namespace attest::ledger {
namespace {

Status CopyEntries(LedgerStore& source, LedgerStore& target, LedgerCopyCounts& counts) {
  ATTEST_ASSIGN_OR_RETURN(std::unique_ptr<EntryCursor> cursor,
                          source.ScanEntries(1, std::numeric_limits<std::int64_t>::max()));
  Entry entry;
  while (true) {
    Result<bool> next = cursor->Next(entry);
    if (!next.ok()) {
      return next.error().WithContext("source entry after seq " + std::to_string(counts.entries));
    }
    if (!*next) return OkStatus();
    if (entry.seq != counts.entries + 1) {
      return MakeError(ErrorCode::kCorrupt, "source entries skip from seq " +
                                                std::to_string(counts.entries) + " to " +
                                                std::to_string(entry.seq));
    }
    ATTEST_RETURN_IF_ERROR(target.InsertEntry(entry));
    ++counts.entries;
  }
}

Status CopyNodes(LedgerStore& source, LedgerStore& target, LedgerCopyCounts& counts) {
  ATTEST_ASSIGN_OR_RETURN(std::unique_ptr<NodeCursor> cursor, source.ScanNodes());
  CompactRange::Node node{};
  while (true) {
    Result<bool> next = cursor->Next(node);
    if (!next.ok()) return next.error().WithContext("source Merkle nodes");
    if (!*next) return OkStatus();
    ATTEST_RETURN_IF_ERROR(target.InsertNode(node));
    ++counts.nodes;
  }
}

Status CopyRows(LedgerStore& source, LedgerStore& target, const TreeHead& target_head,
                LedgerCopyCounts& counts) {
  ATTEST_ASSIGN_OR_RETURN(auto target_meta, target.ReadAllMeta());
  if (target_head.size != 0 || !target_meta.empty()) {
    return MakeError(ErrorCode::kAlreadyExists,
                     "the target already holds a ledger (" + std::to_string(target_head.size) +
                         " entries, " + std::to_string(target_meta.size()) + " metadata rows)");
  }
  ATTEST_ASSIGN_OR_RETURN(auto meta, source.ReadAllMeta());
  for (const auto& [key, value] : meta) {
    ATTEST_RETURN_IF_ERROR(target.WriteMeta(key, value));
    ++counts.meta;
  }
  ATTEST_RETURN_IF_ERROR(CopyEntries(source, target, counts));
  ATTEST_RETURN_IF_ERROR(CopyNodes(source, target, counts));
  ATTEST_ASSIGN_OR_RETURN(std::vector<StoredCheckpoint> checkpoints, source.AllCheckpoints());
  for (const StoredCheckpoint& checkpoint : checkpoints) {
    ATTEST_RETURN_IF_ERROR(target.InsertCheckpoint(checkpoint));
    ++counts.checkpoints;
  }
  return OkStatus();
}

}  // namespace

Result<LedgerCopyCounts> CopyLedgerStore(LedgerStore& source, LedgerStore& target) {
  LedgerCopyCounts counts;
  Status copied = source.WithReadSnapshot([&]() -> Status {
    return target.WithWriteTransaction(
        [&](const TreeHead& head) -> Status { return CopyRows(source, target, head, counts); });
  });
  if (!copied.ok()) return copied.error().WithContext("copy the ledger");
  return counts;
}

}  // namespace attest::ledger
