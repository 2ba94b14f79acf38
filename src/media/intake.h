/* Media intake: every upload and every inbound media item passes here.
 * The type is sniffed from the bytes with libmagic (a Content-Type or a
 * file name is never trusted), checked against the allow-list, and the
 * bytes are stored in the blob store. The database row is the caller's:
 * inbound media is stored in the same transaction as its message. */
#ifndef LB_INTAKE_H
#define LB_INTAKE_H

#include <stddef.h>

#include "core/message.h"
#include "media/blob.h"

int media_intake_init(void);
void media_intake_cleanup(void);

/* Writes the sniffed MIME type ("image/jpeg") to ctype. */
int media_sniff(const void *data, size_t len, char *ctype, size_t n);
/* 1 for JPEG, PNG, GIF, WebP, HEIC/HEIF and PDF. */
int media_type_allowed(const char *ctype);

/* Sniffs, checks and stores; fills out (a new id). LB_EMEDIATYPE or
 * LB_ETOOBIG with 'why' set for input the user must change. */
int media_intake(struct blob_store *b, const void *data, size_t len,
                 size_t max_bytes, struct media *out, char *why, size_t whylen);

#endif
