/* lyrebird send: a small client of a running gateway's API. */
#include <curl/curl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/buf.h"
#include "util/err.h"

#define MAX_FILE (100u * 1024 * 1024)

static void usage(FILE *f)
{
  fprintf(f, "usage: lyrebird send --to NUMBER [--text TEXT] [--image FILE]\n"
             "                     [--server URL] [--idempotency-key KEY]\n\n"
             "Sends a message through a running gateway's API and prints the\n"
             "message as JSON. The API key comes from LYREBIRD_API_KEY.\n\n"
             "  -t, --to NUMBER         the patient's mobile (0412 345 678 or "
             "+61...)\n"
             "  -m, --text TEXT         the text\n"
             "  -i, --image FILE        an image (or PDF) to attach\n"
             "  -s, --server URL        the gateway (default "
             "http://127.0.0.1:8080)\n"
             "  -k, --idempotency-key K send at most once for this key\n"
             "  -h, --help              show this help\n");
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
  return buf_append(arg, p, size * n) == LB_OK ? size * n : 0;
}

/* POSTs body to server+path; *status is the HTTP status. LB_EIO (said on
 * stderr) when the server cannot be reached. */
static enum lb_err post(const char *server, const char *path, const char *key,
                        const char *ctype, const char *idem, const void *body,
                        size_t len, struct buf *out, long *status)
{
  CURL *h = curl_easy_init();
  struct curl_slist *hd = NULL;
  char url[2048], auth[512], ct[128], ik[400];
  CURLcode cc;
  *status = 0;
  if (!h)
    return LB_ENOMEM;
  snprintf(url, sizeof url, "%s%s", server, path);
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
  snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
  hd = curl_slist_append(hd, auth);
  hd = curl_slist_append(hd, ct);
  hd = curl_slist_append(hd, "Expect:");
  if (idem) {
    snprintf(ik, sizeof ik, "Idempotency-Key: %s", idem);
    hd = curl_slist_append(hd, ik);
  }
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
  cc = curl_easy_perform(h);
  if (cc == CURLE_OK)
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
  else
    fprintf(stderr, "lyrebird send: cannot reach %s: %s\n", server,
            curl_easy_strerror(cc));
  curl_slist_free_all(hd);
  curl_easy_cleanup(h);
  return cc == CURLE_OK ? LB_OK : LB_EIO;
}

/* Prints the server's error message; returns 1. */
static int server_error(long status, const struct buf *b)
{
  json_t *o = json_loads(b->data ? b->data : "", 0, NULL);
  const char *code = "?", *msg = b->data ? b->data : "";
  if (o)
    json_unpack(o, "{s:{s:s, s:s}}", "error", "code", &code, "message", &msg);
  fprintf(stderr, "lyrebird send: refused (HTTP %ld, %s): %s\n", status, code,
          msg);
  json_decref(o);
  return 1;
}

static enum lb_err read_file(const char *path, struct buf *b)
{
  FILE *f = fopen(path, "rb");
  char chunk[65536];
  size_t n;
  int rc = LB_OK;
  if (!f)
    return LB_EIO;
  while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
    rc = buf_append(b, chunk, n);
  fclose(f);
  return rc;
}

int cmd_send(int argc, char **argv)
{
  static const struct option opts[] = {
      {"to", required_argument, 0, 't'},
      {"text", required_argument, 0, 'm'},
      {"image", required_argument, 0, 'i'},
      {"server", required_argument, 0, 's'},
      {"idempotency-key", required_argument, 0, 'k'},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  const char *to = NULL, *text = NULL, *image = NULL, *idem = NULL;
  const char *server = "http://127.0.0.1:8080",
             *key = getenv("LYREBIRD_API_KEY");
  struct buf file, resp;
  json_t *msg = NULL, *media = NULL;
  char *body = NULL;
  long status;
  int o, rc = 1;

  buf_init(&file, MAX_FILE);
  buf_init(&resp, 1024 * 1024);
  while ((o = getopt_long(argc, argv, "t:m:i:s:k:h", opts, NULL)) != -1) {
    switch (o) {
    case 't':
      to = optarg;
      break;
    case 'm':
      text = optarg;
      break;
    case 'i':
      image = optarg;
      break;
    case 's':
      server = optarg;
      break;
    case 'k':
      idem = optarg;
      break;
    case 'h':
      usage(stdout);
      rc = 0;
      goto out;
    default:
      usage(stderr);
      rc = 2;
      goto out;
    }
  }
  if (!to || (!text && !image)) {
    fprintf(stderr, "lyrebird send: --to and at least one of --text and "
                    "--image are required\n");
    rc = 2;
    goto out;
  }
  if (!key || !*key) {
    fprintf(stderr, "lyrebird send: set LYREBIRD_API_KEY to the gateway's "
                    "API key\n");
    rc = 2;
    goto out;
  }
  media = json_array();
  if (image) {
    const char *id = NULL;
    json_t *r;
    if (read_file(image, &file)) {
      fprintf(stderr,
              "lyrebird send: cannot read %s (missing, or over 100 "
              "MB)\n",
              image);
      goto out;
    }
    if (post(server, "/api/v1/media", key, "application/octet-stream", NULL,
             file.data ? file.data : "", file.len, &resp, &status))
      goto out;
    if (status != 201) {
      rc = server_error(status, &resp);
      goto out;
    }
    r = json_loads(resp.data, 0, NULL);
    if (!r || json_unpack(r, "{s:s}", "id", &id)) {
      json_decref(r);
      fprintf(stderr, "lyrebird send: unexpected answer to the upload\n");
      goto out;
    }
    json_array_append_new(media, json_string(id));
    json_decref(r);
    buf_reset(&resp);
  }
  msg = json_pack("{s:s, s:s, s:O}", "to", to, "text", text ? text : "",
                  "media", media);
  body = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
  if (!body)
    goto out;
  if (post(server, "/api/v1/messages", key, "application/json", idem, body,
           strlen(body), &resp, &status))
    goto out;
  if (status != 202) {
    rc = server_error(status, &resp);
    goto out;
  }
  printf("%s\n", resp.data);
  rc = 0;
out:
  free(body);
  json_decref(msg);
  json_decref(media);
  buf_release(&file);
  buf_release(&resp);
  return rc;
}
