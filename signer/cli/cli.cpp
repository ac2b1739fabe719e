#include "cli/cli.h"

#include <array>
#include <string_view>

namespace attest::signer::cli {
namespace {

constexpr std::string_view kUsage =
    "signer: Ed25519 keys and detached signatures over files, directory trees and\n"
    "policies (signer/FORMAT.md).\n"
    "\n"
    "Usage: signer COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  keygen      create NAME.key (passphrase-encrypted), NAME.pub and NAME.pem\n"
    "  sign        sign files: FILE.sig.json next to each\n"
    "  verify      check a file against its envelope and a set of trusted keys\n"
    "  sign-dir    sign the manifest of a whole tree as one envelope\n"
    "  verify-dir  check a tree against its envelope: lists added, removed and\n"
    "              changed files\n"
    "  submit      record an envelope in a ledger (artifact.approved, config.changed\n"
    "              or policy.signed)\n"
    "  revoke      record artifact.revoked for a digest in a ledger\n"
    "\n"
    "Passphrases come from a terminal prompt, --passphrase-file FILE or\n"
    "--passphrase-env VAR, never from the command line. Every command takes --help.\n"
    "Exit codes: 0 success / valid, 1 verification failed, 2 usage or input error.\n";

}  // namespace

int Run(CommandArgs args, std::ostream& out, std::ostream& err) {
  static constexpr std::array<attest::cli::Subcommand, 7> kSubcommands = {{
      {"keygen", RunKeygen},
      {"sign", RunSign},
      {"verify", RunVerify},
      {"sign-dir", RunSignDir},
      {"verify-dir", RunVerifyDir},
      {"submit", RunSubmit},
      {"revoke", RunRevoke},
  }};
  return attest::cli::Dispatch("signer", kUsage, kSubcommands, args, out, err);
}

}  // namespace attest::signer::cli
