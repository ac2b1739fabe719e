// Where the load generator's verifiers keep their state (--storage): the
// state directory's SQLite files (the default), a private PostgreSQL
// cluster started here the way the tests start theirs (pg/testing; only in
// builds with the tests), or a postgresql:// URL naming an empty database
// (ATTEST_BENCH_PG_URL's convention, as bench/ledger_postgres_bench).
#pragma once

#include <string>

namespace attest::bench {

class BenchStorage {
 public:
  // "sqlite", "postgres" or a postgresql:// URL; exits with a message when
  // the storage cannot be had.
  static BenchStorage Open(const std::string& flag);

  // What ServiceConfig::storage and InitOptions::storage take: "" for SQLite.
  const std::string& url() const { return url_; }
  bool postgres() const { return !url_.empty(); }
  // The PostgreSQL server's postmaster, for its CPU; 0 when unknown (SQLite,
  // or a server reached over TCP).
  int postmaster_pid() const { return postmaster_pid_; }
  std::string description() const;

 private:
  std::string url_;
  std::string origin_;  // "private cluster in DIR" or "given URL"
  int postmaster_pid_ = 0;
};

}  // namespace attest::bench
