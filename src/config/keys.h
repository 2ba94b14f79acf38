/* Configuration keys as tables: one row per "[section] key", with its type,
 * where its value lives, its default, whether it is a secret, its range and
 * its help text.
 *
 * config.c keeps the table of the core sections ([server] ... [log]) over
 * struct config; each provider adapter keeps the table of its own section
 * ([twilio], [sim], ...) over its own settings struct, next to its struct
 * provider_ops (providers/provider.h). config.c reads every table for the
 * defaults, the file, the LYREBIRD_<SECTION>_<KEY> environment, <key>_file
 * secrets, config_set(), "did you mean" and the example file.
 *
 * Ownership: tables are static and borrowed. The struct a table describes
 * owns the strings of its KEY_STR fields: config_init() fills them (never
 * NULL after it) and config_release() frees them, zeroing secrets first.
 *
 * The row macros are for the files that define a table; each such file
 * defines CONFIG_KEYS_OF as the struct its table describes, and the macros
 * refuse (at compile time) a field whose type does not match the row:
 *
 *   #define CONFIG_KEYS_OF struct twilio_settings
 *   static const struct config_key tw_keys[] = {
 *       S("twilio", "account_sid", account_sid, "", "Account SID (AC...)."),
 *       I("twilio", "mms_max_bytes", mms_max_bytes, "5000000", 10000,
 *         5000000, "Largest MMS to send, in bytes."),
 *   };
 */
#ifndef LB_CONFIG_KEYS_H
#define LB_CONFIG_KEYS_H

#include <stddef.h>

enum config_key_type {
  KEY_STR,   /* char * */
  KEY_INT,   /* int, from min to max */
  KEY_BOOL,  /* int, 0 or 1: true/yes/on/1, false/no/off/0 */
  KEY_DOUBLE /* double, from min to max */
};

struct config_key {
  const char *section; /* "twilio": an adapter's keys are in [<its name>] */
  const char *name;
  enum config_key_type type;
  size_t off;      /* of the field in the struct the table describes */
  const char *def; /* the default, written as in the file */
  int secret;      /* may be given as <name>_file; never printed */
  long min, max;
  /* For the example file; '\n' starts a new comment line. "{providers}"
   * stands for the registered providers' names (provider_names()), and
   * the line holding it is wrapped again to fit. */
  const char *help;
};

/* The offset of field f of CONFIG_KEYS_OF, which must have type T. */
#define CONFIG_KEY_FIELD(f, T)                                                 \
  (offsetof(CONFIG_KEYS_OF, f) +                                               \
   0 * sizeof(char[_Generic(((CONFIG_KEYS_OF *)0)->f, T : 1)]))

#define S(sec, n, f, d, h)                                                     \
  {                                                                            \
    sec, n, KEY_STR, CONFIG_KEY_FIELD(f, char *), d, 0, 0, 0, h                \
  }
#define SECRET(sec, n, f, d, h)                                                \
  {                                                                            \
    sec, n, KEY_STR, CONFIG_KEY_FIELD(f, char *), d, 1, 0, 0, h                \
  }
#define I(sec, n, f, d, lo, hi, h)                                             \
  {                                                                            \
    sec, n, KEY_INT, CONFIG_KEY_FIELD(f, int), d, 0, lo, hi, h                 \
  }
#define B(sec, n, f, d, h)                                                     \
  {                                                                            \
    sec, n, KEY_BOOL, CONFIG_KEY_FIELD(f, int), d, 0, 0, 1, h                  \
  }
#define D(sec, n, f, d, h)                                                     \
  {                                                                            \
    sec, n, KEY_DOUBLE, CONFIG_KEY_FIELD(f, double), d, 0, 0, 1, h             \
  }

#endif
