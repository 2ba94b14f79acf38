#include "core/template.h"

#include <stdio.h>
#include <string.h>

#include "util/utf8.h"

static const char *const builtins[] = {"first_name", "clinic_name",
                                       "clinic_phone"};

int template_field_is_builtin(const char *name)
{
  for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
    if (name && strcmp(name, builtins[i]) == 0)
      return 1;
  return 0;
}

static int has_control(const char *s, int allow_newline)
{
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c < 0x20 && !(allow_newline && (c == '\n' || c == '\t'))) || c == 0x7f)
      return 1;
  }
  return 0;
}

enum lb_err template_name_check(const char *name, char *why, size_t whylen)
{
  size_t chars = 0;
  const char *p = name;
  if (!name || !*name) {
    snprintf(why, whylen, "'name' is required");
    return LB_EINVAL;
  }
  if (utf8_count(name, strlen(name), &chars) != LB_OK || has_control(name, 0)) {
    snprintf(why, whylen,
             "'name' must be UTF-8 text without control characters");
    return LB_EINVAL;
  }
  if (chars > TEMPLATE_NAME_MAX) {
    snprintf(why, whylen, "'name' must be at most %d characters",
             TEMPLATE_NAME_MAX);
    return LB_EINVAL;
  }
  while (*p == ' ')
    p++;
  if (!*p) {
    snprintf(why, whylen, "'name' must not be only spaces");
    return LB_EINVAL;
  }
  return LB_OK;
}

/* The placeholder at s ('{' at s[0]): its name's length, or 0 when s does
 * not start a well-formed one. */
static size_t placeholder_at(const char *s)
{
  size_t n = 0;
  if (s[1] < 'a' || s[1] > 'z')
    return 0;
  while (n < TEMPLATE_FIELD_NAME_MAX &&
         ((s[1 + n] >= 'a' && s[1 + n] <= 'z') ||
          (s[1 + n] >= '0' && s[1 + n] <= '9') || s[1 + n] == '_'))
    n++;
  return s[1 + n] == '}' ? n : 0;
}

static int fields_has(const struct template_fields *f, const char *s, size_t n)
{
  for (size_t i = 0; i < f->n; i++)
    if (strlen(f->name[i]) == n && memcmp(f->name[i], s, n) == 0)
      return 1;
  return 0;
}

/* Walks body; for each placeholder calls each(arg, name, len) and for each
 * literal run lit(arg, s, len). Both may be NULL. */
struct walk {
  enum lb_err (*lit)(void *arg, const char *s, size_t n);
  enum lb_err (*field)(void *arg, const char *s, size_t n);
  void *arg;
};

static enum lb_err walk_body(const char *body, struct template_fields *fields,
                             const struct walk *w, char *why, size_t whylen)
{
  size_t len = body ? strlen(body) : 0, chars = 0;
  const char *s = body, *run;
  enum lb_err rc;

  fields->n = 0;
  if (!len) {
    snprintf(why, whylen, "'body' is required");
    return LB_EINVAL;
  }
  if (len > TEMPLATE_BODY_BYTES ||
      (utf8_count(body, len, &chars) == LB_OK && chars > TEMPLATE_BODY_MAX)) {
    snprintf(why, whylen, "'body' must be at most %d characters",
             TEMPLATE_BODY_MAX);
    return LB_ETOOBIG;
  }
  if (utf8_count(body, len, &chars) != LB_OK || has_control(body, 1)) {
    snprintf(why, whylen,
             "'body' must be UTF-8 text without control characters");
    return LB_EINVAL;
  }
  run = s;
  while (*s) {
    size_t n;
    if ((s[0] == '{' && s[1] == '{') || (s[0] == '}' && s[1] == '}')) {
      if (w && w->lit &&
          ((rc = w->lit(w->arg, run, (size_t)(s - run))) ||
           (rc = w->lit(w->arg, s, 1))))
        return rc;
      s += 2;
      run = s;
      continue;
    }
    if (s[0] == '}') {
      snprintf(why, whylen,
               "a '}' at character %zu closes no placeholder (write }} for a "
               "brace)",
               (size_t)(s - body) + 1);
      return LB_EINVAL;
    }
    if (s[0] != '{') {
      s++;
      continue;
    }
    if (!(n = placeholder_at(s))) {
      snprintf(why, whylen,
               "the '{' at character %zu does not start a placeholder: write "
               "{name} with lower-case letters, digits and _ (at most %d), or "
               "{{ for a brace",
               (size_t)(s - body) + 1, TEMPLATE_FIELD_NAME_MAX);
      return LB_EINVAL;
    }
    if (!fields_has(fields, s + 1, n)) {
      if (fields->n == TEMPLATE_FIELDS_MAX) {
        snprintf(why, whylen, "a template may have at most %d placeholders",
                 TEMPLATE_FIELDS_MAX);
        return LB_ETOOBIG;
      }
      memcpy(fields->name[fields->n], s + 1, n);
      fields->name[fields->n][n] = '\0';
      fields->n++;
    }
    if (w && ((w->lit && (rc = w->lit(w->arg, run, (size_t)(s - run)))) ||
              (w->field && (rc = w->field(w->arg, s + 1, n)))))
      return rc;
    s += n + 2;
    run = s;
  }
  if (w && w->lit && (rc = w->lit(w->arg, run, (size_t)(s - run))))
    return rc;
  return LB_OK;
}

