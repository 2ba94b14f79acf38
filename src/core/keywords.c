#include "core/keywords.h"

#include <stdio.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#define U16_MAX (KEYWORD_TEXT_MAX * 2)

enum lb_err keyword_normalize(const char *text, size_t len, char *out, size_t n)
{
  UErrorCode e = U_ZERO_ERROR;
  const UNormalizer2 *nfkc = unorm2_getNFKCCasefoldInstance(&e);
  UChar in[U16_MAX], folded[U16_MAX], tidy[U16_MAX];
  int32_t in_len = 0, f_len, t_len = 0, i = 0, u8_len = 0;

  if (U_FAILURE(e))
    return LB_EINVAL;
  if (len > KEYWORD_TEXT_MAX * 4)
    return LB_ETOOBIG;
  u_strFromUTF8(in, U16_MAX, &in_len, text, (int32_t)len, &e);
  if (e == U_BUFFER_OVERFLOW_ERROR || e == U_STRING_NOT_TERMINATED_WARNING)
    return LB_ETOOBIG;
  if (U_FAILURE(e))
    return LB_EINVAL;
  f_len = unorm2_normalize(nfkc, in, in_len, folded, U16_MAX, &e);
  if (e == U_BUFFER_OVERFLOW_ERROR || e == U_STRING_NOT_TERMINATED_WARNING)
    return LB_ETOOBIG;
  if (U_FAILURE(e))
    return LB_EINVAL;
  /* White space: trimmed, and each run one space. */
  while (i < f_len) {
    UChar32 c;
    int32_t at = i;
    U16_NEXT(folded, i, f_len, c);
    if (u_isUWhiteSpace(c) || c == 0x200B || c == 0xFEFF) {
      if (t_len && tidy[t_len - 1] != ' ')
        tidy[t_len++] = ' ';
      continue;
    }
    while (at < i)
      tidy[t_len++] = folded[at++];
  }
  /* Trailing punctuation and space, in any order ("stop !"). */
  while (t_len > 0) {
    UChar32 c;
    int32_t end = t_len;
    U16_PREV(tidy, 0, end, c);
    if (c != ' ' && !u_ispunct(c))
      break;
    t_len = end;
  }
  e = U_ZERO_ERROR;
  u_strToUTF8(out, (int32_t)n, &u8_len, tidy, t_len, &e);
  if (e == U_BUFFER_OVERFLOW_ERROR || e == U_STRING_NOT_TERMINATED_WARNING ||
      (size_t)u8_len >= n)
    return LB_ETOOBIG;
  if (U_FAILURE(e))
    return LB_EINVAL;
  out[u8_len] = '\0';
  return LB_OK;
}

static const char *const list_names[3] = {"opt-out", "opt-in", "help"};

enum lb_err keywords_init(struct keywords *k, const char *opt_out,
                          const char *opt_in, const char *help, char *why,
                          size_t whylen)
{
  const char *lists[3] = {opt_out, opt_in, help};
  memset(k, 0, sizeof *k);
  for (int l = 0; l < 3; l++) {
    const char *p = lists[l] ? lists[l] : "";
    while (*p) {
      const char *comma = strchr(p, ',');
      size_t len = comma ? (size_t)(comma - p) : strlen(p);
      char word[KEYWORD_BYTES];
      enum lb_err rc = keyword_normalize(p, len, word, sizeof word);
      if (rc || !word[0]) {
        snprintf(why, whylen,
                 "the %s word '%.*s' is %s; words are comma-separated, of "
                 "at most %d bytes",
                 list_names[l], (int)(len > 40 ? 40 : len), p,
                 rc == LB_ETOOBIG ? "too long"
                 : rc             ? "not valid UTF-8"
                                  : "empty",
                 KEYWORD_BYTES - 1);
        return LB_EINVAL;
      }
      if (k->n[l] == KEYWORDS_MAX) {
        snprintf(why, whylen, "at most %d %s words", KEYWORDS_MAX,
                 list_names[l]);
        return LB_EINVAL;
      }
      for (int o = 0; o < 3; o++)
        for (size_t i = 0; i < k->n[o]; i++)
          if (strcmp(k->words[o][i], word) == 0 && o != l) {
            snprintf(why, whylen, "'%s' is both an %s and an %s word", word,
                     list_names[o], list_names[l]);
            return LB_EINVAL;
          }
      memcpy(k->words[l][k->n[l]++], word, sizeof word);
      p += len;
      if (*p == ',')
        p++;
    }
  }
  return LB_OK;
}

enum keyword_kind keywords_match(const struct keywords *k, const char *text,
                                 size_t len)
{
  char norm[KEYWORD_BYTES];
  /* The hot path: almost every message is longer than any keyword. */
  if (!text || len == 0 || len > KEYWORD_TEXT_MAX ||
      keyword_normalize(text, len, norm, sizeof norm) || !norm[0])
    return KEYWORD_NONE;
  for (int l = 0; l < 3; l++)
    for (size_t i = 0; i < k->n[l]; i++)
      if (strcmp(k->words[l][i], norm) == 0)
        return (enum keyword_kind)(l + 1);
  return KEYWORD_NONE;
}

const char *keyword_kind_name(enum keyword_kind k)
{
  switch (k) {
  case KEYWORD_OPT_OUT:
    return "opt_out";
  case KEYWORD_OPT_IN:
    return "opt_in";
  case KEYWORD_HELP:
    return "help";
  default:
    return "none";
  }
}
