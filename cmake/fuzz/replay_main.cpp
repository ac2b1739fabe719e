// Replays seed corpora through a fuzz target without libFuzzer, so the
// sanitizer build (gcc, ASan + UBSan) runs every seed as a regression test
// without a second, clang-only build of the whole tree. Arguments are files
// or directories of files; libFuzzer-style flags ("-runs=0") are ignored.
// A path that does not exist, or a run that replays nothing, is a failure:
// a corpus that silently vanished would otherwise pass.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

bool ReplayFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
    return false;
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // A heap copy of exactly the input's size, so ASan sees a read past the end.
  std::vector<std::uint8_t> input(bytes.begin(), bytes.end());
  LLVMFuzzerTestOneInput(input.empty() ? nullptr : input.data(), input.size());
  return true;
}

// Files of a directory in name order, so a failure reproduces in the same order.
std::vector<std::filesystem::path> FilesIn(const std::filesystem::path& directory,
                                           std::error_code& error) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t replayed = 0;
  for (int i = 1; i < argc; ++i) {
    std::string argument = argv[i];
    if (argument.starts_with("-")) continue;
    std::filesystem::path path(argument);
    std::error_code error;
    if (std::filesystem::is_directory(path, error)) {
      auto files = FilesIn(path, error);
      if (error) {
        std::fprintf(stderr, "replay: cannot list %s: %s\n", path.c_str(), error.message().c_str());
        return 1;
      }
      for (const auto& file : files) {
        if (!ReplayFile(file)) return 1;
        ++replayed;
      }
    } else if (std::filesystem::is_regular_file(path, error)) {
      if (!ReplayFile(path)) return 1;
      ++replayed;
    } else {
      std::fprintf(stderr, "replay: no such corpus file or directory: %s\n", path.c_str());
      return 1;
    }
  }
  if (replayed == 0) {
    std::fprintf(stderr, "replay: no inputs replayed; name the corpus directories\n");
    return 1;
  }
  std::printf("replay: %zu inputs, no finding\n", replayed);
  return 0;
}
