/* mock_client.h - start, drive and stop the mockbroker from a C test.
 *
 * stb-style: include it anywhere for the declarations; in exactly one file
 *     #define MOCK_CLIENT_IMPLEMENTATION
 *     #include "mock_client.h"
 * Needs POSIX (compile with -D_POSIX_C_SOURCE=200809L).
 *
 *     mock_cluster m;
 *     if (mock_start(&m, "--brokers 2 --topic T") != 0) fail();
 *     ... point the producer at m.namesrv ...
 *     mock_cmd(&m, NULL, 0, "ERROR broker-a 310 14 1 busy");
 *     long n = mock_count(&m, "T");
 *     mock_stop(&m);
 *
 * The binary is $MOCKBROKER, else tests/mockbroker/mockbroker (relative to
 * the current directory), else ./mockbroker. It is started with
 * --exit-on-eof and keeps a pipe on its stdin, so it exits on its own when
 * the test process dies. */
#ifndef MOCK_CLIENT_H
#define MOCK_CLIENT_H

#include <stddef.h>
#include <sys/types.h>

#define MOCK_MAX_BROKERS 26

typedef struct mock_cluster {
    pid_t pid;
    int stdin_fd;                          /* our end of the mock's stdin */
    int ctl_fd;                            /* control connection */
    char namesrv[1024];                    /* "127.0.0.1:P1;127.0.0.1:P2" */
    int nbrokers;
    char broker_name[MOCK_MAX_BROKERS][32]; /* "broker-a", ... */
    char broker_addr[MOCK_MAX_BROKERS][32]; /* "127.0.0.1:P" */
    char control[32];                      /* "127.0.0.1:P" */
    char http[32];                         /* "127.0.0.1:P" */
    char ready[2048];                      /* the whole READY line */
    char *rbuf;                            /* control bytes read but not consumed */
    size_t rlen, rcap, rskip;
} mock_cluster;

/* Starts the mock with extra arguments (space separated, may be NULL or "").
 * Returns 0 once it printed its READY line and the control port answers. */
int mock_start(mock_cluster *m, const char *args);

/* Sends QUIT, closes stdin, waits for the exit. Returns the exit status
 * (0 = clean), or -1 if it had to be killed. */
int mock_stop(mock_cluster *m);

/* Sends one control command and collects its reply lines (without the
 * final OK; with the ERR line on failure) into out, which may be NULL.
 * Returns 0 on OK, -1 on ERR, timeout or a lost connection. */
