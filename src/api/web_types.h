/* The file types web/ may hold, by extension: shared by the build tool that
 * embeds web/ (tools/embed.c) and the developer mode that serves it from
 * disk (web.c), so both type a file the same way. */
#ifndef LB_WEB_TYPES_H
#define LB_WEB_TYPES_H

#include <string.h>

static const struct {
  const char *ext, *ctype;
} web_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json"}, /* docs/openapi.json only */
};

/* The Content-Type for a file name, or NULL for a type web/ may not hold. */
static inline const char *web_type_of(const char *name)
{
  size_t n = strlen(name);
  for (size_t i = 0; i < sizeof web_types / sizeof web_types[0]; i++) {
    size_t e = strlen(web_types[i].ext);
    if (n > e && strcmp(name + n - e, web_types[i].ext) == 0)
      return web_types[i].ctype;
  }
  return NULL;
}

#endif
