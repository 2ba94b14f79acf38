/* Messages and media as the domain sees them. Pure data: no I/O.
 *
 * Ownership: struct message owns 'text' (heap, NUL-terminated UTF-8);
 * message_release() frees it. Every other field is inline. */
#ifndef LB_MESSAGE_H
#define LB_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/phone.h"
#include "core/status.h"
#include "util/id.h"

#define LB_TEXT_MAX_CHARS 1600 /* longest text we accept (10 segments+) */
#define LB_MEDIA_MAX 10        /* media items per message */
#define LB_PROVIDER_MAX 32
#define LB_PROVIDER_ID_MAX 128
#define LB_ERRCODE_MAX 64
#define LB_ERRTEXT_MAX 512
#define LB_CTYPE_MAX 64
/* The clinic app's own data on a message: a JSON object of string values,
 * as compact text (api/messages.c checks the shape). */
#define LB_METADATA_MAX 2048 /* bytes of the compact JSON text */
#define LB_METADATA_KEYS 16
#define LB_METADATA_KEY_MAX 40
#define LB_METADATA_VALUE_MAX 500
#define LB_CLIENT_REF_MAX 128 /* bytes */

/* How an outbound message goes (core/route.h decides). ROUTE_REFUSE is
 * never stored; ROUTE_NONE is an inbound message's (no plan). */
enum route_plan { ROUTE_SMS, ROUTE_MMS, ROUTE_LINK, ROUTE_REFUSE, ROUTE_NONE };

/* "sms", "mms", "link", "refused"; "unknown" for anything else (ROUTE_NONE
 * included). */
const char *route_plan_name(enum route_plan p);
/* The plan named s ("sms", "mms", "link", "refused"): LB_OK and *out set,
 * else LB_EINVAL and *out untouched. */
enum lb_err route_plan_parse(const char *s, enum route_plan *out);

/* Why a message exists. PURPOSE_CONSENT: lyrebird's reply to a keyword
 * (the opt-out or opt-in confirmation, the help text), the one kind that
 * goes even to a patient who opted out. */
enum msg_purpose { PURPOSE_NORMAL, PURPOSE_CONSENT };

struct message {
  char id[LB_ID_SIZE];
  enum msg_direction direction;
  char from[LB_E164_SIZE];
  char to[LB_E164_SIZE];
  /* Outbound from a second sender ([routing] allow_other_sender): the
   * clinic number whose conversation it belongs to, when 'from' is not
   * it. "" otherwise. Not stored; used when the message is queued. */
  char clinic_number[LB_E164_SIZE];
  char *text;
  enum msg_status status;
  char provider[LB_PROVIDER_MAX];
  char provider_msg_id[LB_PROVIDER_ID_MAX];
  char error_code[LB_ERRCODE_MAX];
  char error_text[LB_ERRTEXT_MAX];
  int error_retryable;
  int attempts;
  int64_t next_attempt_at;
  int64_t created_at;
  int64_t updated_at;
  size_t n_media;
  char media_ids[LB_MEDIA_MAX][LB_ID_SIZE];
  /* Outbound: how it goes and why, in words (see core/route.h).
   * ROUTE_NONE and "" for inbound. */
  enum route_plan route;
  char route_reason[300];
  enum msg_purpose purpose;
  /* The clinic app's: "" when none. metadata is compact JSON text. */
  char metadata[LB_METADATA_MAX + 1];
  char client_reference[LB_CLIENT_REF_MAX + 1];
  /* Outbound: which reference the provider is sent (1: the id itself; a
   * retry after the provider had the message makes it 2, 3, ...), and the
   * message this one was edited from ("" when none). */
  int ref_round;
  char resend_of[LB_ID_SIZE];
};

/* A stored form of a media item other than the cleaned one: "thumb" (the
 * inbox's), "original" (only with [media] keep_original), or an MMS fit
 * "fit:<max bytes>:<max dim>". */
#define LB_VARIANT_KIND_MAX 48
struct media_variant {
  char kind[LB_VARIANT_KIND_MAX];
  char blob_key[96];
  char content_type[LB_CTYPE_MAX];
  int64_t bytes;
  int width, height;
  int quality; /* JPEG quality, 0 when not a JPEG or not known */
  int64_t created_at;
};

#define LB_MEDIA_VARIANTS_AT_INTAKE 2 /* thumb, original */

struct media {
  char id[LB_ID_SIZE];
  char sha256[65]; /* of the stored (cleaned) bytes */
  char content_type[LB_CTYPE_MAX];
  int64_t bytes;
  char blob_key[96];
  int width, height; /* 0 for documents */
  int64_t created_at;
  /* Made by intake and stored with the row; not read back by
   * store_media_get (see store_media_variant_get). */
  size_t n_variants;
  struct media_variant variants[LB_MEDIA_VARIANTS_AT_INTAKE];
};

void message_init(struct message *m);
void message_release(struct message *m);
/* Sets the error fields (code may be NULL for none). */
void message_set_error(struct message *m, const char *code, const char *text,
                       int retryable);

/* Checks message text: valid UTF-8, no NUL, at most LB_TEXT_MAX_CHARS
 * characters. Returns LB_OK or LB_EINVAL/LB_ETOOBIG with 'why' set. */
enum lb_err text_check(const char *s, size_t len, char *why, size_t whylen);

/* Copies src into dst (size n), truncating at a UTF-8 boundary. */
void str_copy(char *dst, size_t n, const char *src);
/* Copies all of src (NULL: "") into dst (size n), or nothing and
 * LB_ETOOBIG when it does not fit. */
enum lb_err str_copy_whole(char *dst, size_t n, const char *src);

#endif
