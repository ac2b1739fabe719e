#include "attest/ledger/sqlite_ledger_store.h"

#include <algorithm>
#include <array>
#include <optional>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attest/file.h"
#include "attest/sqlite.h"

#include "src/schema.h"

namespace attest::ledger {
namespace {

constexpr const char* kEntryColumns =
    "seq, time, kind, actor, payload, public_key, signature, entry_hash, chain_hash";

Error Corrupt(std::string message) { return MakeError(ErrorCode::kCorrupt, std::move(message)); }

// The hash in `column`. `what` names the column for the error message; it is
// a callable so the hot read paths build no string unless the row is bad.
template <typename Describe>
Result<Hash> HashColumn(const SqliteStatement& statement, int column, Describe what) {
  ByteView bytes = statement.ColumnBlob(column);
  Hash hash{};
  if (bytes.size() != hash.size()) {
    return Corrupt(std::string(what()) + " is " + std::to_string(bytes.size()) + " bytes, not 32");
  }
  std::copy(bytes.begin(), bytes.end(), hash.begin());
  return hash;
}

auto Named(const char* what) {
  return [what] { return what; };
}

// Decodes one row selected with kEntryColumns. Reuses `entry`'s buffers.
Status ReadEntryRow(const SqliteStatement& row, Entry& entry) {
  entry.seq = static_cast<std::uint64_t>(row.ColumnInt64(0));
  entry.content.time.assign(row.ColumnText(1));
  entry.content.kind.assign(row.ColumnText(2));
  entry.content.actor.assign(row.ColumnText(3));
  entry.content.payload.assign(row.ColumnText(4));
  auto where = [&entry](const char* field) {
    return "seq " + std::to_string(entry.seq) + ": " + field;
  };
  if (row.ColumnIsNull(5) && row.ColumnIsNull(6)) {
    entry.content.signature.reset();
  } else {
    ByteView key = row.ColumnBlob(5);
    ByteView signature = row.ColumnBlob(6);
    if (key.size() != kEd25519PublicKeySize || signature.size() != kEd25519SignatureSize) {
      return Corrupt(where("public_key/signature columns are malformed"));
    }
    EntrySignature& out = entry.content.signature.emplace();
    std::copy(key.begin(), key.end(), out.public_key.begin());
    std::copy(signature.begin(), signature.end(), out.signature.begin());
  }
  ATTEST_ASSIGN_OR_RETURN(entry.entry_hash,
                          HashColumn(row, 7, [&] { return where("entry_hash"); }));
  ATTEST_ASSIGN_OR_RETURN(entry.chain_hash,
                          HashColumn(row, 8, [&] { return where("chain_hash"); }));
  return OkStatus();
}

class SqliteEntryCursor final : public EntryCursor {
 public:
  explicit SqliteEntryCursor(SqliteStatement statement) : statement_(std::move(statement)) {}
  Result<bool> Next(Entry& entry) override {
    ATTEST_ASSIGN_OR_RETURN(bool has_row, statement_.Step());
    if (!has_row) return false;
    ATTEST_RETURN_IF_ERROR(ReadEntryRow(statement_, entry));
    return true;
  }

 private:
  SqliteStatement statement_;
};

class SqliteNodeCursor final : public NodeCursor {
 public:
  explicit SqliteNodeCursor(SqliteStatement statement) : statement_(std::move(statement)) {}
  Result<bool> Next(CompactRange::Node& node) override {
    ATTEST_ASSIGN_OR_RETURN(bool has_row, statement_.Step());
    if (!has_row) return false;
    auto last_leaf = static_cast<std::uint64_t>(statement_.ColumnInt64(0));
    std::int64_t level = statement_.ColumnInt64(1);
    if (level < 1 || level > 63) {
      return Corrupt("Merkle node row with level " + std::to_string(level));
    }
    node.level = static_cast<int>(level);
    node.index = last_leaf >> node.level;
    ATTEST_ASSIGN_OR_RETURN(node.hash, HashColumn(statement_, 2, Named("Merkle node hash")));
    return true;
  }

