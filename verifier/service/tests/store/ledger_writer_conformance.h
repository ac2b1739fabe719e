// The ledger writer's conformance fixture (store_conformance.h): a store of
// the backend under test and a real ledger file beside it, which
// DrainLedgerOutbox fills from the store's outbox.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "attest/ed25519.h"
#include "attest/ledger/ledger.h"
#include "attest/service/ledger_writer.h"

#include "tests/store/store_conformance.h"

namespace attest::service::test {

class LedgerWriterConformance : public ServiceStoreConformance {
 protected:
  void SetUp() override {
    ServiceStoreConformance::SetUp();
    if (HasFatalFailure()) return;
    auto key = Ed25519PrivateKey::Generate();
    ASSERT_TRUE(key.ok());
    auto created =
        ledger::Ledger::Create(dir_.File("ledger.db"), "verifier.test/ledger", key->public_key());
    ASSERT_TRUE(created.ok()) << created.error().ToString();
    ledger_.emplace(std::move(created).value());
  }

  std::uint64_t LedgerSize() {
    auto size = ledger_->Size();
    EXPECT_TRUE(size.ok());
    return size.ok() ? *size : 0;
  }

  Json PayloadAt(std::uint64_t seq) {
    auto entry = ledger_->Get(seq);
    EXPECT_TRUE(entry.ok()) << entry.error().ToString();
    if (!entry.ok()) return Json();
    auto payload = ParseJsonStrict(entry->content.payload);
    EXPECT_TRUE(payload.ok());
    return payload.ok() ? *payload : Json();
  }

  std::size_t Drain() {
    auto drained = DrainLedgerOutbox(*store_, *ledger_);
    EXPECT_TRUE(drained.ok()) << drained.error().ToString();
    return drained.ok() ? *drained : 0;
  }

  // What a drain that stopped between its append and its mark leaves: the
  // intent and the ledger entries of the pending events, not the mark.
  void CrashAfterAppend() {
    auto pending = store_->PendingLedgerEvents(256);
    ASSERT_TRUE(pending.ok());
    ASSERT_FALSE(pending->empty());
    ASSERT_TRUE(store_->RecordLedgerDrainIntent({pending->back().outbox_id, LedgerSize()}).ok());
    for (const PendingLedgerEvent& event : *pending) AppendAsTheWriter(event);
  }

  // The entry the writer makes of `event` (as a forger could too).
  void AppendAsTheWriter(const PendingLedgerEvent& event) {
    Json payload = event.event.payload;
    payload["outbox_id"] = event.outbox_id;
    ASSERT_TRUE(ledger_
                    ->Append(ledger::NewEntry{event.event.kind, "verifier",
                                              CanonicalJson(payload).value(), std::nullopt})
                    .ok());
  }

  // How many ledger entries carry each outbox id.
  std::map<std::int64_t, int> OutboxIdCounts() {
    std::map<std::int64_t, int> counts;
    for (std::uint64_t seq = 1; seq <= LedgerSize(); ++seq) {
      Json payload = PayloadAt(seq);
      if (payload.contains("outbox_id")) ++counts[payload["outbox_id"].get<std::int64_t>()];
    }
    return counts;
  }

  std::optional<ledger::Ledger> ledger_;
};

}  // namespace attest::service::test
