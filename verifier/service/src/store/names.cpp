// The stable spellings of the store's enums: they appear in the database,
// the API and the ledger, so a name is never changed once released.
#include <array>
#include <utility>

#include "attest/service/store.h"

namespace attest::service {
namespace {

constexpr std::array<std::pair<NodeState, std::string_view>, 5> kNodeStates = {{
    {NodeState::kPendingApproval, "pending_approval"},
    {NodeState::kEnrolled, "enrolled"},
    {NodeState::kTrusted, "trusted"},
    {NodeState::kUntrusted, "untrusted"},
    {NodeState::kRevoked, "revoked"},
}};

constexpr std::array<std::pair<Role, std::string_view>, 3> kRoles = {{
    {Role::kReader, "reader"},
    {Role::kOperator, "operator"},
    {Role::kAdmin, "admin"},
}};

template <typename Enum, std::size_t N>
std::string_view NameOf(const std::array<std::pair<Enum, std::string_view>, N>& names, Enum value) {
  for (const auto& [candidate, name] : names) {
    if (candidate == value) return name;
  }
  return "unknown";
}

template <typename Enum, std::size_t N>
std::optional<Enum> ValueOf(const std::array<std::pair<Enum, std::string_view>, N>& names,
                            std::string_view name) {
  for (const auto& [candidate, candidate_name] : names) {
    if (candidate_name == name) return candidate;
  }
  return std::nullopt;
}

}  // namespace

std::string_view NodeStateName(NodeState state) { return NameOf(kNodeStates, state); }
std::optional<NodeState> ParseNodeState(std::string_view name) {
  return ValueOf(kNodeStates, name);
}

std::string_view RoleName(Role role) { return NameOf(kRoles, role); }
std::optional<Role> ParseRole(std::string_view name) { return ValueOf(kRoles, name); }

}  // namespace attest::service