 private:
  SqliteStatement statement_;
};

class SqliteLedgerStore final : public LedgerStore {
 public:
  explicit SqliteLedgerStore(SqliteDatabase db) : db_(std::move(db)) {}

  Result<std::string> ReadMeta(const std::string& key) override {
    ATTEST_ASSIGN_OR_RETURN(SqliteStatement * statement,
                            Cached(read_meta_, "SELECT value FROM ledger_meta WHERE key = ?"));
    ATTEST_RETURN_IF_ERROR(statement->BindText(1, key));
    ATTEST_ASSIGN_OR_RETURN(bool found, statement->Step());
    std::string value = found ? std::string(statement->ColumnText(0)) : std::string();
    statement->Reset();
    if (!found) return MakeError(ErrorCode::kNotFound, "no ledger metadata \"" + key + "\"");
    return value;
  }

  Result<std::vector<std::pair<std::string, std::string>>> ReadAllMeta() override {
    ATTEST_ASSIGN_OR_RETURN(SqliteStatement statement,
                            db_.Prepare("SELECT key, value FROM ledger_meta ORDER BY key"));
    std::vector<std::pair<std::string, std::string>> rows;
    while (true) {
      ATTEST_ASSIGN_OR_RETURN(bool has_row, statement.Step());
      if (!has_row) return rows;
      rows.emplace_back(statement.ColumnText(0), statement.ColumnText(1));
    }
  }

  Status WriteMeta(const std::string& key, const std::string& value) override {
    ATTEST_ASSIGN_OR_RETURN(SqliteStatement statement,
                            db_.Prepare("INSERT INTO ledger_meta(key, value) VALUES (?, ?)"));
    ATTEST_RETURN_IF_ERROR(statement.BindText(1, key));
    ATTEST_RETURN_IF_ERROR(statement.BindText(2, value));
    return statement.Run();
  }

  Status WithWriteTransaction(const std::function<Status(const TreeHead&)>& body) override {
    // BEGIN IMMEDIATE takes SQLite's one write lock before anything is read:
    // that lock is the lock on the tree head.
    return db_.WithTransaction([&]() -> Status {
      ATTEST_ASSIGN_OR_RETURN(TreeHead head, ReadTreeHead());
      return body(head);
    });
  }

  Status WithReadSnapshot(const std::function<Status()>& body) override {
    // A deferred transaction: its first read fixes the snapshot (WAL mode),
    // and it never takes the write lock, so a read-only store can run it.
    ATTEST_RETURN_IF_ERROR(db_.Execute("BEGIN DEFERRED"));
    struct EndGuard {
      SqliteDatabase& db;
      ~EndGuard() { (void)db.Execute("ROLLBACK"); }  // nothing was written to keep
    } guard{db_};
    return body();
  }

  Result<TreeHead> ReadTreeHead() override {
    ATTEST_ASSIGN_OR_RETURN(
        SqliteStatement * statement,
        Cached(read_head_, "SELECT seq, chain_hash FROM entries ORDER BY seq DESC LIMIT 1"));
    ATTEST_ASSIGN_OR_RETURN(bool found, statement->Step());
    TreeHead head;
    if (found) {
      head.size = static_cast<std::uint64_t>(statement->ColumnInt64(0));
      auto chain = HashColumn(*statement, 1, Named("chain_hash of the last entry"));
      if (!chain.ok()) {
        statement->Reset();
        return chain.error();
      }
      head.chain_hash = *chain;
    }
    statement->Reset();
    return head;
  }

