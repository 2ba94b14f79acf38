/* The one message status lifecycle.
 *
 *   outbound: queued -> sending -> sent -> delivered | undelivered | failed
 *   inbound:  received
 *
 * A retryable failure sends a message back from sending to queued; a final
 * one ends it in failed. Receipts can overtake the send call's answer, so
 * sending may go straight to delivered or undelivered, and a late "sent"
 * never undoes a final status. Pure: no I/O. */
#ifndef LB_STATUS_H
#define LB_STATUS_H

enum msg_status {
  ST_QUEUED,
  ST_SENDING,
  ST_SENT,
  ST_DELIVERED,
  ST_UNDELIVERED,
  ST_FAILED,
  ST_RECEIVED,
  ST__COUNT
};

enum msg_direction { DIR_OUTBOUND, DIR_INBOUND };

const char *status_name(enum msg_status s);
/* LB_OK and *out set, or LB_EINVAL for an unknown name. */
enum lb_err status_parse(const char *name, enum msg_status *out);
/* 1 for delivered, undelivered, failed and received. */
int status_is_final(enum msg_status s);
/* 1 if a message in 'from' may move to 'to'. */
int status_can_move(enum msg_status from, enum msg_status to);

/* 1 for the statuses staff may send a message again from: failed and
 * undelivered, the two ends that say it did not reach the patient. Every
 * other outbound status is in flight (queued, sending: the provider may
 * have it), with the provider (sent) or done (delivered). */
int status_can_retry(enum msg_status s);

const char *direction_name(enum msg_direction d);

/* What happened to one send call. */
enum send_outcome {
  SEND_ACCEPTED, /* the provider took it: status sent */
  SEND_RETRY,    /* did not go: try again later (retryable) */
  SEND_FINAL,    /* refused for good: status failed (final) */
  SEND_UNKNOWN   /* may or may not have gone (timeout after sending) */
};

/* Exponential back-off with full jitter: a delay in [base*2^(n-1)/2,
 * base*2^(n-1)] capped at max, for the n-th retry (n >= 1). 'r' is a
 * uniform random 32-bit number supplied by the caller. */
long retry_delay_ms(int n, long base_ms, long max_ms, unsigned r);

#endif
