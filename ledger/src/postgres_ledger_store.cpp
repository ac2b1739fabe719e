#include "attest/ledger/postgres_ledger_store.h"

#include <algorithm>
#include <optional>

#include "attest/pg/pg.h"
#include "attest/pg/reconnect.h"

#include "src/postgres_commit_outcome.h"
#include "src/postgres_schema.h"

namespace attest::ledger {
namespace {

using pg::Param;

constexpr const char* kPostgresEntryColumns =
    "seq, time, kind, actor, payload, public_key, signature, entry_hash, chain_hash";
// Rows a cursor fetches per query: big scans (verify, export) keep bounded
// memory, and each page is an index range read.
constexpr std::int64_t kPageRows = 1000;

Error CorruptRow(std::string message) { return MakeError(ErrorCode::kCorrupt, std::move(message)); }

std::int64_t ToSql(std::uint64_t value) { return static_cast<std::int64_t>(value); }
std::uint64_t LastLeaf(int level, std::uint64_t index) { return ((index + 1) << level) - 1; }

// The hash in `column`; `what` names it for the error, built only when the row is bad.
template <typename Describe>
Result<Hash> HashColumn(const pg::QueryResult& rows, int row, int column, Describe what) {
  auto bytes = rows.Bytes(row, column);
  if (!bytes.ok()) return CorruptRow(std::string(what()) + ": " + bytes.error().message);
  Hash hash{};
  if (bytes->size() != hash.size()) {
    return CorruptRow(std::string(what()) + " is " + std::to_string(bytes->size()) +
                      " bytes, not 32");
  }
  std::copy(bytes->begin(), bytes->end(), hash.begin());
  return hash;
}

// Decodes one row selected with kPostgresEntryColumns. Reuses `entry`'s buffers.
Status ReadEntryRow(const pg::QueryResult& rows, int row, Entry& entry) {
  ATTEST_ASSIGN_OR_RETURN(entry.seq, rows.Uint64(row, 0));
  auto where = [&entry](const char* field) {
    return "seq " + std::to_string(entry.seq) + ": " + field;
  };
  std::string* texts[] = {&entry.content.time, &entry.content.kind, &entry.content.actor,
                          &entry.content.payload};
  for (int column = 1; column <= 4; ++column) {
    auto text = rows.Text(row, column);
    if (!text.ok()) return CorruptRow(where("text columns") + ": " + text.error().message);
    texts[column - 1]->assign(*text);
  }
  ATTEST_ASSIGN_OR_RETURN(bool no_key, rows.IsNull(row, 5));
  ATTEST_ASSIGN_OR_RETURN(bool no_signature, rows.IsNull(row, 6));
  if (no_key && no_signature) {
    entry.content.signature.reset();
  } else {
    auto key = no_key ? Result<ByteView>(CorruptRow("")) : rows.Bytes(row, 5);
    auto signature = no_signature ? Result<ByteView>(CorruptRow("")) : rows.Bytes(row, 6);
    if (!key.ok() || !signature.ok() || key->size() != kEd25519PublicKeySize ||
        signature->size() != kEd25519SignatureSize) {
      return CorruptRow(where("public_key/signature columns are malformed"));
    }
    EntrySignature& out = entry.content.signature.emplace();
    std::copy(key->begin(), key->end(), out.public_key.begin());
    std::copy(signature->begin(), signature->end(), out.signature.begin());
  }
  ATTEST_ASSIGN_OR_RETURN(entry.entry_hash,
                          HashColumn(rows, row, 7, [&] { return where("entry_hash"); }));
  ATTEST_ASSIGN_OR_RETURN(entry.chain_hash,
                          HashColumn(rows, row, 8, [&] { return where("chain_hash"); }));
  return OkStatus();
}

// Reads a range page by page (keyset pagination), so a scan of millions of
// rows holds one page in memory. Outside a snapshot each page sees the latest
// commits; rows are append-only, so a scan never sees a row change.
class PostgresEntryCursor final : public EntryCursor {
 public:
  PostgresEntryCursor(pg::Connection& connection, std::uint64_t first, std::uint64_t last)
      : connection_(connection), next_seq_(first), last_seq_(last) {}

