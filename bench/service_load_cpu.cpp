#include "service_load_cpu.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

namespace attest::bench {
namespace {

struct Times {
  long ppid = 0;
  double own = 0;       // utime + stime, seconds
  double children = 0;  // cutime + cstime: waited-for children that exited
  bool ok = false;
};

// /proc/PID/stat: "pid (comm) state ppid ..." with utime, stime, cutime,
// cstime the 14th to 17th fields. comm may hold spaces and parentheses, so
// the fields are counted from the last ')'.
Times ReadTimes(const std::string& stat_path) {
  Times times;
  std::ifstream in(stat_path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t close = text.rfind(')');
  if (close == std::string::npos) return times;
  std::istringstream fields(text.substr(close + 1));
  std::string field;
  std::vector<std::string> rest;  // from field 3 (state) on
  while (fields >> field && rest.size() < 15) rest.push_back(field);
  if (rest.size() < 15) return times;
  static const double kTicks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  auto ticks = [&rest](std::size_t field_number) {
    return std::strtod(rest[field_number - 3].c_str(), nullptr);
  };
  times.ppid = std::strtol(rest[1].c_str(), nullptr, 10);
  times.own = (ticks(14) + ticks(15)) / kTicks;
  times.children = (ticks(16) + ticks(17)) / kTicks;
  times.ok = true;
  return times;
}

std::string StatPath(int pid) {
  return pid == 0 ? "/proc/self/stat" : "/proc/" + std::to_string(pid) + "/stat";
}

// The server's own time, what its exited children left, and its live
// children's own time.
double TreeSeconds(int pid) {
  const Times root = ReadTimes(StatPath(pid));
  if (!root.ok) return 0;
  double total = root.own + root.children;
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ignored)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const Times child = ReadTimes(entry.path().string() + "/stat");
    if (child.ok && child.ppid == pid) total += child.own;
  }
  return total;
}

}  // namespace

void CpuMeter::AddProcess(std::string name, int pid) {
  sources_.push_back({std::move(name), pid, false});
}

void CpuMeter::AddServerTree(std::string name, int pid) {
  sources_.push_back({std::move(name), pid, true});
}

CpuMeter::Snapshot CpuMeter::Sample() const {
  Snapshot snapshot;
  for (const Source& source : sources_) {
    snapshot.seconds.push_back(source.tree ? TreeSeconds(source.pid)
                                           : ReadTimes(StatPath(source.pid)).own);
  }
  return snapshot;
}

std::vector<CpuShare> CpuMeter::Spent(const Snapshot& before, const Snapshot& after) const {
  std::vector<CpuShare> shares;
  for (std::size_t i = 0; i < sources_.size(); ++i) {
    shares.push_back({sources_[i].name, after.seconds[i] - before.seconds[i]});
  }
  return shares;
}

int PostmasterPid(const std::string& socket_dir) {
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator(socket_dir, ignored)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(".s.PGSQL.", 0) != 0 || !name.ends_with(".lock")) continue;
    std::ifstream lock(entry.path());
    int pid = 0;
    if (lock >> pid && pid > 0) return pid;
  }
  return 0;
}

}  // namespace attest::bench
