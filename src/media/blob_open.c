/* What every blob store shares: choosing one, and the shape of a key. */
#include <string.h>

#include "config/config.h"
#include "media/blob.h"
#include "util/err.h"
#include "util/log.h"

enum lb_err blob_open(const struct config *c, struct blob_store **out)
{
  if (!c->media_store[0] || strcmp(c->media_store, "fs") == 0)
    return blob_fs_open(c->media_dir, out);
  if (strcmp(c->media_store, "s3") == 0)
    return blob_s3_open(c, out);
  log_error("media.blob", "[media] store must be fs or s3, not '%s'",
            c->media_store);
  return LB_ECONFIG;
}

int blob_key_valid(const char *key)
{
  size_t n = strlen(key);
  if (n != 64)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!((key[i] >= '0' && key[i] <= '9') || (key[i] >= 'a' && key[i] <= 'f')))
      return 0;
  return 1;
}
