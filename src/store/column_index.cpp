// ColumnIndex: a result's column positions by name.
#include "store/column_index.hpp"

#include "store/store_error.hpp"

namespace pg::store {

int ColumnIndex::at(std::string_view name, std::string_view operation,
                    std::string_view store) const {
  for (std::size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return static_cast<int>(i);
  }
  fail_store(store, operation, "no column " + std::string(name) + " in the result");
}

}  // namespace pg::store
