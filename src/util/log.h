/* Logging: one JSON object per line on stderr (or, for an event
 * log_divert() names, on its file).
 *
 *   {"ts":"...","level":"info","event":"outbox.sent","msg":"...", ...}
 *
 * Callers never pass secrets or tokens: the access log records the route
 * pattern, not the raw path, for that reason. */
#ifndef LB_LOG_H
#define LB_LOG_H

#include <jansson.h>
#include <stdio.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level lvl);
/* Writes the lines of the events named 'event' (e.g. "http.access") to f
 * instead of stderr, flushed line by line; f NULL sends them back to
 * stderr. One diversion at a time. f stays the caller's: keep it open until
 * log_divert(event, NULL) has returned, then close it. */
void log_divert(const char *event, FILE *f);
/* 'fields' may be NULL; the call takes (steals) the reference. */
void log_event(enum log_level lvl, const char *event, json_t *fields,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define log_info(ev, ...) log_event(LOG_INFO, ev, NULL, __VA_ARGS__)
#define log_warn(ev, ...) log_event(LOG_WARN, ev, NULL, __VA_ARGS__)
#define log_error(ev, ...) log_event(LOG_ERROR, ev, NULL, __VA_ARGS__)

#endif
