/* Logging: one JSON object per line on stderr.
 *
 *   {"ts":"...","level":"info","event":"outbox.sent","msg":"...", ...}
 *
 * Callers never pass secrets or tokens: the access log records the route
 * pattern, not the raw path, for that reason. */
#ifndef LB_LOG_H
#define LB_LOG_H

#include <jansson.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level lvl);
/* 'fields' may be NULL; the call takes (steals) the reference. */
void log_event(enum log_level lvl, const char *event, json_t *fields,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define log_info(ev, ...) log_event(LOG_INFO, ev, NULL, __VA_ARGS__)
#define log_warn(ev, ...) log_event(LOG_WARN, ev, NULL, __VA_ARGS__)
#define log_error(ev, ...) log_event(LOG_ERROR, ev, NULL, __VA_ARGS__)

#endif