  Result<Entry> ReadEntry(std::uint64_t seq) override {
    static const std::string kSql =
        std::string("SELECT ") + kEntryColumns + " FROM entries WHERE seq = ?";
    ATTEST_ASSIGN_OR_RETURN(SqliteStatement * statement, Cached(read_entry_, kSql));
    ATTEST_RETURN_IF_ERROR(statement->BindInt64(1, static_cast<std::int64_t>(seq)));
    ATTEST_ASSIGN_OR_RETURN(bool found, statement->Step());
    Entry entry;
    Status decoded = found ? ReadEntryRow(*statement, entry) : OkStatus();
    statement->Reset();
    if (!found) {
      return MakeError(ErrorCode::kNotFound, "no entry with seq " + std::to_string(seq));
    }
    if (!decoded.ok()) return decoded.error();
    return entry;
  }

  Result<std::unique_ptr<EntryCursor>> ScanEntries(std::uint64_t first_seq,
                                                   std::uint64_t last_seq) override {
    ATTEST_ASSIGN_OR_RETURN(SqliteStatement statement,
                            db_.Prepare(std::string("SELECT ") + kEntryColumns +
                                        " FROM entries WHERE seq BETWEEN ? AND ? ORDER BY seq"));
    ATTEST_RETURN_IF_ERROR(statement.BindInt64(1, ToSql(first_seq)));
    ATTEST_RETURN_IF_ERROR(statement.BindInt64(2, ToSql(last_seq)));
    return std::unique_ptr<EntryCursor>(new SqliteEntryCursor(std::move(statement)));
  }

  Result<Hash> ReadNode(int level, std::uint64_t index) override {
    if (level == 0) {
      ATTEST_ASSIGN_OR_RETURN(SqliteStatement * statement,
                              Cached(read_leaf_, "SELECT entry_hash FROM entries WHERE seq = ?"));
      return ReadHash(*statement, {ToSql(index + 1)}, level, index);
    }
    ATTEST_ASSIGN_OR_RETURN(
        SqliteStatement * statement,
        Cached(read_node_, "SELECT hash FROM merkle_nodes WHERE last_leaf = ? AND level = ?"));
    return ReadHash(*statement, {ToSql(LastLeaf(level, index)), level}, level, index);
  }

  Result<std::unique_ptr<NodeCursor>> ScanNodes() override {
    ATTEST_ASSIGN_OR_RETURN(
        SqliteStatement statement,
        db_.Prepare("SELECT last_leaf, level, hash FROM merkle_nodes ORDER BY last_leaf, level"));
    return std::unique_ptr<NodeCursor>(new SqliteNodeCursor(std::move(statement)));
  }

  Result<std::optional<StoredCheckpoint>> LatestCheckpoint() override {
    ATTEST_ASSIGN_OR_RETURN(
        auto all, QueryCheckpoints("SELECT tree_size, root_hash, note, created_at FROM checkpoints "
                                   "ORDER BY tree_size DESC LIMIT 1",
                                   std::nullopt));
    if (all.empty()) return std::optional<StoredCheckpoint>();
    return std::optional<StoredCheckpoint>(std::move(all.front()));
  }

  Result<std::optional<StoredCheckpoint>> CheckpointAt(std::uint64_t tree_size) override {
    ATTEST_ASSIGN_OR_RETURN(
        auto all,
        QueryCheckpoints(
            "SELECT tree_size, root_hash, note, created_at FROM checkpoints WHERE tree_size = ?",
            tree_size));
    if (all.empty()) return std::optional<StoredCheckpoint>();
    return std::optional<StoredCheckpoint>(std::move(all.front()));
  }

  Result<std::vector<StoredCheckpoint>> AllCheckpoints() override {
    return QueryCheckpoints(
        "SELECT tree_size, root_hash, note, created_at FROM checkpoints ORDER BY tree_size",
        std::nullopt);
  }

  Status InsertEntry(const Entry& entry) override {
    static const std::string kSql = std::string("INSERT INTO entries(") + kEntryColumns +
                                    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
    ATTEST_ASSIGN_OR_RETURN(SqliteStatement * statement, Cached(insert_entry_, kSql));
    Status bound = BindAll(*statement, entry);
    if (!bound.ok()) {
      statement->Reset();
      return bound;
    }
    return statement->Run();
  }

