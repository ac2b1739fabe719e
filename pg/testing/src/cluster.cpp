#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attest/pg/test_cluster.h"
#include "attest/testing/test_support.h"

namespace attest::pg::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kSuperuser = "attest";
constexpr auto kReadyTimeout = std::chrono::seconds(60);
constexpr auto kStopTimeout = std::chrono::seconds(30);

Error Failed(std::string message) { return MakeError(ErrorCode::kIo, std::move(message)); }

// A database name goes into DROP/CREATE DATABASE as an identifier, which no
// parameter can stand in for: only plain lowercase names get that far.
Status CheckDatabaseName(const std::string& name) {
  const bool plain =
      !name.empty() && name.size() < 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
      });
  if (plain) return OkStatus();
  return MakeError(ErrorCode::kInvalidArgument,
                   "test database name \"" + name + "\" is not [a-z0-9_]+ (at most 63)");
}

// The socket directory as a URL query value: everything but unreserved
// characters and '/' percent-encoded (a temp dir may hold '&', '#', ' ').
std::string EncodeForUrl(const std::string& text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

// A libpq key=value value, quoted, for PQping.
std::string QuoteConninfo(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

// The newest installed server: /usr/lib/postgresql/<major>/bin with initdb
// and postgres in it. Never PATH: a fresh Debian machine has neither there.
Result<std::string> FindBinDir() {
  const fs::path root = "/usr/lib/postgresql";
  int best = -1;
  std::string best_dir;
  std::error_code ignored;
  for (const auto& version : fs::directory_iterator(root, ignored)) {
    const std::string name = version.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    const fs::path bin = version.path() / "bin";
    if (::access((bin / "initdb").c_str(), X_OK) != 0 ||
        ::access((bin / "postgres").c_str(), X_OK) != 0) {
      continue;
    }
    if (int major = std::atoi(name.c_str()); major > best) {
      best = major;
      best_dir = bin.string();
    }
  }
  if (best < 0) {
    return MakeError(ErrorCode::kNotFound,
                     "no PostgreSQL server under /usr/lib/postgresql/*/bin (initdb, postgres): "
                     "install Debian's postgresql package (scripts/install-deps lists it)");
  }
  return best_dir;
}

std::string Tail(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
}

std::unique_ptr<TestCluster>& SharedSlot() {
  static std::unique_ptr<TestCluster> cluster;
  return cluster;
}

}  // namespace

Result<TestCluster*> TestCluster::Shared() {
  static std::optional<Error> failed;
  std::unique_ptr<TestCluster>& slot = SharedSlot();
  if (slot) return slot.get();
  if (failed) return *failed;
  std::unique_ptr<TestCluster> cluster(new TestCluster());
  if (Status started = cluster->Initialize(); !started.ok()) {
    failed = started.error().WithContext("start a private PostgreSQL cluster for the tests");
    return *failed;
  }
  // The figure for the notes: what one cluster per test binary costs.
  std::printf("[ pg      ] private PostgreSQL cluster ready in %lld ms (%s)\n",
              static_cast<long long>(cluster->startup_time().count()), cluster->dir_.c_str());
  std::fflush(stdout);
  slot = std::move(cluster);
  return slot.get();
}

Status TestCluster::Initialize() {
  const Clock::time_point began = Clock::now();
  ATTEST_ASSIGN_OR_RETURN(bin_dir_, FindBinDir());
  std::string pattern = ::testing::TempDir() + "/attest_pg_XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr)
    return Failed("mkdtemp: " + std::string(std::strerror(errno)));
  dir_ = pattern;
  ::chmod(dir_.c_str(), 0755);  // nobody must reach data/ and run/
  data_dir_ = dir_ + "/data";
  socket_dir_ = dir_ + "/run";
  log_path_ = dir_ + "/server.log";
  for (const std::string& sub : {data_dir_, socket_dir_}) {
    if (::mkdir(sub.c_str(), 0700) != 0) return Failed("mkdir " + sub);
  }
  if (::geteuid() == 0) {
    // PostgreSQL refuses to run as root: the cluster belongs to nobody.
    const passwd* nobody = ::getpwnam("nobody");
    if (nobody == nullptr)
      return Failed("running as root, and there is no user nobody to run PostgreSQL as");
    drop_privileges_ = true;
    server_uid_ = nobody->pw_uid;
    server_gid_ = nobody->pw_gid;
    for (const std::string& sub : {data_dir_, socket_dir_}) {
      if (::chown(sub.c_str(), server_uid_, server_gid_) != 0) return Failed("chown " + sub);
    }
  }
  // setgid(uid) in RunCommand: nobody's group is nogroup, 65534 both.
  attest::test::CommandOptions options;
  if (drop_privileges_) options.as_uid = server_uid_;
  options.environment = {{"LC_ALL", "C"}, {"TZ", "UTC"}};
  attest::test::CommandResult initdb = attest::test::RunCommand(
      {bin_dir_ + "/initdb", "--pgdata=" + data_dir_, std::string("--username=") + kSuperuser,
       "--auth-local=trust", "--auth-host=reject", "--encoding=UTF8", "--locale=C", "--no-sync",
       "--no-instructions"},
      options);
  if (initdb.exit_code != 0) {
    return Failed(bin_dir_ + "/initdb failed (exit " + std::to_string(initdb.exit_code) +
                  "): " + initdb.err + initdb.out);
  }
  ATTEST_RETURN_IF_ERROR(Start());
  startup_time_ = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began);
  return OkStatus();
}

