/*
 * The `aws` the host script tests run: hands its call to the warm AWS CLI server
 * (warm-aws-cli.py) and exits as the CLI did. warm-aws-cli.ts compiles it once per test run
 * with the server's socket as WARM_AWS_SOCKET. In C because it runs for every `aws` call of
 * every script: it costs about a millisecond where an interpreter costs several.
 *
 * Request: a 4-byte big-endian length, then "umask\0cwd\0argc\0argv...\0environ...\0", with
 * fds 0-2 attached (SCM_RIGHTS). Reply: 'X' or 'S' and a 4-byte big-endian exit status or
 * signal; 'C' (run /usr/bin/aws yourself); 'E' and a message up to the end of the connection.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef WARM_AWS_SOCKET
#error "compile with -DWARM_AWS_SOCKET='\"/path/to/socket\"'"
#endif

#define REAL_AWS "/usr/bin/aws"

extern char **environ;

static void fail(const char *format, ...) {
  char message[512];
  va_list args;
  va_start(args, format);
  vsnprintf(message, sizeof message, format, args);
  va_end(args);
  dprintf(2, "aws (warm AWS CLI client): %s\n", message);
  _exit(255);
}

/* The server cannot make this call exactly as /usr/bin/aws would: make it so. */
static void run_cold(char **argv) {
  argv[0] = REAL_AWS;
  execv(REAL_AWS, argv);
  fail("cannot run %s: %s", REAL_AWS, strerror(errno));
}

struct buffer {
  char *data;
  size_t length, capacity;
};

static void append(struct buffer *b, const char *s, size_t n) {
  if (b->length + n > b->capacity) {
    b->capacity = (b->length + n) * 2;
    b->data = realloc(b->data, b->capacity);
    if (b->data == NULL) fail("out of memory");
  }
  memcpy(b->data + b->length, s, n);
  b->length += n;
}

static void append_string(struct buffer *b, const char *s) { append(b, s, strlen(s) + 1); }

static void append_number(struct buffer *b, long n) {
  char text[32];
  snprintf(text, sizeof text, "%ld", n);
  append_string(b, text);
}

/* The request after its length: umask, cwd, argv (argv[0] as the kernel gave it to a script:
 * the path that was executed) and the environment, each NUL-terminated. */
static struct buffer request(int argc, char **argv, const char *cwd) {
  struct buffer b = {malloc(4096), 4, 4096};
  if (b.data == NULL) fail("out of memory");
  mode_t mask = umask(0);
  umask(mask);
  append_number(&b, mask);
  append_string(&b, cwd);
  append_number(&b, argc);
  const char *executed = (const char *)getauxval(AT_EXECFN);
  append_string(&b, executed != NULL ? executed : argv[0]);
  for (int i = 1; i < argc; i++) append_string(&b, argv[i]);
  for (char **e = environ; *e != NULL; e++) append_string(&b, *e);
  uint32_t length = (uint32_t)(b.length - 4);
  unsigned char head[4] = {length >> 24, length >> 16, length >> 8, length};
  memcpy(b.data, head, 4);
  return b;
}

static void send_request(int conn, const struct buffer *b) {
  int fds[3] = {0, 1, 2};
  union {
    struct cmsghdr header;
    char space[CMSG_SPACE(sizeof fds)];
  } control = {0};
  struct iovec iov = {b->data, b->length};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space, .msg_controllen = sizeof control.space};
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof fds);
  memcpy(CMSG_DATA(cmsg), fds, sizeof fds);
  ssize_t sent;
  while ((sent = sendmsg(conn, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
  }
  if (sent < 0) fail("the server at %s is not answering: %s", WARM_AWS_SOCKET, strerror(errno));
  for (size_t done = sent; done < b->length; done += sent) {
    sent = send(conn, b->data + done, b->length - done, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) sent = 0;
    else if (sent < 0) fail("the server at %s is not answering: %s", WARM_AWS_SOCKET, strerror(errno));
  }
}

/* Reads up to n bytes; fewer only at the end of the connection. */
static size_t receive(int conn, char *into, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = recv(conn, into + got, n - got, 0);
    if (r == 0) break;
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail("the server at %s is not answering: %s", WARM_AWS_SOCKET, strerror(errno));
    got += r;
  }
  return got;
}

/* 'E': the server's message, then the status a failed CLI call has. */
static void report_error(int conn) {
  struct timeval timeout = {1, 0};
  setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  char chunk[4096];
  ssize_t r;
  while ((r = recv(conn, chunk, sizeof chunk, 0)) > 0 || (r < 0 && errno == EINTR))
    if (r > 0 && write(2, chunk, r) < 0) break;
  _exit(255);
}

/* The CLI died of a signal: so does its client, as the shell would see it. */
static void die_of(int signum) {
  signal(signum, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, signum);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  kill(getpid(), signum);
  _exit(128 + signum);
}

int main(int argc, char **argv) {
  if (argc < 1) fail("no argv[0]");
  char *cwd = getcwd(NULL, 0);
  struct stat st;
  if (cwd == NULL || fstat(0, &st) < 0 || fstat(1, &st) < 0 || fstat(2, &st) < 0) run_cold(argv);
  struct buffer b = request(argc, argv, cwd);
  int conn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un address = {.sun_family = AF_UNIX, .sun_path = WARM_AWS_SOCKET};
  if (conn < 0 || connect(conn, (struct sockaddr *)&address, sizeof address) < 0)
    fail("the server at %s is not answering: %s", WARM_AWS_SOCKET, strerror(errno));
  send_request(conn, &b);
  char reply[5];
  size_t got = receive(conn, reply, 1);
  if (got == 1 && reply[0] == 'C') run_cold(argv);
  if (got == 1 && reply[0] == 'E') report_error(conn);
  if (got == 1 && (reply[0] == 'X' || reply[0] == 'S') && receive(conn, reply + 1, 4) == 4) {
    unsigned char *v = (unsigned char *)reply + 1;
    int32_t value = (int32_t)((uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3]);
    if (reply[0] == 'S') die_of(value);
    _exit(value & 0xFF);
  }
  fail("the server closed the call without an exit status");
}
