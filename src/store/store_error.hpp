// The error both stores' shared pieces throw: core::StoreError worded "<store>: <operation>: …".
#pragma once

#include <string_view>

namespace pg::store {

/// Throws core::StoreError("<store>: <operation>: <message>").
[[noreturn]] void fail_store(std::string_view store, std::string_view operation,
                             std::string_view message);

}  // namespace pg::store