Status TestCluster::Start() {
  if (server_pid_ > 0) return OkStatus();
  const std::string postgres = bin_dir_ + "/postgres";
  std::vector<std::string> args = {postgres, "-D", data_dir_,
                                   // No TCP at all: a socket in the temp dir only.
                                   "-c", "listen_addresses=", "-c",
                                   "unix_socket_directories=" + socket_dir_, "-c",
                                   "max_connections=60", "-c", "shared_buffers=32MB",
                                   // A real, durable server (fsync stays on); quiet logs, no stats
                                   // collector files to write at shutdown beyond the default.
                                   "-c", "log_min_messages=warning", "-c", "log_checkpoints=off",
                                   "-c", "max_wal_senders=0", "-c", "wal_level=minimal"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) return Failed("open " + log_path_);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log);
    return Failed("fork: " + std::string(std::strerror(errno)));
  }
  if (pid == 0) {
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, STDIN_FILENO);
    if (drop_privileges_ && (::setgroups(0, nullptr) != 0 || ::setgid(server_gid_) != 0 ||
                             ::setuid(server_uid_) != 0)) {
      ::_exit(126);
    }
    // After setuid, which clears it: the server dies with the test binary.
    ::prctl(PR_SET_PDEATHSIG, SIGQUIT);
    if (::getppid() != parent) ::_exit(125);
    ::setenv("LC_ALL", "C", 1);
    ::setenv("TZ", "UTC", 1);
    ::execv(postgres.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(log);
  server_pid_ = pid;

  const std::string ping = "host=" + QuoteConninfo(socket_dir_) +
                           " dbname=postgres user=" + kSuperuser + " connect_timeout=2";
  const Clock::time_point deadline = Clock::now() + kReadyTimeout;
  while (PQping(ping.c_str()) != PQPING_OK) {
    int status = 0;
    if (::waitpid(server_pid_, &status, WNOHANG) == server_pid_) {
      server_pid_ = -1;
      return Failed("postgres exited before accepting connections; its log:\n" + Tail(log_path_));
    }
    if (Clock::now() > deadline) {
      (void)Stop();
      return Failed("postgres did not accept connections within 60 s; its log:\n" +
                    Tail(log_path_));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return OkStatus();
}

Status TestCluster::Stop() {
  maintenance_.reset();
  if (server_pid_ <= 0) return OkStatus();
  ::kill(server_pid_, SIGINT);  // fast shutdown: sessions end, as at a restart
  const Clock::time_point deadline = Clock::now() + kStopTimeout;
  int status = 0;
  while (::waitpid(server_pid_, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      ::kill(server_pid_, SIGKILL);
      ::waitpid(server_pid_, &status, 0);
      server_pid_ = -1;
      return Failed("postgres did not stop within 30 s; killed it");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  server_pid_ = -1;
  return OkStatus();
}

Status TestCluster::Restart() {
  ATTEST_RETURN_IF_ERROR(Stop());
  return Start();
}

TestCluster::~TestCluster() {
  (void)Stop();
  if (!dir_.empty()) {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
}

Result<Connection*> TestCluster::Maintenance() {
  if (!maintenance_ || !maintenance_->IsAlive()) {
    ATTEST_ASSIGN_OR_RETURN(Connection connection,
                            Connection::Open("postgresql:///postgres?host=" +
                                             EncodeForUrl(socket_dir_) + "&user=" + kSuperuser));
    maintenance_ = std::make_unique<Connection>(std::move(connection));
  }
  return maintenance_.get();
}

Result<std::string> TestCluster::CreateDatabase() {
  ATTEST_ASSIGN_OR_RETURN(Connection * connection, Maintenance());
  const std::string name = "test_" + std::to_string(next_database_++);
  ATTEST_RETURN_IF_ERROR(CheckDatabaseName(name));
  ATTEST_RETURN_IF_ERROR(connection->Execute("create database", "CREATE DATABASE " + name));
  return "postgresql:///" + name + "?host=" + EncodeForUrl(socket_dir_) + "&user=" + kSuperuser;
}

Status TestCluster::DropDatabase(const std::string& name) {
  ATTEST_RETURN_IF_ERROR(CheckDatabaseName(name));
  ATTEST_ASSIGN_OR_RETURN(Connection * connection, Maintenance());
  return connection->Execute("drop database", "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
}

TestDatabase::TestDatabase() {
  auto cluster = TestCluster::Shared();
  if (!cluster.ok()) {
    error_ = cluster.error().ToString();
    return;
  }
  cluster_ = *cluster;
  auto url = cluster_->CreateDatabase();
  if (!url.ok()) {
    error_ = url.error().ToString();
    return;
  }
  url_ = *url;
  name_ = url_.substr(std::string("postgresql:///").size());
  name_ = name_.substr(0, name_.find('?'));
}

TestDatabase::~TestDatabase() {
  if (cluster_ != nullptr && !name_.empty()) (void)cluster_->DropDatabase(name_);
}

std::string DieAtCommitTriggerSql(const std::string& table) {
  return R"sql(
CREATE FUNCTION die_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_terminate_backend(pg_backend_pid());
  PERFORM pg_sleep(10);
  RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER die_at_commit AFTER INSERT ON )sql" +
         table + R"sql(
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION die_at_commit();
)sql";
}

}  // namespace attest::pg::test
