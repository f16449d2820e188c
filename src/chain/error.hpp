// The error value of the on-chain helpers: what was refused (a field, a method, a file) and why.
#pragma once

#include <string>

#include "crypto/result.hpp"

namespace pg::chain {

/// A refusal or failure: `what` names the field, RPC method or file concerned; `message` says why.
struct Error {
  std::string what;
  std::string message;

  /// "<what>: <message>" — the one line the CLI prints.
  std::string to_string() const { return what.empty() ? message : what + ": " + message; }
};

template <class T>
using Result = crypto::Result<T, Error>;

/// The value of a Result<T> that carries nothing but success.
struct Ok {};

}  // namespace pg::chain