  Status InsertNode(const CompactRange::Node& node) override {
    ATTEST_ASSIGN_OR_RETURN(
        SqliteStatement * statement,
        Cached(insert_node_, "INSERT INTO merkle_nodes(last_leaf, level, hash) VALUES (?, ?, ?)"));
    ATTEST_RETURN_IF_ERROR(statement->BindInt64(1, ToSql(LastLeaf(node.level, node.index))));
    ATTEST_RETURN_IF_ERROR(statement->BindInt64(2, node.level));
    ATTEST_RETURN_IF_ERROR(statement->BindBlob(3, AsBytes(node.hash)));
    return statement->Run();
  }

  Status InsertCheckpoint(const StoredCheckpoint& checkpoint) override {
    ATTEST_ASSIGN_OR_RETURN(
        SqliteStatement statement,
        db_.Prepare("INSERT INTO checkpoints(tree_size, root_hash, note, created_at) "
                    "VALUES (?, ?, ?, ?)"));
    ATTEST_RETURN_IF_ERROR(statement.BindInt64(1, ToSql(checkpoint.tree_size)));
    ATTEST_RETURN_IF_ERROR(statement.BindBlob(2, AsBytes(checkpoint.root_hash)));
    ATTEST_RETURN_IF_ERROR(statement.BindText(3, checkpoint.note));
    ATTEST_RETURN_IF_ERROR(statement.BindText(4, checkpoint.created_at));
    return statement.Run();
  }

 private:
  static std::int64_t ToSql(std::uint64_t value) { return static_cast<std::int64_t>(value); }
  static std::uint64_t LastLeaf(int level, std::uint64_t index) {
    return ((index + 1) << level) - 1;
  }

  static Status BindAll(SqliteStatement& statement, const Entry& entry) {
    const EntryContent& content = entry.content;
    ATTEST_RETURN_IF_ERROR(statement.BindInt64(1, ToSql(entry.seq)));
    ATTEST_RETURN_IF_ERROR(statement.BindText(2, content.time));
    ATTEST_RETURN_IF_ERROR(statement.BindText(3, content.kind));
    ATTEST_RETURN_IF_ERROR(statement.BindText(4, content.actor));
    ATTEST_RETURN_IF_ERROR(statement.BindText(5, content.payload));
    if (content.signature) {
      ATTEST_RETURN_IF_ERROR(statement.BindBlob(6, ByteView(content.signature->public_key)));
      ATTEST_RETURN_IF_ERROR(statement.BindBlob(7, ByteView(content.signature->signature)));
    } else {
      ATTEST_RETURN_IF_ERROR(statement.BindNull(6));
      ATTEST_RETURN_IF_ERROR(statement.BindNull(7));
    }
    ATTEST_RETURN_IF_ERROR(statement.BindBlob(8, AsBytes(entry.entry_hash)));
    ATTEST_RETURN_IF_ERROR(statement.BindBlob(9, AsBytes(entry.chain_hash)));
    return OkStatus();
  }

  // A statement prepared once per connection and reused. Each use resets it when done, so a
  // finished read holds no snapshot open; it is also reset here, on the way in, so a use that
  // returned early on an error (a busy database, a bad row) never hands the next a half-run
  // statement.
  Result<SqliteStatement*> Cached(std::optional<SqliteStatement>& slot, std::string_view sql) {
    if (!slot) {
      ATTEST_ASSIGN_OR_RETURN(SqliteStatement statement, db_.Prepare(sql));
      slot.emplace(std::move(statement));
    } else {
      slot->Reset();
    }
    return &*slot;
  }

  Result<Hash> ReadHash(SqliteStatement& statement, std::initializer_list<std::int64_t> keys,
                        int level, std::uint64_t index) {
    int position = 1;
    for (std::int64_t key : keys) ATTEST_RETURN_IF_ERROR(statement.BindInt64(position++, key));
    ATTEST_ASSIGN_OR_RETURN(bool found, statement.Step());
    auto what = [level, index] {
      return "Merkle node (level " + std::to_string(level) + ", index " + std::to_string(index) +
             ")";
    };
    Result<Hash> hash = found ? HashColumn(statement, 0, what)
                              : Result<Hash>(Corrupt(what() + " is missing from the database"));
    statement.Reset();
    return hash;
  }