  Result<bool> Next(Entry& entry) override {
    if (!page_ || row_ >= page_->rows()) {
      if (done_) return false;
      static const std::string kSql = std::string("SELECT ") + kPostgresEntryColumns +
                                      " FROM ledger_entries WHERE seq BETWEEN $1 AND $2 "
                                      "ORDER BY seq LIMIT $3";
      ATTEST_ASSIGN_OR_RETURN(
          pg::QueryResult page,
          connection_.Query("scan ledger entries", kSql,
                            {Param::Int64(ToSql(next_seq_)), Param::Int64(ToSql(last_seq_)),
                             Param::Int64(kPageRows)}));
      done_ = page.rows() < kPageRows;
      page_.emplace(std::move(page));
      row_ = 0;
      if (page_->rows() == 0) return false;
      auto last = page_->Uint64(page_->rows() - 1, 0);
      if (!last.ok()) return last.error();
      next_seq_ = *last + 1;
    }
    int row = row_++;  // past this row whatever it holds: a bad row is reported once
    ATTEST_RETURN_IF_ERROR(ReadEntryRow(*page_, row, entry));
    return true;
  }

 private:
  pg::Connection& connection_;
  std::uint64_t next_seq_;
  std::uint64_t last_seq_;
  std::optional<pg::QueryResult> page_;
  int row_ = 0;
  bool done_ = false;
};

class PostgresNodeCursor final : public NodeCursor {
 public:
  explicit PostgresNodeCursor(pg::Connection& connection) : connection_(connection) {}

  Result<bool> Next(CompactRange::Node& node) override {
    if (!page_ || row_ >= page_->rows()) {
      if (done_) return false;
      ATTEST_ASSIGN_OR_RETURN(
          pg::QueryResult page,
          connection_.Query(
              "scan Merkle nodes",
              "SELECT last_leaf, level::int8, hash FROM ledger_merkle_nodes "
              "WHERE (last_leaf, level) > ($1, $2) ORDER BY last_leaf, level "
              "LIMIT $3",
              {Param::Int64(after_leaf_), Param::Int64(after_level_), Param::Int64(kPageRows)}));
      done_ = page.rows() < kPageRows;
      page_.emplace(std::move(page));
      row_ = 0;
      if (page_->rows() == 0) return false;
      const int last = page_->rows() - 1;
      auto leaf = page_->Int64(last, 0);
      auto level = page_->Int64(last, 1);
      if (!leaf.ok()) return leaf.error();
      if (!level.ok()) return level.error();
      after_leaf_ = *leaf;
      after_level_ = *level;
    }
    int row = row_++;
    ATTEST_ASSIGN_OR_RETURN(std::uint64_t last_leaf, page_->Uint64(row, 0));
    ATTEST_ASSIGN_OR_RETURN(std::int64_t level, page_->Int64(row, 1));
    if (level < 1 || level > 63) {
      return CorruptRow("Merkle node row with level " + std::to_string(level));
    }
    node.level = static_cast<int>(level);
    node.index = last_leaf >> node.level;
    ATTEST_ASSIGN_OR_RETURN(node.hash,
                            HashColumn(*page_, row, 2, [] { return "Merkle node hash"; }));
    return true;
  }

 private:
  pg::Connection& connection_;
  std::int64_t after_leaf_ = -1;
  std::int64_t after_level_ = 0;
  std::optional<pg::QueryResult> page_;
  int row_ = 0;
  bool done_ = false;
};

Result<pg::Connection> Connect(const std::string& url, const PostgresStoreOptions& options);
pg::ConnectOptions ConnectOptionsFor(const PostgresStoreOptions& options);

class PostgresLedgerStore final : public LedgerStore {
 public:
  PostgresLedgerStore(pg::Connection connection, std::string url, PostgresStoreOptions options)
      : db_(std::move(connection)),
        url_(std::move(url)),
        options_(options),
        reconnector_(url_, ConnectOptionsFor(options_)) {}

