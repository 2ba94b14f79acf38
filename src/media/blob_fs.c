#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "media/blob.h"
#include "util/crypto.h"
#include "util/err.h"
#include "util/log.h"

struct fs_priv {
  char dir[1024];
};

static enum lb_err mkdir_p(const char *path)
{
  char tmp[1100];
  snprintf(tmp, sizeof tmp, "%s", path);
  for (char *p = tmp + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(tmp, 0700) && errno != EEXIST)
      return LB_EIO;
    *p = '/';
  }
  if (mkdir(tmp, 0700) && errno != EEXIST)
    return LB_EIO;
  return LB_OK;
}

/* dir/ab/cd/<key> */
static void key_path(const struct fs_priv *f, const char *key, char *out,
                     size_t n, int dir_only)
{
  if (dir_only)
    snprintf(out, n, "%s/%.2s/%.2s", f->dir, key, key + 2);
  else
    snprintf(out, n, "%s/%.2s/%.2s/%s", f->dir, key, key + 2, key);
}

static enum lb_err fs_put(struct blob_store *b, const void *data, size_t len,
                          const char *key)
{
  struct fs_priv *f = b->priv;
  char dir[1200], path[1300], tmp[1400];
  const char *p = data;
  size_t left = len;
  int fd = -1, dfd = -1, rc = LB_EIO;
  struct stat st;

  key_path(f, key, dir, sizeof dir, 1);
  key_path(f, key, path, sizeof path, 0);
  if (stat(path, &st) == 0 && (size_t)st.st_size == len)
    return LB_OK; /* content-addressed: already there */
  if (mkdir_p(dir))
    goto out;
  crypto_token(tmp + snprintf(tmp, sizeof tmp, "%s/.tmp-", dir),
               sizeof tmp - strlen(dir) - 7, 9);
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    goto out;
  while (left) {
    ssize_t w = write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      goto out;
    }
    p += w, left -= (size_t)w;
  }
  if (fsync(fd))
    goto out;
  close(fd);
  fd = -1;
  if (rename(tmp, path))
    goto out;
  dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0)
    fsync(dfd);
  rc = LB_OK;
out:
  if (rc)
    log_error("media.blob", "cannot write blob under %s: %s", f->dir,
              strerror(errno));
  if (fd >= 0) {
    close(fd);
    unlink(tmp);
  }
  if (dfd >= 0)
    close(dfd);
  return rc;
}

static enum lb_err fs_get(struct blob_store *b, const char *key,
                          struct buf *out)
{
  struct fs_priv *f = b->priv;
  char path[1300], chunk[65536];
  int fd, rc = LB_OK;
  if (!blob_key_valid(key))
    return LB_ENOTFOUND;
  key_path(f, key, path, sizeof path, 0);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? LB_ENOTFOUND : LB_EIO;
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      rc = LB_EIO;
      break;
    }
    if (n == 0)
      break;
    if ((rc = buf_append(out, chunk, (size_t)n)))
      break;
  }
  close(fd);
  return rc;
}

static enum lb_err fs_del(struct blob_store *b, const char *key)
{
  struct fs_priv *f = b->priv;
  char path[1300];
  if (!blob_key_valid(key))
    return LB_EINVAL;
  key_path(f, key, path, sizeof path, 0);
  if (unlink(path) != 0)
    return errno == ENOENT ? LB_OK : LB_EIO;
  return LB_OK;
}

static void fs_free(struct blob_store *b)
{
  free(b->priv);
  free(b);
}

static const struct blob_ops fs_ops = {fs_put, fs_get, fs_del, fs_free};

enum lb_err blob_fs_open(const char *dir, struct blob_store **out)
{
  struct blob_store *b = calloc(1, sizeof *b);
  struct fs_priv *f = calloc(1, sizeof *f);
  if (!b || !f) {
    free(b);
    free(f);
    return LB_ENOMEM;
  }
  snprintf(f->dir, sizeof f->dir, "%s", dir);
  if (mkdir_p(dir)) {
    log_error("media.blob", "cannot create %s: %s", dir, strerror(errno));
    free(b);
    free(f);
    return LB_EIO;
  }
  chmod(dir, 0700);
  b->ops = &fs_ops;
  b->priv = f;
  *out = b;
  return LB_OK;
}

enum lb_err blob_put(struct blob_store *b, const void *data, size_t len,
                     char key[LB_BLOB_KEY_MAX])
{
  char hex[LB_SHA256_HEX];
  crypto_sha256_hex(data, len, hex);
  snprintf(key, LB_BLOB_KEY_MAX, "%s", hex);
  return b->ops->put(b, data, len, key);
}

enum lb_err blob_get(struct blob_store *b, const char *key, struct buf *out)
{
  return b->ops->get(b, key, out);
}

enum lb_err blob_delete(struct blob_store *b, const char *key)
{
  return b->ops->del(b, key);
}

void blob_store_free(struct blob_store *b)
{
  if (b)
    b->ops->free(b);
}
