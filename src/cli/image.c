/* lyrebird image fit: the MMS fitting pipeline on one file, for operators
 * checking what a budget does to an image, and for bench/image-fit. The
 * input goes through the same sniffing and cleaning as an upload. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "media/image.h"
#include "media/intake.h"
#include "util/err.h"

#define IN_MAX (100L * 1024 * 1024)

static void usage(FILE *f)
{
  fprintf(f,
          "usage: lyrebird image fit --max-bytes N [options] IN OUT\n\n"
          "Writes OUT, a JPEG of at most N bytes made from the image IN\n"
          "(JPEG, PNG, GIF, WebP or HEIC), the way an MMS is fitted: upright,\n"
          "without metadata, shrunk to the longest side, then the highest\n"
          "JPEG quality that fits. Prints its size, dimensions, quality and\n"
          "the time it took.\n\n"
          "  -b, --max-bytes N    the byte budget (e.g. 300000)\n"
          "  -d, --max-dim PX     longest side at most PX (default 1600)\n"
          "  -q, --min-quality Q  lowest JPEG quality allowed (default 40)\n"
          "      --max-pixels N   refuse inputs over N pixels (default "
          "50000000)\n"
          "      --json           print one JSON object instead\n"
          "  -h, --help           show this help\n\n"
          "Exit status: 0 written, 1 the image cannot fit or be read, 2 "
          "usage.\n");
}

static enum lb_err read_file(const char *path, unsigned char **out, size_t *len)
{
  FILE *f = fopen(path, "rb");
  unsigned char *b = NULL;
  size_t n = 0, cap = 0;
  int rc = LB_OK;
  if (!f)
    return LB_EIO;
  for (;;) {
    size_t got;
    if (n == cap) {
      unsigned char *t;
      cap = cap ? cap * 2 : 1 << 20;
      if ((long)cap > IN_MAX + 1)
        cap = (size_t)IN_MAX + 1;
      if (n == cap) {
        rc = LB_ETOOBIG;
        break;
      }
      if (!(t = realloc(b, cap))) {
        rc = LB_ENOMEM;
        break;
      }
      b = t;
    }
    got = fread(b + n, 1, cap - n, f);
    n += got;
    if (got == 0) {
      if (ferror(f))
        rc = LB_EIO;
      break;
    }
  }
  fclose(f);
  if (rc) {
    free(b);
    return rc;
  }
  *out = b;
  *len = n;
  return LB_OK;
}

static enum lb_err write_file(const char *path, const void *data, size_t len)
{
  FILE *f = fopen(path, "wb");
  int ok;
  if (!f)
    return LB_EIO;
  ok = fwrite(data, 1, len, f) == len;
  ok = (fclose(f) == 0) && ok;
  return ok ? LB_OK : LB_EIO;
}

/* s as a number from lo to hi into *out; LB_EINVAL (said on stderr)
 * otherwise. */
static enum lb_err parse_long(const char *s, long lo, long hi, const char *what,
                              long *out)
{
  char *end;
  long v;
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi) {
    fprintf(stderr, "lyrebird image: %s must be a number from %ld to %ld\n",
            what, lo, hi);
    return LB_EINVAL;
  }
  *out = v;
  return LB_OK;
}

static int cmd_fit(int argc, char **argv)
{
  static const struct option opts[] = {
      {"max-bytes", required_argument, NULL, 'b'},
      {"max-dim", required_argument, NULL, 'd'},
      {"min-quality", required_argument, NULL, 'q'},
      {"max-pixels", required_argument, NULL, 'P'},
      {"json", no_argument, NULL, 'j'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  struct fit_params p = {0, 1600, 40, 320, 50000000L};
  struct image_out out = {0};
  unsigned char *data = NULL;
  size_t len = 0;
  char ctype[128], why[300];
  struct timespec t0, t1;
  int c, json = 0, rc, status = 1;
  long v;

  optind = 1;
  while ((c = getopt_long(argc, argv, "b:d:q:h", opts, NULL)) != -1) {
    switch (c) {
    case 'b':
      if (parse_long(optarg, 1000, 100000000L, "--max-bytes", &v))
        return 2;
      p.max_bytes = (size_t)v;
      break;
    case 'd':
      if (parse_long(optarg, 64, 16384, "--max-dim", &v))
        return 2;
      p.max_dim = (int)v;
      break;
    case 'q':
      if (parse_long(optarg, 1, 95, "--min-quality", &v))
        return 2;
      p.min_quality = (int)v;
      break;
    case 'P':
      if (parse_long(optarg, 1, 1000000000L, "--max-pixels", &v))
        return 2;
      p.max_pixels = v;
      break;
    case 'j':
      json = 1;
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (!p.max_bytes || argc - optind != 2) {
    usage(stderr);
    return 2;
  }
  if (p.min_dim > p.max_dim)
    p.min_dim = p.max_dim;
  if ((rc = read_file(argv[optind], &data, &len))) {
    fprintf(stderr, "lyrebird image: cannot read %s: %s\n", argv[optind],
            rc == LB_ETOOBIG ? "larger than 100 MB" : strerror(errno));
    return 1;
  }
  if (media_intake_init() || media_sniff(data, len, ctype, sizeof ctype)) {
    fprintf(stderr, "lyrebird image: cannot determine the type of %s\n",
            argv[optind]);
    goto done;
  }
  if (!image_type_supported(ctype)) {
    fprintf(stderr,
            "lyrebird image: %s is %s; send a JPEG, PNG, GIF, WebP or HEIC\n",
            argv[optind], ctype);
    goto done;
  }
  clock_gettime(CLOCK_MONOTONIC, &t0);
  rc = image_fit(data, len, ctype, &p, &out, why, sizeof why);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (rc) {
    fprintf(stderr, "lyrebird image: %s: %s\n", argv[optind], why);
    goto done;
  }
  if (write_file(argv[optind + 1], out.data, out.len)) {
    fprintf(stderr, "lyrebird image: cannot write %s: %s\n", argv[optind + 1],
            strerror(errno));
    goto done;
  }
  {
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
                (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    if (json)
      printf("{\"bytes\": %zu, \"width\": %d, \"height\": %d, \"quality\": %d, "
             "\"encodes\": %d, \"ms\": %.1f}\n",
             out.len, out.width, out.height, out.quality, out.encodes, ms);
    else
      printf("%s: %zu bytes, %dx%d, JPEG quality %d, %d encodes, %.0f ms\n",
             argv[optind + 1], out.len, out.width, out.height, out.quality,
             out.encodes, ms);
  }
  status = 0;
done:
  image_out_release(&out);
  free(data);
  media_intake_cleanup();
  return status;
}

int cmd_image(int argc, char **argv)
{
  int rc;
  if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "fit") != 0) {
    fprintf(stderr, "lyrebird image: unknown subcommand '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
  }
  if (image_init(argv[0]))
    return 1;
  rc = cmd_fit(argc - 1, argv + 1);
  image_shutdown();
  return rc;
}
