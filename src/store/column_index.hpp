// A statement's result columns by name, looked up once per statement, so both adapters read rows
// by column name and the row mapping (rows.hpp) is written once.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pg::store {

/// The names of a result's columns in their order, as the driver reports them.
class ColumnIndex {
 public:
  ColumnIndex() = default;
  explicit ColumnIndex(std::vector<std::string> names) : names_(std::move(names)) {}

  /// The position of `name`; throws core::StoreError ("<store>: <operation>: no column <name>")
  /// when the statement has no such column (a query and its reader disagree).
  int at(std::string_view name, std::string_view operation, std::string_view store) const;
  bool empty() const noexcept { return names_.empty(); }

 private:
  std::vector<std::string> names_;
};

}  // namespace pg::store
