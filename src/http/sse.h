/* Server-Sent Events: a hub that fans events out to every open stream.
 *
 * A stream never holds an HTTP thread: when it has nothing to send, its
 * connection is suspended (MHD), and a publish resumes it. Each event's id
 * is its place in a durable log (the publisher's seq, increasing), and the
 * hub keeps the last SSE_RING events. A client that comes back with
 * Last-Event-ID (or a cursor) gets what it missed: from the ring, or
 * older events through the caller's backfill; a "reset" event says that
 * was too much, and the client should catch up another way. Every
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

/* 'floor': the seq of the last event published before the hub (events up
 * to it are only in the log). */
enum lb_err sse_hub_new(long long floor, struct sse_hub **out);
/* Ends every stream and refuses new ones; waits (briefly) for them to go. */
void sse_hub_close(struct sse_hub *h);
void sse_hub_free(struct sse_hub *h);

/* Queues event 'seq' for every stream; seqs must increase. 'data' is one
 * line of JSON (no newlines); an event larger than SSE_EVENT_MAX goes out
 * as a "too_large" event naming its seq. Thread-safe. */
void sse_publish(struct sse_hub *h, long long seq, const char *event,
                 const char *data);
/* The newest seq published (the floor before any). */
long long sse_last_seq(struct sse_hub *h);

/* Writes the events after 'after' up to and including 'upto' into out, as
 * frames (sse_frame), in seq order. Returns LB_ETOOBIG when there are
 * more than the caller's buffer may hold: the stream then starts with a
 * "reset" event. */
struct buf;
typedef enum lb_err (*sse_backfill_fn)(void *arg, long long after,
                                       long long upto, struct buf *out);
/* Appends one event's frame to out. */
enum lb_err sse_frame(struct buf *out, long long seq, const char *event,
                      const char *data);

/* Answers r with a stream of the events after 'after' (-1: from now on),
 * older ones through backfill (may be NULL: then a reset). SSE_RESET, or
 * a seq past the newest, starts with a reset: the client's id is not one
 * of this log's. */
#define SSE_RESET (-2LL)
void sse_reply(struct sse_hub *h, struct http_req *r, long long after,
               sse_backfill_fn backfill, void *arg);

/* How many streams are open (for tests and health). */
int sse_streams(struct sse_hub *h);

#endif