enum lb_err template_parse(const char *body, struct template_fields *fields,
                           char *why, size_t whylen)
{
  return walk_body(body, fields, NULL, why, whylen);
}

struct render {
  const struct template_value *vals;
  size_t n_vals;
  char *out;
  size_t cap, len;
  struct template_fields *missing;
};

static enum lb_err put(struct render *r, const char *s, size_t n)
{
  if (r->len + n + 1 > r->cap)
    return LB_ETOOBIG;
  memcpy(r->out + r->len, s, n);
  r->len += n;
  r->out[r->len] = '\0';
  return LB_OK;
}

static enum lb_err on_lit(void *arg, const char *s, size_t n)
{
  return put(arg, s, n);
}

static enum lb_err on_field(void *arg, const char *s, size_t n)
{
  struct render *r = arg;
  for (size_t i = 0; i < r->n_vals; i++)
    if (r->vals[i].name && strlen(r->vals[i].name) == n &&
        memcmp(r->vals[i].name, s, n) == 0) {
      if (r->vals[i].value && r->vals[i].value[0])
        return put(r, r->vals[i].value, strlen(r->vals[i].value));
      break;
    }
  if (!fields_has(r->missing, s, n) && r->missing->n < TEMPLATE_FIELDS_MAX) {
    memcpy(r->missing->name[r->missing->n], s, n);
    r->missing->name[r->missing->n][n] = '\0';
    r->missing->n++;
  }
  /* Left as written, braces and all, for staff to fill in. */
  return put(r, s - 1, n + 2);
}

enum lb_err template_render(const char *body, const struct template_value *vals,
                            size_t n_vals, char *out, size_t outlen,
                            struct template_fields *missing, char *why,
                            size_t whylen)
{
  struct template_fields fields;
  struct render r = {vals, n_vals, out, outlen, 0, missing};
  struct walk w = {on_lit, on_field, &r};
  size_t chars = 0;
  enum lb_err rc;

  missing->n = 0;
  if (!outlen)
    return LB_ETOOBIG;
  out[0] = '\0';
  for (size_t i = 0; i < n_vals; i++) {
    const char *v = vals[i].value;
    if (!v)
      continue;
    if (utf8_count(v, strlen(v), &chars) != LB_OK || has_control(v, 0)) {
      snprintf(why, whylen,
               "the value of {%.32s} must be UTF-8 text without control "
               "characters",
               vals[i].name ? vals[i].name : "");
      return LB_EINVAL;
    }
    if (chars > TEMPLATE_VALUE_MAX) {
      snprintf(why, whylen,
               "the value of {%.32s} must be at most %d characters",
               vals[i].name ? vals[i].name : "", TEMPLATE_VALUE_MAX);
      return LB_ETOOBIG;
    }
  }
  if (whylen)
    why[0] = '\0';
  rc = walk_body(body, &fields, &w, why, whylen);
  if (rc == LB_ETOOBIG && whylen && !why[0])
    snprintf(why, whylen, "the filled-in text is too long");
  if (rc)
    return rc;
  if (utf8_count(out, r.len, &chars) != LB_OK || chars > TEMPLATE_BODY_MAX) {
    snprintf(why, whylen, "the filled-in text is longer than %d characters",
             TEMPLATE_BODY_MAX);
    return LB_ETOOBIG;
  }
  return LB_OK;
}

void template_first_name(const char *name, char *out, size_t outlen)
{
  size_t n = 0;
  if (!outlen)
    return;
  out[0] = '\0';
  if (!name)
    return;
  while (*name == ' ')
    name++;
  while (name[n] && name[n] != ' ' && n + 1 < outlen)
    n++;
  /* Never cut a UTF-8 character in half. */
  while (n && name[n] && ((unsigned char)name[n] & 0xC0) == 0x80)
    n--;
  memcpy(out, name, n);
  out[n] = '\0';
}
