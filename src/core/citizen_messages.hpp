// Every message a citizen's account sees (the sign-in SMS, the `detail` of refusals on
// /api/v1/account), in Nepali and English: one table, citizen_messages.cpp.
#pragma once

#include <optional>
#include <string_view>

namespace pg::core {

enum class Language { kNe, kEn };

/// "ne" -> kNe, "en" -> kEn, else nullopt.
std::optional<Language> language_from_name(std::string_view name) noexcept;
std::string_view language_name(Language language) noexcept;

enum class Message {
  kSmsCode,  // followed by the code
  kBodyInvalid,
  kPhoneInvalid,
  kCodeInvalid,
  kLanguageInvalid,
  kWrongCode,
  kCodeExpired,
  kLockedOut,
  kTooManyCodes,
  kRefreshInvalid,
  kRefreshExpired,
  kRefreshReused,
  kAccessInvalid,
  kAccountGone,
  kNonceInvalid,
  kLinkInvalid,
  kLinkOtherRequest,
  kUnknownMember,
};

/// The text of `message` in `language`. Every message has both.
std::string_view message_text(Message message, Language language) noexcept;

}  // namespace pg::core
