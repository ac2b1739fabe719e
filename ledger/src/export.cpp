#include "attest/ledger/export.h"

namespace attest::ledger {

Status WriteExport(Ledger& ledger, const StoredCheckpoint& checkpoint, ExportFormat format,
                   std::ostream& out) {
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t size, ledger.Size());
  if (checkpoint.tree_size > size) {
    return MakeError(ErrorCode::kCorrupt,
                     "the checkpoint covers " + std::to_string(checkpoint.tree_size) +
                         " entries but the ledger holds " + std::to_string(size));
  }
  std::string buffer;
  if (format == ExportFormat::kCsv) AppendCsvHeader(buffer);
  if (checkpoint.tree_size > 0) {
    ATTEST_ASSIGN_OR_RETURN(std::unique_ptr<EntryCursor> cursor,
                            ledger.store().ScanEntries(1, checkpoint.tree_size));
    Entry entry;
    while (true) {
      ATTEST_ASSIGN_OR_RETURN(bool has_entry, cursor->Next(entry));
      if (!has_entry) break;
      if (format == ExportFormat::kCsv) {
        AppendCsvRow(entry, buffer);
      } else {
        AppendEntryLine(entry, buffer);
        buffer.push_back('\n');
      }
      if (buffer.size() >= (1 << 20)) {
        out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        buffer.clear();
      }
    }
  }
  if (format == ExportFormat::kJsonLines) {
    AppendCheckpointLine(checkpoint.note, buffer);
    buffer.push_back('\n');
  }
  out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  out.flush();
  if (!out) return MakeError(ErrorCode::kIo, "writing the export failed");
  return OkStatus();
}

}  // namespace attest::ledger