  Result<std::string> ReadMeta(const std::string& key) override {
    ATTEST_RETURN_IF_ERROR(Live());
    ATTEST_ASSIGN_OR_RETURN(
        pg::QueryResult rows,
        db_.Query("read ledger metadata", "SELECT value FROM ledger_meta WHERE key = $1",
                  {Param::Text(key)}));
    if (rows.rows() == 0)
      return MakeError(ErrorCode::kNotFound, "no ledger metadata \"" + key + "\"");
    ATTEST_ASSIGN_OR_RETURN(std::string_view value, rows.Text(0, 0));
    return std::string(value);
  }

  Result<std::vector<std::pair<std::string, std::string>>> ReadAllMeta() override {
    ATTEST_RETURN_IF_ERROR(Live());
    // COLLATE "C": byte order, as SQLite's, whatever the database's locale.
    ATTEST_ASSIGN_OR_RETURN(
        pg::QueryResult rows,
        db_.Query("read ledger metadata",
                  "SELECT key, value FROM ledger_meta ORDER BY key COLLATE \"C\""));
    std::vector<std::pair<std::string, std::string>> meta;
    for (int row = 0; row < rows.rows(); ++row) {
      ATTEST_ASSIGN_OR_RETURN(std::string_view key, rows.Text(row, 0));
      ATTEST_ASSIGN_OR_RETURN(std::string_view value, rows.Text(row, 1));
      meta.emplace_back(key, value);
    }
    return meta;
  }

  Status WriteMeta(const std::string& key, const std::string& value) override {
    if (options_.read_only) {
      return MakeError(ErrorCode::kPermissionDenied, "a read-only ledger store cannot write");
    }
    witness_ = MetaWitness(key, value);
    return db_.Execute("write ledger metadata \"" + key + "\"",
                       "INSERT INTO ledger_meta(key, value) VALUES ($1, $2)",
                       {Param::Text(key), Param::Text(value)});
  }

  Status WithWriteTransaction(const std::function<Status(const TreeHead&)>& body) override {
    witness_ = nullptr;
    ATTEST_ASSIGN_OR_RETURN(pg::Transaction transaction,
                            BeginOnLiveConnection({.read_only = options_.read_only}));
    InTransaction in_transaction(in_transaction_);
    // Transaction-local, so a connection pooler's next client does not
    // inherit them, and a pooled session that lost the connect-time
    // timeouts still has them here, where the tree-head lock is held: a
    // writer that stalls or dies mid-transaction frees it within 30 s.
    ATTEST_ASSIGN_OR_RETURN(
        pg::QueryResult timeout,
        db_.QueryPrepared("set the write transaction's timeouts",
                          "SELECT set_config('lock_timeout', $1, true), "
                          "set_config('idle_in_transaction_session_timeout', '30s', true), "
                          "set_config('statement_timeout', '60s', true)",
                          {Param::Text(std::to_string(options_.lock_timeout_ms) + "ms")}));
    (void)timeout;
    // The one write lock: writers in every process queue here (up to the
    // lock timeout, then kBusy), and each reads the head only once it holds
    // the lock, in a statement of its own, so it sees the last writer's
    // commit (READ COMMITTED takes a new snapshot per statement).
    ATTEST_RETURN_IF_ERROR(LockTreeHead());
    ATTEST_ASSIGN_OR_RETURN(TreeHead head, ReadTreeHead());
    ATTEST_RETURN_IF_ERROR(body(head));  // on error or exception, the guard rolls back
    Status committed = transaction.Commit();
    if (!committed.ok() && pg::IsCommitOutcomeUnknown(committed.error()) && witness_) {
      return ResolveUnknownCommit(committed.error());
    }
    return committed;
  }

  Status WithReadSnapshot(const std::function<Status()>& body) override {
    ATTEST_ASSIGN_OR_RETURN(
        pg::Transaction transaction,
        BeginOnLiveConnection({.isolation = pg::Isolation::kRepeatableRead, .read_only = true}));
    InTransaction in_transaction(in_transaction_);
    ATTEST_RETURN_IF_ERROR(body());
    return transaction.Rollback();  // nothing was written to keep
  }

