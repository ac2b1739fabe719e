// The outbox drain. Exactly once, across threads and processes (the service
// and the `verifier` CLI both drain; several verifiers share a PostgreSQL
// store): whoever drains holds the store's drain lock for the whole drain,
// and checks it still does before each write. Each batch is recorded as an
// intent in the service database (its last outbox id and the ledger's size
// before it), appended to the ledger in one transaction, then removed from
// the outbox together with the intent. Every append compares the entries
// after the recorded size, whole (kind, actor, payload with its outbox id),
// with the batch inside its own transaction, under the ledger's append lock
// (Ledger::AppendBatchOnce), and appends only the events not among them: so
// a drainer that stopped between its append and its mark is finished, not
// repeated, and one whose lock was lost while its append was in flight
// (PostgreSQL: its session ended) is waited for and seen by the next.
// Nothing anyone else writes to the ledger can make an event be skipped
// unless it is that event's exact entry, and entries before the recorded
// size are never consulted.
#include "attest/service/ledger_writer.h"

#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

#include "attest/json.h"

namespace attest::service {
namespace {

constexpr std::string_view kActor = "verifier";
constexpr std::size_t kBatchSize = 256;  // events per ledger transaction

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

// Appends `pending`, those already in the ledger after `size_before`
// excepted (judged inside the append's transaction: Ledger::AppendBatchOnce),
// and marks it written.
Result<std::size_t> AppendAndMark(ServiceStore& store, ledger::Ledger& ledger,
                                  LedgerDrainLock& lock,
                                  const std::vector<PendingLedgerEvent>& pending,
                                  std::uint64_t size_before) {
  std::vector<ledger::NewEntry> entries;
  for (const PendingLedgerEvent& event : pending) {
    ATTEST_ASSIGN_OR_RETURN(ledger::NewEntry entry, ToEntry(event));
    entries.push_back(std::move(entry));
  }
  ATTEST_RETURN_IF_ERROR(lock.CheckHeld());
  auto written = ledger.AppendBatchOnce(entries, size_before);
  if (!written.ok()) return written.error().WithContext("drain ledger outbox: append");
  ATTEST_RETURN_IF_ERROR(lock.CheckHeld());
  ATTEST_RETURN_IF_ERROR(store.MarkLedgerEventsWritten(pending.back().outbox_id));
  return written->size();
}

// Finishes the batch of a drain that stopped between append and mark.
Result<std::size_t> Recover(ServiceStore& store, ledger::Ledger& ledger, LedgerDrainLock& lock,
                            const LedgerDrainIntent& intent) {
  // The batch is the oldest pending events up to the intent's last id: at
  // most kBatchSize of them, as when it was recorded.
  ATTEST_ASSIGN_OR_RETURN(std::vector<PendingLedgerEvent> batch,
                          store.PendingLedgerEvents(kBatchSize));
  std::erase_if(batch, [&](const PendingLedgerEvent& event) {
    return event.outbox_id > intent.last_outbox_id;
  });
  if (batch.empty()) {
    ATTEST_RETURN_IF_ERROR(lock.CheckHeld());
    ATTEST_RETURN_IF_ERROR(store.MarkLedgerEventsWritten(intent.last_outbox_id));
    return std::size_t{0};
  }
  return AppendAndMark(store, ledger, lock, batch, intent.ledger_size_before);
}

}  // namespace

Result<std::size_t> DrainLedgerOutbox(ServiceStore& store, ledger::Ledger& ledger) {
  static std::mutex drain_mutex;  // threads of this process queue here, not on the store's lock
  std::lock_guard lock(drain_mutex);
  ATTEST_ASSIGN_OR_RETURN(std::unique_ptr<LedgerDrainLock> drain_lock, store.LockLedgerDrain());
  if (!drain_lock) return std::size_t{0};  // another verifier is draining: it drains ours too
  std::size_t appended = 0;
  ATTEST_ASSIGN_OR_RETURN(std::optional<LedgerDrainIntent> intent, store.GetLedgerDrainIntent());
  if (intent) {
    ATTEST_ASSIGN_OR_RETURN(appended, Recover(store, ledger, *drain_lock, *intent));
  }
  while (true) {
    ATTEST_ASSIGN_OR_RETURN(std::vector<PendingLedgerEvent> pending,
                            store.PendingLedgerEvents(kBatchSize));
    if (pending.empty()) return appended;
    auto size = ledger.Size();
    if (!size.ok()) return size.error().WithContext("drain ledger outbox");
    ATTEST_RETURN_IF_ERROR(drain_lock->CheckHeld());
    ATTEST_RETURN_IF_ERROR(store.RecordLedgerDrainIntent({pending.back().outbox_id, *size}));
    ATTEST_ASSIGN_OR_RETURN(std::size_t written,
                            AppendAndMark(store, ledger, *drain_lock, pending, *size));
    appended += written;
  }
}

}  // namespace attest::service