int mock_cmd(mock_cluster *m, char *out, size_t outlen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Stored messages (of topic, or all when topic is NULL); -1 on error. */
long mock_count(mock_cluster *m, const char *topic);

/* DUMP lines, one JSON object per stored message. 0 on success. */
int mock_dump(mock_cluster *m, const char *topic, char *out, size_t outlen);

/* "127.0.0.1:P" of a broker by name, or NULL. */
const char *mock_broker_addr(const mock_cluster *m, const char *name);

/* Blocking TCP connection to "host:port"; returns the fd or -1. */
int mock_connect(const char *addr);

/* Milliseconds of a monotonic clock, for the deadlines of tests. */
long mock_now_ms(void);

#endif /* MOCK_CLIENT_H */

#ifdef MOCK_CLIENT_IMPLEMENTATION
#ifndef MOCK_CLIENT_IMPLEMENTED
#define MOCK_CLIENT_IMPLEMENTED

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MOCK_TIMEOUT_MS 10000
#define MOCK_MAX_ARGS 64

long mock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *mock__binary(void)
{
    const char *env = getenv("MOCKBROKER");
    if (env && *env)
        return env;
    if (access("tests/mockbroker/mockbroker", X_OK) == 0)
        return "tests/mockbroker/mockbroker";
    return "./mockbroker";
}

/* Splits args in place on blanks; '...' and "..." group words. */
static int mock__split(char *s, char **argv, int max)
{
    int n = 0;
    while (s && *s && n < max) {
        char quote = 0, *out;
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            break;
        argv[n++] = out = s;
        while (*s && (quote || (*s != ' ' && *s != '\t'))) {
            if (!quote && (*s == '\'' || *s == '"'))
                quote = *s++;
            else if (quote && *s == quote) {
                quote = 0;
                s++;
            } else
                *out++ = *s++;
        }
        if (*s)
            s++;
        *out = '\0';
    }
    return n;
}

static void mock__exec_child(int in_fd, int out_fd, const char *args)
{
    char *argv[MOCK_MAX_ARGS + 3];
    char *copy = strdup(args ? args : "");
    long fd, max_fd = sysconf(_SC_OPEN_MAX);
    int n;
    dup2(in_fd, 0);
    dup2(out_fd, 1);
    /* Inherited sockets of the test (or of another mock's stdin pipe) would
     * keep those connections open after the test closes its copies. */
    if (max_fd < 0 || max_fd > 65536)
        max_fd = 65536;
    for (fd = 3; fd < max_fd; fd++)
        close((int)fd);
    argv[0] = (char *)mock__binary();
    argv[1] = (char *)"--exit-on-eof";
    n = mock__split(copy, argv + 2, MOCK_MAX_ARGS);
    argv[n + 2] = NULL;
    execv(argv[0], argv);
    fprintf(stderr, "mock_client: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Reads one line from fd into buf within the deadline. */
static int mock__read_line(int fd, char *buf, size_t cap, long deadline)
{
    size_t len = 0;
    while (len + 1 < cap) {
        struct pollfd pf;
        ssize_t r;
        long left = deadline - mock_now_ms();
        pf.fd = fd;
        pf.events = POLLIN;
        if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
            return -1;
        r = read(fd, buf + len, 1); /* only the READY line; never hot */
        if (r <= 0)
            return -1;
        if (buf[len] == '\n') {
            buf[len] = '\0';
            return 0;
        }
        len++;
    }
    return -1;
}

static int mock__copy_field(const char *line, const char *key, char *out, size_t cap)
{
    const char *p = strstr(line, key);
    size_t n;
    if (!p)
        return -1;
    p += strlen(key);
    n = strcspn(p, " ");
    if (n >= cap)
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

static int mock__parse_ready(mock_cluster *m)
{
    char brokers[2048], *item, *save = NULL;
    if (strncmp(m->ready, "MOCKBROKER READY ", 17) != 0 ||
        mock__copy_field(m->ready, " namesrv=", m->namesrv, sizeof m->namesrv) < 0 ||
        mock__copy_field(m->ready, " brokers=", brokers, sizeof brokers) < 0 ||
        mock__copy_field(m->ready, " control=", m->control, sizeof m->control) < 0 ||
        mock__copy_field(m->ready, " http=", m->http, sizeof m->http) < 0)
        return -1;
    m->nbrokers = 0;
    for (item = strtok_r(brokers, ",", &save); item && m->nbrokers < MOCK_MAX_BROKERS;
         item = strtok_r(NULL, ",", &save)) {
        char *at = strchr(item, '@');
        if (!at || (size_t)(at - item) >= sizeof m->broker_name[0] || strlen(at + 1) >= sizeof m->broker_addr[0])
            return -1;
        memcpy(m->broker_name[m->nbrokers], item, (size_t)(at - item));
        m->broker_name[m->nbrokers][at - item] = '\0';
        strcpy(m->broker_addr[m->nbrokers], at + 1);
        m->nbrokers++;
    }
    return 0;
}

int mock_connect(const char *addr)
{
    struct sockaddr_in sa;
    char host[64];
    const char *colon = strrchr(addr, ':');
    int fd;
    if (!colon || (size_t)(colon - addr) >= sizeof host)
        return -1;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return -1;
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void mock__reset(mock_cluster *m)
{
    memset(m, 0, sizeof *m);
    m->pid = -1;
    m->stdin_fd = -1;
    m->ctl_fd = -1;
}

int mock_start(mock_cluster *m, const char *args)
{
    int in_pipe[2], out_pipe[2], rc;
    mock__reset(m);
    if (pipe(in_pipe) < 0)
        return -1;
    if (pipe(out_pipe) < 0) {
        close(in_pipe[0]);
        close(in_pipe[1]);
        return -1;
    }
    /* our ends must not leak into other children (they would hold the
     * mock's stdin open after we die) */
    fcntl(in_pipe[1], F_SETFD, FD_CLOEXEC);
    fcntl(out_pipe[0], F_SETFD, FD_CLOEXEC);
    signal(SIGPIPE, SIG_IGN); /* a dead mock must not kill the test */
    m->pid = fork();
    if (m->pid == 0) {
        close(in_pipe[1]);
        close(out_pipe[0]);
        mock__exec_child(in_pipe[0], out_pipe[1], args);
    }
    close(in_pipe[0]);
    close(out_pipe[1]);
    m->stdin_fd = in_pipe[1];
    rc = m->pid < 0 ? -1 : mock__read_line(out_pipe[0], m->ready, sizeof m->ready, mock_now_ms() + MOCK_TIMEOUT_MS);
    close(out_pipe[0]); /* the mock prints nothing else on stdout */
    if (rc == 0)
        rc = mock__parse_ready(m);
    if (rc == 0 && (m->ctl_fd = mock_connect(m->control)) < 0)
        rc = -1;
    if (rc != 0) {
        fprintf(stderr, "mock_client: mockbroker did not start (%s)\n", m->ready[0] ? m->ready : "no READY line");
        mock_stop(m);
        return -1;
    }
    fcntl(m->ctl_fd, F_SETFD, FD_CLOEXEC);
    return 0;
}

static int mock__write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Next control reply line (NUL-terminated in place in rbuf); valid until
 * the next call, which drops it from the buffer. */
static int mock__next_line(mock_cluster *m, char **line, long deadline)
{
    if (m->rskip) {
        memmove(m->rbuf, m->rbuf + m->rskip, m->rlen - m->rskip);
        m->rlen -= m->rskip;
        m->rskip = 0;
    }
    for (;;) {
        char *nl = m->rlen ? memchr(m->rbuf, '\n', m->rlen) : NULL;
        struct pollfd pf;
        ssize_t r;
        long left;
        if (nl) {
            *nl = '\0';
            m->rskip = (size_t)(nl - m->rbuf) + 1;
            *line = m->rbuf;
            return 0;
        }
        if (m->rcap - m->rlen < 65536) {
            char *nb = realloc(m->rbuf, m->rcap + 65536);
            if (!nb)
                return -1;
            m->rbuf = nb;
            m->rcap += 65536;
        }
        left = deadline - mock_now_ms();
        pf.fd = m->ctl_fd;
        pf.events = POLLIN;
        if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
            return -1;
        r = read(m->ctl_fd, m->rbuf + m->rlen, m->rcap - m->rlen);
        if (r <= 0)
            return -1;
        m->rlen += (size_t)r;
    }
}

static void mock__append(char *out, size_t outlen, size_t *used, const char *line)
{
    size_t n = strlen(line);
    if (!out || !outlen)
        return;
    if (*used + n + 2 > outlen)
        n = outlen > *used + 2 ? outlen - *used - 2 : 0; /* truncate, keep reading */
    memcpy(out + *used, line, n);
    *used += n;
    if (*used + 1 < outlen)
        out[(*used)++] = '\n';
    out[*used] = '\0';
}

int mock_cmd(mock_cluster *m, char *out, size_t outlen, const char *fmt, ...)
{
    char stackbuf[1024], *cmd = stackbuf, *line;
    size_t used = 0;
    long deadline = mock_now_ms() + MOCK_TIMEOUT_MS;
    va_list ap;
    int n, rc;
    if (out && outlen)
        out[0] = '\0';
    if (m->ctl_fd < 0)
        return -1;
    va_start(ap, fmt);
    n = vsnprintf(stackbuf, sizeof stackbuf - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n >= sizeof stackbuf - 1) {
        cmd = malloc((size_t)n + 2);
        if (!cmd)
            return -1;
        va_start(ap, fmt);
        vsnprintf(cmd, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    cmd[n] = '\n';
    rc = mock__write_all(m->ctl_fd, cmd, (size_t)n + 1);
    if (cmd != stackbuf)
        free(cmd);
    if (rc < 0)
        return -1;
    while (mock__next_line(m, &line, deadline) == 0) {
        if (strcmp(line, "OK") == 0)
            return 0;
        mock__append(out, outlen, &used, line);
        if (strncmp(line, "ERR", 3) == 0)
            return -1;
    }
    return -1;
}

long mock_count(mock_cluster *m, const char *topic)
{
    char out[64];
    if (mock_cmd(m, out, sizeof out, "COUNT %s", topic ? topic : "") != 0)
        return -1;
    return strtol(out, NULL, 10);
}

int mock_dump(mock_cluster *m, const char *topic, char *out, size_t outlen)
{
    return mock_cmd(m, out, outlen, "DUMP %s", topic ? topic : "");
}

const char *mock_broker_addr(const mock_cluster *m, const char *name)
{
    int i;
    for (i = 0; i < m->nbrokers; i++)
        if (strcmp(m->broker_name[i], name) == 0)
            return m->broker_addr[i];
    return NULL;
}

static int mock__wait_exit(pid_t pid, long ms)
{
    long deadline = mock_now_ms() + ms;
    int status;
    struct timespec nap;
    nap.tv_sec = 0;
    nap.tv_nsec = 5 * 1000000L;
    while (mock_now_ms() < deadline) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (r < 0)
            return -1;
        nanosleep(&nap, NULL);
    }
    return -2;
}

int mock_stop(mock_cluster *m)
{
    int rc = 0;
    if (m->ctl_fd >= 0) {
        mock_cmd(m, NULL, 0, "QUIT");
        close(m->ctl_fd);
    }
    if (m->stdin_fd >= 0)
        close(m->stdin_fd);
    if (m->pid > 0) {
        rc = mock__wait_exit(m->pid, 5000);
        if (rc == -2) {
            kill(m->pid, SIGKILL);
            waitpid(m->pid, NULL, 0);
            rc = -1;
        }
    }
    free(m->rbuf);
    mock__reset(m);
    return rc;
}

#endif /* MOCK_CLIENT_IMPLEMENTED */
#endif /* MOCK_CLIENT_IMPLEMENTATION */