  Result<std::vector<StoredCheckpoint>> QueryCheckpoints(const std::string& sql,
                                                         std::optional<std::uint64_t> size) {
    ATTEST_ASSIGN_OR_RETURN(SqliteStatement statement, db_.Prepare(sql));
    if (size) ATTEST_RETURN_IF_ERROR(statement.BindInt64(1, ToSql(*size)));
    std::vector<StoredCheckpoint> checkpoints;
    while (true) {
      ATTEST_ASSIGN_OR_RETURN(bool has_row, statement.Step());
      if (!has_row) break;
      StoredCheckpoint& checkpoint = checkpoints.emplace_back();
      checkpoint.tree_size = static_cast<std::uint64_t>(statement.ColumnInt64(0));
      ATTEST_ASSIGN_OR_RETURN(checkpoint.root_hash,
                              HashColumn(statement, 1, Named("checkpoint root_hash")));
      checkpoint.note = std::string(statement.ColumnText(2));
      checkpoint.created_at = std::string(statement.ColumnText(3));
    }
    return checkpoints;
  }

  SqliteDatabase db_;
  std::optional<SqliteStatement> read_meta_, read_head_, read_entry_, read_leaf_, read_node_,
      insert_entry_, insert_node_;
};

Status Configure(SqliteDatabase& db, const SqliteStoreOptions& options) {
  ATTEST_RETURN_IF_ERROR(
      db.Execute("PRAGMA busy_timeout = " + std::to_string(options.busy_timeout_ms)));
  if (!options.read_only) ATTEST_RETURN_IF_ERROR(db.Execute("PRAGMA synchronous = FULL"));
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<LedgerStore>> CreateSqliteLedgerStore(const std::string& path,
                                                             const SqliteStoreOptions& options) {
  // O_EXCL: never adopt a file that appeared under our feet.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return ErrorFromErrno(errno, "create", path);
  ::fchmod(fd, 0640);
  ::close(fd);
  auto remove_all = [&path](Error error) {
    for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((path + suffix).c_str());
    return error;
  };
  auto db = SqliteDatabase::Open(path, SqliteDatabase::OpenMode::kReadWrite);
  if (!db.ok()) return remove_all(db.error());
  if (Status configured = Configure(*db, options); !configured.ok()) {
    return remove_all(configured.error());
  }
  if (Status created = CreateSchema(*db); !created.ok()) return remove_all(created.error());
  return std::unique_ptr<LedgerStore>(new SqliteLedgerStore(std::move(db).value()));
}

Result<std::unique_ptr<LedgerStore>> OpenSqliteLedgerStore(const std::string& path,
                                                           const SqliteStoreOptions& options) {
  if (!PathExists(path)) {
    return MakeError(
        ErrorCode::kNotFound,
        path + ": no such ledger database (create one with `ledger init --db " + path + "`)");
  }
  auto mode = options.read_only ? SqliteDatabase::OpenMode::kReadOnly
                                : SqliteDatabase::OpenMode::kReadWrite;
  ATTEST_ASSIGN_OR_RETURN(SqliteDatabase db, SqliteDatabase::Open(path, mode));
  if (!options.read_only && db.IsReadOnly()) {
    return MakeError(ErrorCode::kPermissionDenied,
                     path + ": the ledger database is read-only for this user (uid " +
                         std::to_string(::geteuid()) +
                         "): check the file's owner and mode, and its directory's");
  }
  ATTEST_RETURN_IF_ERROR(Configure(db, options));
  ATTEST_RETURN_IF_ERROR(CheckOrMigrateSchema(db, path, options.read_only));
  return std::unique_ptr<LedgerStore>(new SqliteLedgerStore(std::move(db)));
}

}  // namespace attest::ledger