  Result<TreeHead> ReadTreeHead() override {
    ATTEST_RETURN_IF_ERROR(Live());
    ATTEST_ASSIGN_OR_RETURN(
        pg::QueryResult rows,
        db_.QueryPrepared("read the ledger's tree head",
                          "SELECT seq, chain_hash FROM ledger_entries ORDER BY seq DESC LIMIT 1"));
    TreeHead head;
    if (rows.rows() == 0) return head;
    ATTEST_ASSIGN_OR_RETURN(head.size, rows.Uint64(0, 0));
    ATTEST_ASSIGN_OR_RETURN(head.chain_hash,
                            HashColumn(rows, 0, 1, [] { return "chain_hash of the last entry"; }));
    return head;
  }

  Result<Entry> ReadEntry(std::uint64_t seq) override {
    ATTEST_RETURN_IF_ERROR(Live());
    static const std::string kSql =
        std::string("SELECT ") + kPostgresEntryColumns + " FROM ledger_entries WHERE seq = $1";
    ATTEST_ASSIGN_OR_RETURN(pg::QueryResult rows, db_.QueryPrepared("read ledger entry", kSql,
                                                                    {Param::Int64(ToSql(seq))}));
    if (rows.rows() == 0) {
      return MakeError(ErrorCode::kNotFound, "no entry with seq " + std::to_string(seq));
    }
    Entry entry;
    ATTEST_RETURN_IF_ERROR(ReadEntryRow(rows, 0, entry));
    return entry;
  }

  Result<std::unique_ptr<EntryCursor>> ScanEntries(std::uint64_t first_seq,
                                                   std::uint64_t last_seq) override {
    ATTEST_RETURN_IF_ERROR(Live());
    // Past int8's range nothing is stored; clamp so the bound stays a valid int8.
    constexpr std::uint64_t kMax = static_cast<std::uint64_t>(INT64_MAX);
    return std::unique_ptr<EntryCursor>(
        new PostgresEntryCursor(db_, std::min(first_seq, kMax), std::min(last_seq, kMax)));
  }

  Result<Hash> ReadNode(int level, std::uint64_t index) override {
    ATTEST_RETURN_IF_ERROR(Live());
    auto what = [level, index] {
      return "Merkle node (level " + std::to_string(level) + ", index " + std::to_string(index) +
             ")";
    };
    Result<pg::QueryResult> rows =
        level == 0
            ? db_.QueryPrepared("read a Merkle leaf",
                                "SELECT entry_hash FROM ledger_entries WHERE seq = $1",
                                {Param::Int64(ToSql(index + 1))})
            : db_.QueryPrepared("read a Merkle node",
                                "SELECT hash FROM ledger_merkle_nodes "
                                "WHERE last_leaf = $1 AND level = $2",
                                {Param::Int64(ToSql(LastLeaf(level, index))), Param::Int64(level)});
    if (!rows.ok()) return rows.error();
    if (rows->rows() == 0) return CorruptRow(what() + " is missing from the database");
    return HashColumn(*rows, 0, 0, what);
  }

  Result<std::unique_ptr<NodeCursor>> ScanNodes() override {
    ATTEST_RETURN_IF_ERROR(Live());
    return std::unique_ptr<NodeCursor>(new PostgresNodeCursor(db_));
  }

  Result<std::optional<StoredCheckpoint>> LatestCheckpoint() override {
    ATTEST_RETURN_IF_ERROR(Live());
    ATTEST_ASSIGN_OR_RETURN(auto all, QueryCheckpoints("ORDER BY tree_size DESC LIMIT 1", {}));
    if (all.empty()) return std::optional<StoredCheckpoint>();
    return std::optional<StoredCheckpoint>(std::move(all.front()));
  }

  Result<std::optional<StoredCheckpoint>> CheckpointAt(std::uint64_t tree_size) override {
    ATTEST_RETURN_IF_ERROR(Live());
    ATTEST_ASSIGN_OR_RETURN(
        auto all, QueryCheckpoints("WHERE tree_size = $1", {Param::Int64(ToSql(tree_size))}));
    if (all.empty()) return std::optional<StoredCheckpoint>();
    return std::optional<StoredCheckpoint>(std::move(all.front()));
  }

