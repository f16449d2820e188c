// The citizens' messages (see citizen_messages.hpp): Nepali first, the default.
#include "core/citizen_messages.hpp"

#include <array>
#include <utility>

namespace pg::core {

namespace {

struct Texts {
  Message message;
  std::string_view ne;
  std::string_view en;
};

constexpr std::array kTexts{
    Texts{Message::kSmsCode,
          "proofgate मा साइन इन गर्ने तपाईंको कोड: ", "Your proofgate sign-in code: "},
    Texts{Message::kBodyInvalid, "अनुरोधको मुख्य भाग JSON वस्तु हुनुपर्छ",
          "the body must be a JSON object"},
    Texts{Message::kPhoneInvalid, "फोन नम्बर E.164 ढाँचामा हुनुपर्छ (जस्तै +9779812345678)",
          "the phone number must be in E.164 form (such as +9779812345678)"},
    Texts{Message::kCodeInvalid, "कोड छ अङ्कको हुनुपर्छ", "the code must be six digits"},
    Texts{Message::kLanguageInvalid, "भाषा 'ne' वा 'en' हुनुपर्छ",
          "the language must be 'ne' or 'en'"},
    Texts{Message::kWrongCode, "कोड मिलेन", "the code is wrong"},
    Texts{Message::kCodeExpired, "कोडको समय सकियो; नयाँ कोड माग्नुहोस्",
          "the code has expired; ask for a new one"},
    Texts{Message::kLockedOut, "धेरै पटक गलत कोड दिइयो; केही समयपछि फेरि प्रयास गर्नुहोस्",
          "too many wrong codes; try again later"},
    Texts{Message::kTooManyCodes, "यो नम्बरमा धेरै कोड पठाइए; केही समयपछि फेरि प्रयास गर्नुहोस्",
          "too many codes were sent to this number; try again later"},
    Texts{Message::kRefreshInvalid, "रिफ्रेस टोकन मान्य छैन", "the refresh token is not valid"},
    Texts{Message::kRefreshExpired, "रिफ्रेस टोकनको समय सकियो; फेरि साइन इन गर्नुहोस्",
          "the refresh token has expired; sign in again"},
    Texts{Message::kRefreshReused,
          "यो रिफ्रेस टोकन पहिले नै प्रयोग भइसकेको छ; सुरक्षाका लागि यसका सबै टोकन रद्द गरिए",
          "this refresh token was used already; every token of its sign-in is revoked"},
    Texts{Message::kAccessInvalid, "एक्सेस टोकन मान्य छैन", "the access token is not valid"},
    Texts{Message::kAccountGone, "यो खाता छैन", "this account does not exist"},
    Texts{Message::kNonceInvalid, "nonce प्रमाण अनुरोधको २२ अक्षरको base64url nonce हुनुपर्छ",
          "the nonce must be the 22-character base64url nonce of a proof request"},
    Texts{Message::kLinkInvalid, "खाता जोड्ने टोकन मान्य छैन", "the account link token is not valid"},
    Texts{Message::kLinkOtherRequest, "खाता जोड्ने टोकन अर्को प्रमाण अनुरोधको हो",
          "the account link token is for another proof request"},
    Texts{Message::kUnknownMember, "अज्ञात सदस्य", "is not a known member"},
};

}  // namespace

std::optional<Language> language_from_name(std::string_view name) noexcept {
  if (name == "ne") return Language::kNe;
  if (name == "en") return Language::kEn;
  return std::nullopt;
}

std::string_view language_name(Language language) noexcept {
  return language == Language::kEn ? "en" : "ne";
}

std::string_view message_text(Message message, Language language) noexcept {
  for (const Texts& t : kTexts) {
    if (t.message == message) return language == Language::kEn ? t.en : t.ne;
  }
  return "";
}

}  // namespace pg::core
