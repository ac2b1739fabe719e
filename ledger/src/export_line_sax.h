// The streaming fast path for export lines: one nlohmann SAX pass, the
// payload canonicalized as it streams by. It accepts only lines it can
// decide alone (every field once, of the right type, payload members in
// canonical order); for anything else it returns false and the caller uses
// the DOM parser, which also produces the error message.
#pragma once

#include <memory>
#include <string_view>

#include "attest/ledger/export.h"

namespace attest::ledger {

// Reusable across lines (it keeps its buffers); one per thread.
class ExportLineParser {
 public:
  ExportLineParser();
  ~ExportLineParser();
  ExportLineParser(const ExportLineParser&) = delete;
  ExportLineParser& operator=(const ExportLineParser&) = delete;

  // True when the line was decided here; false: use ParseExportLineWithDom.
  bool TryParse(std::string_view line, ExportLine& out);

  class Handler;  // defined in the .cpp

 private:
  std::unique_ptr<Handler> handler_;
};

}  // namespace attest::ledger
