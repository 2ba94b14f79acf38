/* Message templates: a body with placeholders, filled in for one patient.
 *
 *   "Hi {first_name}, your appointment at {clinic_name} is at {time}."
 *
 * A placeholder is {name}: a lower-case letter, then lower-case letters,
 * digits or '_', at most TEMPLATE_FIELD_NAME_MAX characters. Three names
 * are filled in by lyrebird ({first_name}, {clinic_name},
 * {clinic_phone}); any other is a free field that staff fill in. "{{" and
 * "}}" stand for a literal brace; any other brace is an error, so a typo
 * never reaches a patient as "{frist_name}". Pure: no I/O.
 *
 * Ownership: the caller owns every buffer; nothing here allocates. */
#ifndef LB_TEMPLATE_H
#define LB_TEMPLATE_H

#include <stddef.h>

#include "util/err.h"

#define TEMPLATE_NAME_MAX 60       /* characters of a template's name */
#define TEMPLATE_BODY_MAX 1600     /* characters of a body (LB_TEXT_MAX) */
#define TEMPLATE_BODY_BYTES 6400   /* and its bytes */
#define TEMPLATE_FIELDS_MAX 10     /* distinct placeholders in a body */
#define TEMPLATE_FIELD_NAME_MAX 32 /* characters of a placeholder's name */
#define TEMPLATE_VALUE_MAX 200     /* characters of one filled-in value */
#define TEMPLATES_MAX 200          /* templates a clinic keeps */

struct template_fields {
  size_t n;
  char name[TEMPLATE_FIELDS_MAX][TEMPLATE_FIELD_NAME_MAX + 1];
};

struct template_value {
  const char *name;
  const char *value; /* NULL or "": missing */
};

/* 1 for first_name, clinic_name and clinic_phone. */
int template_field_is_builtin(const char *name);

/* Checks a template's name (1 to TEMPLATE_NAME_MAX characters of UTF-8,
 * no control characters, not only spaces). LB_EINVAL with why. */
enum lb_err template_name_check(const char *name, char *why, size_t whylen);

/* Checks a body and lists its distinct placeholders in order of first
 * use. LB_OK; LB_EINVAL (bad UTF-8, a stray brace, a bad placeholder
 * name, empty) or LB_ETOOBIG (too long, too many placeholders), with
 * why. */
enum lb_err template_parse(const char *body, struct template_fields *fields,
                           char *why, size_t whylen);

/* Fills body in: each placeholder with the value of that name in vals
 * (the first one wins), "{{" and "}}" as braces. A placeholder with no
 * value (none given, or "") stays as written ("{time}") and is listed in
 * *missing. out gets the text (NUL-terminated). LB_OK (check
 * missing->n); LB_EINVAL / LB_ETOOBIG as template_parse, or for a value
 * with a control character or over TEMPLATE_VALUE_MAX characters, or a
 * result over TEMPLATE_BODY_MAX characters or outlen bytes, with why. */
enum lb_err template_render(const char *body, const struct template_value *vals,
                            size_t n_vals, char *out, size_t outlen,
                            struct template_fields *missing, char *why,
                            size_t whylen);

/* The first name to greet a patient by: the first word of 'name' (NULL
 * or "": none, so "" in out). */
void template_first_name(const char *name, char *out, size_t outlen);

#endif
