/* Blob stores: where media bytes live. Keys are the SHA-256 of the bytes
 * (content-addressed), so a write is idempotent. The filesystem store is the
 * default; S3 (blob_s3.c) sits behind the same operations.
 *
 * Ownership: blob_get() fills a caller-initialised buf (whose cap bounds
 * the read). */
#ifndef LB_BLOB_H
#define LB_BLOB_H

#include <stddef.h>

#include "util/buf.h"
#include "util/err.h"

#define LB_BLOB_KEY_MAX 96

struct blob_store;

struct blob_ops {
  enum lb_err (*put)(struct blob_store *b, const void *data, size_t len,
                     const char *key);
  enum lb_err (*get)(struct blob_store *b, const char *key, struct buf *out);
  /* LB_OK also when there was nothing to delete. */
  enum lb_err (*del)(struct blob_store *b, const char *key);
  void (*free)(struct blob_store *b);
};

struct blob_store {
  const struct blob_ops *ops;
  void *priv;
};

/* Files under dir (created 0700), written atomically (temp file, fsync,
 * rename, fsync of the directory), mode 0600. */
enum lb_err blob_fs_open(const char *dir, struct blob_store **out);

struct config;

/* Objects <[s3] prefix><key> in [s3] bucket, over HTTPS with SigV4
 * (src/media/blob_s3.c, docs/s3.md). Copies what it needs from c. */
enum lb_err blob_s3_open(const struct config *c, struct blob_store **out);

/* The store [media] store names: fs (media_dir) or s3. */
enum lb_err blob_open(const struct config *c, struct blob_store **out);

/* Stores data under its SHA-256; writes the key (hex) to key. */
enum lb_err blob_put(struct blob_store *b, const void *data, size_t len,
                     char key[LB_BLOB_KEY_MAX]);
enum lb_err blob_get(struct blob_store *b, const char *key, struct buf *out);
/* Deletes the blob (the retention purge). LB_OK when it is gone, also if
 * it was never there. */
enum lb_err blob_delete(struct blob_store *b, const char *key);
/* 1 for a well-formed key: 64 lower-case hex digits. Stores refuse any
 * other (a key becomes a file name or an object name). */
int blob_key_valid(const char *key);
void blob_store_free(struct blob_store *b);

#endif
