// The sandbox's SMS delivery for citizens' sign-in codes: each message written to
// <dir>/<E.164>.code (mode 0600, replaced atomically), as the sandbox authority does for issuers.
// Sandbox and demo only: the file names are the numbers and anyone reading the directory can sign
// in as them. serve uses it with --demo or an explicit account_sms_dir; otherwise sign-in answers
// 503 until an SMS gateway is plugged behind core::CodeSender.
#pragma once

#include <filesystem>
#include <string_view>

#include "core/citizens.hpp"

namespace pg::cli {

class SmsFiles final : public core::CodeSender {
 public:
  /// Creates `dir` (0700) when missing; throws std::runtime_error when it cannot.
  explicit SmsFiles(std::filesystem::path dir);
  /// Throws std::runtime_error naming neither the number nor the file on failure.
  void send(std::string_view phone, std::string_view text) override;

 private:
  std::filesystem::path dir_;
};

}  // namespace pg::cli
