/* The files of web/, compiled into the binary by tools/embed.c. */
#ifndef LB_WEB_ASSETS_H
#define LB_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
  const char *name; /* "inbox.js" (web/ is flat) */
  const char *ctype;
  const unsigned char *data;
  size_t len;
  const char *etag; /* quoted, as the header wants it */
};

/* Ends with an entry whose name is NULL. */
extern const struct web_asset web_assets[];

#endif
