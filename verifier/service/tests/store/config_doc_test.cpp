// The documents agree with the code: verifier/README.md's configuration
// table and verifier/examples/verifier.toml name exactly the keys the
// parser accepts, the example is a valid configuration, and ledger/FORMAT.md
// lists exactly the entry kinds the ledger accepts.
#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "attest/ledger/kinds.h"
#include "attest/service/config.h"
#include "attest/testing/test_support.h"

#include "src/store/config_internal.h"

namespace attest::service {
namespace {

std::set<std::string> ParserKeys() {
  std::vector<std::string> keys = internal::ServiceConfigKeys();
  return {keys.begin(), keys.end()};
}

// The lines of `text` from the heading `start` up to the next heading of
// the same level.
std::vector<std::string> SectionLines(const std::string& text, const std::string& start) {
  std::istringstream in(text);
  std::vector<std::string> lines;
  std::string line;
  bool inside = false;
  const std::string level = start.substr(0, start.find(' ') + 1);
  while (std::getline(in, line)) {
    if (line.rfind(start, 0) == 0) {
      inside = true;
      continue;
    }
    if (inside && line.rfind(level, 0) == 0) break;
    if (inside) lines.push_back(line);
  }
  return lines;
}

TEST(ConfigDocTest, TheReadmeTableDocumentsExactlyTheParsersKeys) {
  const std::string readme = attest::test::ReadText(VERIFIER_README);
  std::vector<std::string> lines = SectionLines(readme, "## Configuration");
  ASSERT_FALSE(lines.empty()) << "verifier/README.md has no \"## Configuration\" section";
  std::set<std::string> documented;
  const std::regex row(R"(^\| `([a-z_.\[\]]+)` \|)");
  for (const std::string& line : lines) {
    std::smatch match;
    if (std::regex_search(line, match, row)) documented.insert(match[1]);
  }
  EXPECT_EQ(documented, ParserKeys());
}

TEST(ConfigDocTest, TheExampleUsesEveryKeyAndIsValid) {
  auto config = LoadServiceConfig(VERIFIER_EXAMPLE_CONFIG);
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  EXPECT_FALSE(config->webhooks.empty());

  std::istringstream in(attest::test::ReadText(VERIFIER_EXAMPLE_CONFIG));
  std::string line;
  std::string prefix;
  std::set<std::string> used;
  const std::regex array_table(R"(^\[\[([a-z_]+)\]\])");
  const std::regex table(R"(^\[([a-z_]+)\])");
  const std::regex key(R"(^([a-z_]+)\s*=)");
  while (std::getline(in, line)) {
    std::smatch match;
    if (std::regex_search(line, match, array_table)) {
      prefix = std::string(match[1]) + "[].";
    } else if (std::regex_search(line, match, table)) {
      prefix = std::string(match[1]) + ".";
    } else if (std::regex_search(line, match, key)) {
      used.insert(prefix + std::string(match[1]));
    }
  }
  EXPECT_EQ(used, ParserKeys());
}

TEST(LedgerKindsTest, FormatDocListsExactlyTheKindsTheLedgerAccepts) {
  const std::string format = attest::test::ReadText(LEDGER_FORMAT_MD);
  std::vector<std::string> lines = SectionLines(format, "## 5. Kinds");
  ASSERT_FALSE(lines.empty());
  std::set<std::string> documented;
  const std::regex kind("`([a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+)`");
  for (const std::string& line : lines) {
    if (line.rfind("| `", 0) != 0) continue;
    // Only the first cell names kinds; the second may cite files.
    std::string cell = line.substr(0, line.find('|', 1));
    for (std::sregex_iterator it(cell.begin(), cell.end(), kind), end; it != end; ++it) {
      documented.insert((*it)[1]);
    }
  }
  std::set<std::string> accepted(ledger::kinds::kAll.begin(), ledger::kinds::kAll.end());
  EXPECT_EQ(documented, accepted);
}

}  // namespace
}  // namespace attest::service
