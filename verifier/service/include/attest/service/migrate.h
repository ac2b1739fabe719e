// `verifier migrate`: moves a deployment from the SQLite files of its state
// directory (service.db, ledger.db) into a PostgreSQL database, where
// several verifiers can share it. The state directory's key files (ledger,
// CA, TLS, webhook) stay where they are and are used as before.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "attest/error.h"
#include "attest/ledger/copy.h"
#include "attest/ledger/merkle.h"
#include "attest/service/operations.h"

namespace attest::service {

// Where the SQLite deployment is: its state directory (ledger.pub is read
// there) and its storage ("" for service.db and ledger.db in it, or the
// directory that holds them).
using MigrationSource = DeploymentLocation;

struct MigrationSummary {
  // Rows copied per service table, in copy order (nodes, enrollments,
  // certificates, tokens, policies, ledger_outbox, ledger_drain,
  // crl_number). Challenges are not copied: they live for minutes.
  std::vector<std::pair<std::string, std::uint64_t>> service_rows;
  ledger::LedgerCopyCounts ledger;
  ledger::Hash ledger_root{};  // of all entries, the same in source and copy
};

// Copies the deployment `from` into the database `url` names
// (postgresql://..., no password in it: a passfile or the environment, as
// for `storage`). Refuses, changing nothing:
//   kInvalidArgument  `url` is not a postgresql:// URL, or `from` is on
//                     PostgreSQL already
//   kAlreadyExists    the database holds any of the service's or the
//                     ledger's tables (named in the message)
//   kBusy             another process has service.db open or is draining
//                     its ledger outbox: stop every verifier on it first
//   kVerificationFailed  the source ledger does not verify against
//                     the state directory's ledger.pub
// Holds service.db exclusively while it runs (no verifier can start on it).
// A service.db of an older schema is migrated first, as a verifier would
// at start. The service rows go in one transaction and the ledger in
// another; the copied ledger is verified as `ledger verify` does (entries,
// chain, tree, every checkpoint's signature against ledger.pub) and must
// have the source's size and root. When any step fails, what this run
// created is dropped again; should even that fail, the error gives the SQL
// that removes it. The SQLite files are left as they were.
Result<MigrationSummary> MigrateSqliteToPostgres(const MigrationSource& from,
                                                 const std::string& url);

}  // namespace attest::service