  Result<std::vector<StoredCheckpoint>> AllCheckpoints() override {
    ATTEST_RETURN_IF_ERROR(Live());
    return QueryCheckpoints("ORDER BY tree_size", {});
  }

  Status InsertEntry(const Entry& entry) override {
    static const std::string kSql = std::string("INSERT INTO ledger_entries(") +
                                    kPostgresEntryColumns +
                                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    const EntryContent& content = entry.content;
    const bool signed_entry = content.signature.has_value();
    const Param params[] = {
        Param::Int64(ToSql(entry.seq)),
        Param::Text(content.time),
        Param::Text(content.kind),
        Param::Text(content.actor),
        Param::Text(content.payload),
        signed_entry ? Param::Bytes(content.signature->public_key) : Param::Null(),
        signed_entry ? Param::Bytes(content.signature->signature) : Param::Null(),
        Param::Bytes(entry.entry_hash),
        Param::Bytes(entry.chain_hash),
    };
    witness_ = EntryWitness(entry.seq, entry.entry_hash);
    ATTEST_ASSIGN_OR_RETURN(
        pg::QueryResult done,
        db_.QueryPrepared("insert ledger entry " + std::to_string(entry.seq), kSql, params));
    (void)done;
    return OkStatus();
  }

  Status InsertNode(const CompactRange::Node& node) override {
    ATTEST_ASSIGN_OR_RETURN(
        pg::QueryResult done,
        db_.QueryPrepared(
            "insert a Merkle node",
            "INSERT INTO ledger_merkle_nodes(last_leaf, level, hash) VALUES ($1, $2, $3)",
            {Param::Int64(ToSql(LastLeaf(node.level, node.index))), Param::Int64(node.level),
             Param::Bytes(node.hash)}));
    (void)done;
    return OkStatus();
  }

  Status InsertCheckpoint(const StoredCheckpoint& checkpoint) override {
    witness_ = CheckpointWitness(checkpoint.tree_size, checkpoint.note);
    return db_.Execute(
        "insert a checkpoint",
        "INSERT INTO ledger_checkpoints(tree_size, root_hash, note, created_at) "
        "VALUES ($1, $2, $3, $4)",
        {Param::Int64(ToSql(checkpoint.tree_size)), Param::Bytes(checkpoint.root_hash),
         Param::Text(checkpoint.note), Param::Text(checkpoint.created_at)});
  }

 private:
  // Without the row nothing would serialize writers: refuse to write at all.
  Status LockTreeHead() {
    ATTEST_ASSIGN_OR_RETURN(pg::QueryResult locked,
                            db_.QueryPrepared("lock the ledger's tree head",
                                              "SELECT id FROM ledger_tree_head FOR UPDATE", {}));
    if (locked.rows() != 1) {
      return CorruptRow("the ledger's tree-head row (ledger_tree_head) has " +
                        std::to_string(locked.rows()) +
                        " rows, not 1: appends cannot be serialized; restore it from a backup");
    }
    return OkStatus();
  }

  // The connection died after COMMIT was sent. On a new connection (which
  // then replaces the dead one), look for the transaction's last write:
  // there, it committed; absent, it did not, and the caller may retry.
  Status ResolveUnknownCommit(const Error& unknown) {
    Result<pg::Connection> fresh = Connect(url_, options_);
    if (!fresh.ok()) {
      Error still_unknown = unknown;
      still_unknown.message += "; reconnecting to find out failed: " + fresh.error().message;
      return still_unknown;
    }
    db_ = std::move(fresh).value();
    return ResolveCommitOutcome(db_, witness_, unknown);
  }

