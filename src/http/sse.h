/* Server-Sent Events: a hub that fans events out to every open stream.
 *
 * A stream never holds an HTTP thread: when it has nothing to send, its
 * connection is suspended (MHD), and a publish resumes it. The hub keeps the
 * last SSE_RING events, so a client that reconnects with Last-Event-ID gets
 * what it missed (or a "reset" event when that is gone). Every
 * SSE_PING_SECONDS a comment line keeps proxies from closing idle streams
 * and lets a dead client be noticed.
 *
 * Ownership: the hub copies what is published. sse_hub_close() must run
 * before the HTTP server stops (MHD cannot stop with suspended streams). */
#ifndef LB_SSE_H
#define LB_SSE_H

#include <stdint.h>

#include "http/server.h"

#define SSE_RING 512
#define SSE_MAX_STREAMS 256
#define SSE_PING_SECONDS 20
#define SSE_EVENT_MAX (64 * 1024)
/* A stream ends after this long; the browser reconnects at once (with
 * Last-Event-ID, so nothing is missed) and is authenticated afresh, so a
 * session that ended stops receiving within this time. */
#define SSE_MAX_AGE_SECONDS 300

struct sse_hub;

enum lb_err sse_hub_new(struct sse_hub **out);
/* Ends every stream and refuses new ones; waits (briefly) for them to go. */
void sse_hub_close(struct sse_hub *h);
void sse_hub_free(struct sse_hub *h);

/* Queues an event for every stream. 'data' is one line of JSON (no
 * newlines); an event larger than SSE_EVENT_MAX is dropped with a warning.
 * Thread-safe. */
void sse_publish(struct sse_hub *h, const char *event, const char *data);

/* Answers r with a stream (reads its Last-Event-ID header). */
void sse_reply(struct sse_hub *h, struct http_req *r);

/* How many streams are open (for tests and health). */
int sse_streams(struct sse_hub *h);

#endif
