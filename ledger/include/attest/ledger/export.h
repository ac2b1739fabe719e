// Ledger exports (FORMAT.md §6): JSON Lines for verification, CSV for
// spreadsheets.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "attest/error.h"
#include "attest/json.h"
#include "attest/ledger/entry.h"
#include "attest/ledger/ledger.h"

namespace attest::ledger {

enum class ExportFormat { kJsonLines, kCsv };

// Lines longer than this are refused by verification (a payload is at most
// 1 MiB in canonical form; the rest of a line is small).
inline constexpr std::size_t kMaxExportLineBytes = 2 * kMaxPayloadBytes + 4096;

// Writes entries 1..checkpoint.tree_size, then (JSON Lines only) the
// checkpoint line. Fails if the ledger has fewer entries than the checkpoint.
Status WriteExport(Ledger& ledger, const StoredCheckpoint& checkpoint, ExportFormat format,
                   std::ostream& out);

// One line of a JSON Lines export, without the newline.
void AppendEntryLine(const Entry& entry, std::string& out);
void AppendCheckpointLine(std::string_view note, std::string& out);

struct ExportLine {
  bool is_checkpoint = false;
  Entry entry;             // when !is_checkpoint
  std::string checkpoint;  // the note, when is_checkpoint
};
// Parses one line; an error (kCorrupt) names the field that is missing or
// malformed.
// Lines as `ledger export` writes them take a streaming fast path; anything
// else goes through ParseExportLineWithDom, which decides and explains.
Status ParseExportLine(std::string_view line, ExportLine& out);
// The reference parser: strict DOM parsing and RFC 8785 canonicalization.
Status ParseExportLineWithDom(std::string_view line, ExportLine& out);
// Parses an entry object of the export format (also embedded in proofs).
Status ParseExportEntry(const Json& line, Entry& entry);

// RFC 4180 CSV with a header row. Cells that a spreadsheet would run as a
// formula (leading = + - @ tab CR) are prefixed with a single quote.
void AppendCsvHeader(std::string& out);
void AppendCsvRow(const Entry& entry, std::string& out);

}  // namespace attest::ledger
