// fail_store (store_error.hpp).
#include "store/store_error.hpp"

#include <string>

#include "core/ports.hpp"

namespace pg::store {

void fail_store(std::string_view store, std::string_view operation, std::string_view message) {
  throw core::StoreError(std::string(store) + ": " + std::string(operation) + ": " +
                         std::string(message));
}

}  // namespace pg::store
