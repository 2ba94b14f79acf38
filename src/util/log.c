#include "util/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

static enum log_level min_level = LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *const level_names[] = {"debug", "info", "warn", "error"};
/* log_divert(): guarded by log_lock. */
static char divert_event[64];
static FILE *divert_file;

void log_set_level(enum log_level lvl)
{
  min_level = lvl;
}

void log_divert(const char *event, FILE *f)
{
  pthread_mutex_lock(&log_lock);
  snprintf(divert_event, sizeof divert_event, "%s", f && event ? event : "");
  divert_file = divert_event[0] ? f : NULL;
  pthread_mutex_unlock(&log_lock);
}

void log_event(enum log_level lvl, const char *event, json_t *fields,
               const char *fmt, ...)
{
  char ts[LB_ISO8601_LEN], msg[1024];
  char *line;
  json_t *o;
  va_list ap;

  if (lvl < min_level) {
    json_decref(fields);
    return;
  }
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  clock_iso8601(clock_now_ms(), ts, sizeof ts);
  o = json_pack("{s:s, s:s, s:s, s:s}", "ts", ts, "level", level_names[lvl],
                "event", event, "msg", msg);
  if (!o) {
    json_decref(fields);
    return;
  }
  if (fields)
    json_object_update_missing(o, fields);
  json_decref(fields);
  line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(o);
  if (!line)
    return;
  pthread_mutex_lock(&log_lock);
  if (divert_file && strcmp(event, divert_event) == 0) {
    fputs(line, divert_file);
    fputc('\n', divert_file);
    fflush(divert_file);
  } else {
    fputs(line, stderr);
    fputc('\n', stderr);
  }
  pthread_mutex_unlock(&log_lock);
  free(line);
}