  Result<std::vector<StoredCheckpoint>> QueryCheckpoints(const std::string& where,
                                                         std::initializer_list<Param> params) {
    ATTEST_ASSIGN_OR_RETURN(
        pg::QueryResult rows,
        db_.Query("read checkpoints",
                  "SELECT tree_size, root_hash, note, created_at FROM ledger_checkpoints " + where,
                  params));
    std::vector<StoredCheckpoint> checkpoints;
    for (int row = 0; row < rows.rows(); ++row) {
      StoredCheckpoint& checkpoint = checkpoints.emplace_back();
      ATTEST_ASSIGN_OR_RETURN(checkpoint.tree_size, rows.Uint64(row, 0));
      ATTEST_ASSIGN_OR_RETURN(checkpoint.root_hash,
                              HashColumn(rows, row, 1, [] { return "checkpoint root_hash"; }));
      ATTEST_ASSIGN_OR_RETURN(std::string_view note, rows.Text(row, 2));
      ATTEST_ASSIGN_OR_RETURN(std::string_view created_at, rows.Text(row, 3));
      checkpoint.note.assign(note);
      checkpoint.created_at.assign(created_at);
    }
    return checkpoints;
  }

  // Marks the store inside one of its transactions while it lives: a dead
  // connection is then an error, never reopened under the transaction.
  class InTransaction {
   public:
    explicit InTransaction(bool& flag) : flag_(flag) { flag_ = true; }
    ~InTransaction() { flag_ = false; }
    InTransaction(const InTransaction&) = delete;
    InTransaction& operator=(const InTransaction&) = delete;

   private:
    bool& flag_;
  };

  // Outside a transaction, reopens a connection that died (a database
  // restart), with backoff; inside one, leaves it to fail.
  Status Live() { return in_transaction_ ? OkStatus() : reconnector_.Revive(db_); }

  // BEGIN on a live connection; once more on a new one when the old turns
  // out dead at the BEGIN (the server closed it while idle).
  Result<pg::Transaction> BeginOnLiveConnection(const pg::TransactionOptions& options) {
    ATTEST_RETURN_IF_ERROR(Live());
    Result<pg::Transaction> begun = pg::Transaction::Begin(db_, options);
    if (begun.ok() || !pg::IsConnectionLost(begun.error()) || db_.IsAlive()) return begun;
    ATTEST_RETURN_IF_ERROR(reconnector_.Revive(db_));
    return pg::Transaction::Begin(db_, options);
  }

  pg::Connection db_;
  std::string url_;
  PostgresStoreOptions options_;
  pg::Reconnector reconnector_;
  bool in_transaction_ = false;
  // The last row the current write transaction wrote, to look for if its
  // commit's outcome is lost.
  CommitWitness witness_;
};

pg::ConnectOptions ConnectOptionsFor(const PostgresStoreOptions& options) {
  // No session settings beyond pg's: lock_timeout is set per write
  // transaction, and a read-only store begins its transactions READ ONLY.
  return {.connect_timeout_seconds = options.connect_timeout_seconds,
          .application_name = "attest-ledger",
          .allow_insecure_transport = options.allow_insecure_transport,
          .read_write = !options.read_only};
}

Result<pg::Connection> Connect(const std::string& url, const PostgresStoreOptions& options) {
  return pg::Connection::Open(url, ConnectOptionsFor(options));
}

}  // namespace

bool IsPostgresUrl(const std::string& name) {
  return name.starts_with("postgresql://") || name.starts_with("postgres://");
}

Result<std::unique_ptr<LedgerStore>> CreatePostgresLedgerStore(
    const std::string& url, const PostgresStoreOptions& options) {
  if (options.read_only) {
    return MakeError(ErrorCode::kInvalidArgument, "a read-only store cannot create a ledger");
  }
  ATTEST_ASSIGN_OR_RETURN(pg::Connection connection, Connect(url, options));
  ATTEST_RETURN_IF_ERROR(CreatePostgresSchema(connection, options.lock_timeout_ms));
  return std::unique_ptr<LedgerStore>(new PostgresLedgerStore(std::move(connection), url, options));
}

Result<std::unique_ptr<LedgerStore>> OpenPostgresLedgerStore(const std::string& url,
                                                             const PostgresStoreOptions& options) {
  ATTEST_ASSIGN_OR_RETURN(pg::Connection connection, Connect(url, options));
  ATTEST_RETURN_IF_ERROR(
      CheckOrMigratePostgresSchema(connection, options.read_only, options.lock_timeout_ms));
  return std::unique_ptr<LedgerStore>(new PostgresLedgerStore(std::move(connection), url, options));
}

}  // namespace attest::ledger
