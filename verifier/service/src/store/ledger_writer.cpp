// The outbox drain. Exactly once: an event is appended with its outbox id in
// the payload, then marked written in the store. A crash between the two
// leaves the event pending though it is in the ledger; the next drain finds
// the highest outbox id the ledger holds and skips pending events up to it.
// Outbox ids only grow (AUTOINCREMENT), so that comparison is sound.
#include "attest/service/ledger_writer.h"

#include <algorithm>
#include <mutex>
#include <vector>

#include "attest/json.h"

namespace attest::service {
namespace {

constexpr std::string_view kActor = "verifier";
constexpr std::size_t kBatchSize = 256;    // events per ledger transaction
constexpr std::uint64_t kScanChunk = 256;  // ledger entries read per step backwards

// The outbox id of an entry this writer appended, 0 for any other entry.
Result<std::int64_t> OutboxIdOf(const ledger::Entry& entry) {
  if (entry.content.actor != kActor) return std::int64_t{0};
  auto payload = ParseJsonStrict(entry.content.payload);
  if (!payload.ok()) return std::int64_t{0};
  const Json* id = FindMember(*payload, "outbox_id");
  if (id == nullptr) return std::int64_t{0};
  if (!id->is_number_integer() || id->get<std::int64_t>() < 1) {
    return MakeError(ErrorCode::kCorrupt, "ledger entry " + std::to_string(entry.seq) +
                                              ": outbox_id is not a positive integer");
  }
  return id->get<std::int64_t>();
}

// The highest outbox id in the ledger: that of the last entry this writer
// appended, found walking back from the end past entries others appended
// (the signer's approvals, `ledger append`). 0 when there is none.
Result<std::int64_t> LastOutboxIdInLedger(ledger::Ledger& ledger) {
  ATTEST_ASSIGN_OR_RETURN(std::uint64_t size, ledger.Size());
  for (std::uint64_t last = size; last >= 1;) {
    const std::uint64_t first = last > kScanChunk ? last - kScanChunk + 1 : 1;
    ATTEST_ASSIGN_OR_RETURN(auto cursor, ledger.store().ScanEntries(first, last));
    std::int64_t found = 0;
    ledger::Entry entry;
    while (true) {
      ATTEST_ASSIGN_OR_RETURN(bool has_entry, cursor->Next(entry));
      if (!has_entry) break;
      ATTEST_ASSIGN_OR_RETURN(std::int64_t id, OutboxIdOf(entry));
      if (id != 0) found = id;  // the chunk is in seq order: keep the latest
    }
    if (found != 0) return found;
    last = first - 1;
  }
  return std::int64_t{0};
}

Result<ledger::NewEntry> ToEntry(const PendingLedgerEvent& pending) {
  Json payload = pending.event.payload;
  payload["outbox_id"] = pending.outbox_id;
  auto canonical = CanonicalJson(payload);
  if (!canonical.ok()) {
    return canonical.error().WithContext("outbox event " + std::to_string(pending.outbox_id));
  }
  return ledger::NewEntry{pending.event.kind, std::string(kActor), std::move(canonical).value(),
                          std::nullopt};
}

}  // namespace

Result<std::size_t> DrainLedgerOutbox(ServiceStore& store, ledger::Ledger& ledger) {
  static std::mutex drain_mutex;
  std::lock_guard lock(drain_mutex);
  std::size_t appended = 0;
  std::optional<std::int64_t> in_ledger;  // read once, when there is something to drain
  while (true) {
    ATTEST_ASSIGN_OR_RETURN(std::vector<PendingLedgerEvent> pending,
                            store.PendingLedgerEvents(kBatchSize));
    if (pending.empty()) return appended;
    if (!in_ledger) {
      auto last = LastOutboxIdInLedger(ledger);
      if (!last.ok()) return last.error().WithContext("drain ledger outbox");
      in_ledger = *last;
    }
    std::vector<ledger::NewEntry> entries;
    for (const PendingLedgerEvent& event : pending) {
      if (event.outbox_id <= *in_ledger) continue;  // appended before a crash
      ATTEST_ASSIGN_OR_RETURN(ledger::NewEntry entry, ToEntry(event));
      entries.push_back(std::move(entry));
    }
    if (!entries.empty()) {
      auto written = ledger.AppendBatch(entries);
      if (!written.ok()) return written.error().WithContext("drain ledger outbox: append");
    }
    const std::int64_t last_id = pending.back().outbox_id;
    ATTEST_RETURN_IF_ERROR(store.MarkLedgerEventsWritten(last_id));
    in_ledger = std::max(*in_ledger, last_id);
    appended += entries.size();
  }
}

}  // namespace attest::service
