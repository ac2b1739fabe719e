// VerifyExport: a JSON Lines export checked offline against the ledger key.
//
// Two stages. Parsing a line, canonicalizing its payload, hashing it and
// checking its signature depend on that line alone, so batches of lines are
// examined on worker threads. Everything that relates lines to each other
// (seq order, the chain, the Merkle tree, the checkpoint) happens on the
// calling thread, in file order.
#include <algorithm>
#include <deque>
#include <future>
#include <optional>
#include <thread>

#include "attest/ledger/export.h"
#include "attest/ledger/verify.h"

#include "src/line_reader.h"

namespace attest::ledger {
namespace {

constexpr std::size_t kBatchLines = 4096;

// A batch as read: every line's bytes back to back in one arena.
struct LineSlot {
  std::uint64_t number = 0;
  LineReader::Outcome outcome = LineReader::Outcome::kLine;
  std::size_t offset = 0;
  std::size_t length = 0;
};

// A line as examined: only what stage two needs, so the entry's strings are
// freed by the thread that allocated them.
struct ExaminedLine {
  std::uint64_t number = 0;
  LineReader::Outcome outcome = LineReader::Outcome::kLine;
  std::string problem;  // why the line does not parse
  bool is_checkpoint = false;
  std::string checkpoint;
  EntrySummary entry;
};

struct Batch {
  std::string arena;
  std::vector<LineSlot> slots;
  std::vector<ExaminedLine> examined;
};

// Reads up to kBatchLines lines. Empty when the input is exhausted.
Result<Batch> ReadBatch(LineReader& reader, std::string& scratch) {
  Batch batch;
  batch.slots.reserve(kBatchLines);
  while (batch.slots.size() < kBatchLines) {
    LineSlot slot;
    slot.outcome = reader.Next(scratch);
    if (slot.outcome == LineReader::Outcome::kEnd) break;
    if (slot.outcome == LineReader::Outcome::kReadError) {
      return MakeError(ErrorCode::kIo, "reading the export failed");
    }
    slot.number = reader.line_number();
    slot.offset = batch.arena.size();
    if (slot.outcome == LineReader::Outcome::kLine) {
      slot.length = scratch.size();
      batch.arena += scratch;
    }
    batch.slots.push_back(slot);
  }
  return batch;
}

// Stage one: pure, per line.
Batch ExamineBatch(Batch batch) {
  Sha256 hasher;
  ExportLine parsed;
  batch.examined.resize(batch.slots.size());
  for (std::size_t i = 0; i < batch.slots.size(); ++i) {
    const LineSlot& slot = batch.slots[i];
    ExaminedLine& line = batch.examined[i];
    line.number = slot.number;
    line.outcome = slot.outcome;
    if (slot.outcome != LineReader::Outcome::kLine) continue;
    std::string_view text(batch.arena.data() + slot.offset, slot.length);
    if (Status status = ParseExportLine(text, parsed); !status.ok()) {
      line.problem = status.error().message;
    } else if (parsed.is_checkpoint) {
      line.is_checkpoint = true;
      line.checkpoint = std::move(parsed.checkpoint);
    } else {
      line.entry = SummarizeEntry(parsed.entry, hasher);
    }
  }
  std::string().swap(batch.arena);
  return batch;
}

// Stage two: in file order.
class ExportChecker {
 public:
  ExportChecker(VerifyReport& report, const TrustedReference& reference)
      : report_(report), checker_(report), reference_(reference) {
    if (reference_.checkpoint) checker_.WatchSize(reference_.checkpoint->tree_size);
  }

  void Consume(Batch& batch) {
    for (ExaminedLine& line : batch.examined) Consume(line);
  }

  void Finish(std::uint64_t last_line, const NoteVerifier& key) {
    report_.root = checker_.Root();
    if (!checkpoint_) {
      report_.Add("end of file (line " + std::to_string(last_line) + ")",
                  "the export has no checkpoint line: it is truncated or incomplete");
    } else {
      CheckCheckpointNote(checkpoint_->note, checkpoint_->entries_before, checkpoint_->root_before,
                          key, "line " + std::to_string(checkpoint_->line) + " (checkpoint)",
                          report_);
    }
    CheckTrustedReference(reference_, "the export", checker_.size(), checker_.watched_root(),
                          report_);
  }

 private:
  struct SeenCheckpoint {
    std::uint64_t line = 0;
    std::uint64_t entries_before = 0;
    Hash root_before{};
    std::string note;
  };

  void Consume(ExaminedLine& line) {
    auto where = [&line] { return "line " + std::to_string(line.number); };
    switch (line.outcome) {
      case LineReader::Outcome::kTooLong:
        report_.Add(where(),
                    "line is longer than " + std::to_string(kMaxExportLineBytes) + " bytes");
        return;
      case LineReader::Outcome::kUnterminated:
        report_.Add(where(), "the file ends in the middle of this line: it is truncated");
        return;
      default:
        break;
    }
    if (!line.problem.empty()) {
      report_.Add(where(), line.problem);
      return;
    }
    if (line.is_checkpoint) {
      if (checkpoint_) {
        report_.Add(where(), "a second checkpoint line (the first is line " +
                                 std::to_string(checkpoint_->line) + ")");
        return;
      }
      checkpoint_ = SeenCheckpoint{line.number, checker_.size(), checker_.Root(),
                                   std::move(line.checkpoint)};
      return;
    }
    const EntrySequenceChecker::Location location{line.number};
    if (checkpoint_) {
      report_.Add(EntrySequenceChecker::Describe(location, line.entry.seq),
                  "entry after the checkpoint line (line " + std::to_string(checkpoint_->line) +
                      "): nothing the checkpoint does not cover belongs in an export");
    }
    checker_.Check(line.entry, location);
  }

  VerifyReport& report_;
  EntrySequenceChecker checker_;
  const TrustedReference& reference_;
  std::optional<SeenCheckpoint> checkpoint_;
};

}  // namespace

Status VerifyExport(std::istream& input, const NoteVerifier& key, VerifyReport& report,
                    const TrustedReference& reference) {
  LineReader reader(input, kMaxExportLineBytes);
  ExportChecker checker(report, reference);
  const std::size_t workers = std::max(1u, std::thread::hardware_concurrency());
  std::deque<std::future<Batch>> in_flight;
  std::string scratch;
  while (true) {
    ATTEST_ASSIGN_OR_RETURN(Batch batch, ReadBatch(reader, scratch));
    if (batch.slots.empty()) break;
    if (batch.slots.size() < kBatchLines && in_flight.empty()) {
      // The whole input fit in one batch: no thread is worth starting.
      Batch examined = ExamineBatch(std::move(batch));
      checker.Consume(examined);
      break;
    }
    in_flight.push_back(std::async(std::launch::async, ExamineBatch, std::move(batch)));
    if (in_flight.size() > workers) {
      Batch examined = in_flight.front().get();
      in_flight.pop_front();
      checker.Consume(examined);
    }
  }
  for (; !in_flight.empty(); in_flight.pop_front()) {
    Batch examined = in_flight.front().get();
    checker.Consume(examined);
  }
  checker.Finish(reader.line_number(), key);
  return OkStatus();
}

}  // namespace attest::ledger
