/* Variants of stored media, made on first use and kept: the inbox
 * thumbnail, and the fit of an image into an MMS budget (cached per media
 * item and budget, so a retry or a second send re-uses it).
 *
 * Ownership: everything is borrowed; 'out' is plain data. Safe to call from
 * any thread; two threads making the same variant store the same bytes. */
#ifndef LB_VARIANTS_H
#define LB_VARIANTS_H

#include <stddef.h>

#include "config/config.h"
#include "core/message.h"
#include "media/blob.h"
#include "store/store.h"

/* The inbox thumbnail of an image. LB_ENOTFOUND for documents. */
enum lb_err media_thumb(struct store *s, struct blob_store *b,
                        const struct config *c, const struct media *md,
                        struct media_variant *out);

/* The form of md to send in an MMS whose share for this item is max_bytes:
 * md itself (kind "clean") when it is a JPEG, PNG or GIF within the budget
 * and [media] fit_max_dim, else a JPEG fitted to both. LB_ETOOBIG with
 * 'why' when no acceptable JPEG fits (the route then sends a link);
 * LB_EMEDIATYPE for a document. */
enum lb_err media_fit(struct store *s, struct blob_store *b,
                      const struct config *c, const struct media *md,
                      size_t max_bytes, struct media_variant *out, char *why,
                      size_t whylen);

#endif
