/* Media intake: every upload and every inbound media item passes here.
 *
 *   1. the type is sniffed from the bytes with libmagic (a Content-Type or
 *      a file name is never trusted) and checked against the allow-list;
 *   2. images are cleaned (media/image.h): the pixel cap is checked from
 *      the header, then the image is turned upright and re-encoded without
 *      any metadata (GPS included), HEIC and WebP as JPEG;
 *   3. the cleaned bytes, a thumbnail and (only with keep_original) the
 *      bytes as sent go to the blob store.
 * PDFs are stored as sent: they are shown as a file and sent as a link.
 * The database row is the caller's (out->variants travel with it), so
 * inbound media is stored in the same transaction as its message. */
#ifndef LB_INTAKE_H
#define LB_INTAKE_H

#include <stddef.h>

#include "config/config.h"
#include "core/message.h"
#include "media/blob.h"

struct intake_limits {
  size_t max_bytes;  /* per item, as received */
  long max_pixels;   /* width x height x frames */
  int keep_original; /* also store the bytes as sent */
  int thumb_px;      /* the thumbnail's longest side */
};

void intake_limits_from_config(const struct config *c,
                               struct intake_limits *out);

int media_intake_init(void);
void media_intake_cleanup(void);

/* Writes the sniffed MIME type ("image/jpeg") to ctype. */
int media_sniff(const void *data, size_t len, char *ctype, size_t n);
/* 1 for JPEG, PNG, GIF, WebP, HEIC/HEIF and PDF. */
int media_type_allowed(const char *ctype);

/* Sniffs, checks, cleans and stores; fills out (a new id, and the
 * variants to store with it). LB_EMEDIATYPE, LB_ETOOBIG or LB_EINVAL with
 * 'why' set for input the sender must change; other errors are the blob
 * store's (worth a retry). */
enum lb_err media_intake(struct blob_store *b, const struct intake_limits *lim,
                         const void *data, size_t len, struct media *out,
                         char *why, size_t whylen);

#endif
