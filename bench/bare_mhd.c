/* The bench's baseline: a libmicrohttpd server that does nothing.
 *
 * It runs MHD the way lyrebird does (MHD_USE_EPOLL_INTERNAL_THREAD with a
 * thread pool), binds 127.0.0.1:<port>, drains any request body and answers
 * every request 200 with the body "{}". bench/ingest builds it with
 *   cc -std=c11 -O2 -Wall -Wextra -Werror bare_mhd.c \
 *      $(pkg-config --cflags --libs libmicrohttpd)
 * and stops it with SIGTERM.
 *
 * usage: bare_mhd PORT [THREADS]   (THREADS defaults to 16) */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static struct MHD_Response *ok_response;

/* A marker for "headers seen"; its address is all that matters. */
static int seen;

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn,
                              const char *url, const char *method,
                              const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls)
{
  (void)cls;
  (void)url;
  (void)method;
  (void)version;
  (void)upload_data;
  if (*req_cls == NULL) {
    /* First call: headers only. Ask for the body (if any). */
    *req_cls = &seen;
    return MHD_YES;
  }
  if (*upload_data_size != 0) {
    /* Drain: accept every chunk of the body and keep nothing. */
    *upload_data_size = 0;
    return MHD_YES;
  }
  return MHD_queue_response(conn, MHD_HTTP_OK, ok_response);
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
  char *end;
  long v;
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi)
    return -1;
  *out = v;
  return 0;
}

int main(int argc, char **argv)
{
  static const char body[] = "{}";
  struct sockaddr_in addr;
  struct MHD_Daemon *d;
  sigset_t stop;
  long port, threads = 16;
  int sig;

  if (argc < 2 || argc > 3 || parse_int(argv[1], 1, 65535, &port) ||
      (argc == 3 && parse_int(argv[2], 1, 1024, &threads))) {
    fprintf(stderr, "usage: %s PORT [THREADS]\n", argv[0]);
    return 2;
  }

  /* Block the stop signals before MHD starts its threads, so they inherit
   * the mask and only sigwait() below sees them. */
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  if (pthread_sigmask(SIG_BLOCK, &stop, NULL) != 0) {
    perror("pthread_sigmask");
    return 1;
  }

  ok_response = MHD_create_response_from_buffer(sizeof body - 1, (void *)body,
                                                MHD_RESPMEM_PERSISTENT);
  if (!ok_response ||
      MHD_add_response_header(ok_response, MHD_HTTP_HEADER_CONTENT_TYPE,
                              "application/json") != MHD_YES) {
    fprintf(stderr, "bare_mhd: cannot build the response\n");
    return 1;
  }

  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

  d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG,
                       (unsigned short)port, NULL, NULL, answer, NULL,
                       MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                       MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)threads,
                       MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
  if (!d) {
    fprintf(stderr, "bare_mhd: cannot listen on 127.0.0.1:%ld\n", port);
    MHD_destroy_response(ok_response);
    return 1;
  }
  fprintf(stderr, "bare_mhd: listening on 127.0.0.1:%ld, %ld threads\n", port,
          threads);

  if (sigwait(&stop, &sig) != 0)
    sig = 0;
  MHD_stop_daemon(d);
  MHD_destroy_response(ok_response);
  return 0;
}
