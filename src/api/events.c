/* GET /api/v1/events, and what gets published on it. */
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "http/sse.h"
#include "util/err.h"
#include "util/log.h"

static void publish(struct app *a, const char *event, json_t *data)
{
  char *text;
  if (!data)
    return;
  text = json_dumps(data, JSON_COMPACT);
  json_decref(data);
  if (text)
    sse_publish(a->events, event, text);
  free(text);
}

void app_notify_message(struct app *a, const char *id)
{
  struct message m;
  json_t *mj;
  if (!a->events)
    return;
  message_init(&m);
  if (store_message_get(a->store, id, &m) != LB_OK) {
    log_warn("events.message", "message %s vanished before it was streamed",
             id);
    message_release(&m);
    return;
  }
  mj = api_message_json(a, &m, 0);
  if (mj)
    publish(a, "message",
            json_pack("{s:s, s:o}", "patient",
                      m.direction == DIR_OUTBOUND ? m.to : m.from, "message",
                      mj));
  message_release(&m);
}

void app_notify_conversation(struct app *a, const char *patient)
{
  if (a->events)
    publish(a, "conversation", json_pack("{s:s}", "patient", patient));
}

void h_events(void *cls, struct http_req *r)
{
  struct app *a = cls;
  sse_reply(a->events, r);
}
