/* bench_limit.h - what loopback TCP allows at all, for the frame sizes a
 * producer line really used: the yardstick the producer figures are divided
 * by.
 *
 *   ping-pong  one request frame, then its answer, then the next: the best
 *              a synchronous send can do.
 *   stream     the client writes frames as fast as the socket takes them
 *              (64 KiB writes, no window) and counts the answers; the
 *              responder answers every frame with a small frame and does
 *              nothing else. With answer size 0 it answers nothing and
 *              reports the frame count when the client closes (oneway).
 *
 * The responder is a forked process, as the mock is, so the CPU time of this
 * process stays the client's alone. Sockets are TCP over 127.0.0.1 with
 * TCP_NODELAY on both ends, like the POSIX port and the mock. */
#ifndef BENCH_LIMIT_H
#define BENCH_LIMIT_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

#define BENCH_IO_CHUNK 65536u

typedef struct bench_limit {
    int pingpong;           /* 1: ping-pong, 0: stream */
    size_t req_len;         /* request frame, length prefix included */
    size_t resp_len;        /* answer frame; 0: no answers (stream only) */
    uint64_t frames;        /* answered (or received) in the run */
    uint64_t wall_ns;
    uint64_t cpu_ns;        /* of this process */
    uint64_t peer_cpu_ns;   /* of the responder */
    int failed;
} bench_limit;

static void bench_nodelay(int fd)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int bench_write_all(int fd, const unsigned char *p, size_t n)
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

static int bench_read_all(int fd, unsigned char *p, size_t n)
{
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* A frame of len bytes: the remoting prefix (length, JSON, header of all
 * but the prefix) and filler. Only the length matters to the responder. */
static void bench_frame(unsigned char *p, size_t len)
{
    uint32_t flen = (uint32_t)(len - 4), hlen = (uint32_t)(len - 8);
    memset(p, 'x', len);
    p[0] = (unsigned char)(flen >> 24); p[1] = (unsigned char)(flen >> 16);
    p[2] = (unsigned char)(flen >> 8); p[3] = (unsigned char)flen;
    p[4] = 0; p[5] = (unsigned char)(hlen >> 16); p[6] = (unsigned char)(hlen >> 8); p[7] = (unsigned char)hlen;
}

static int bench_listen(uint16_t *port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 1) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

static int bench_dial(uint16_t port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(port);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    bench_nodelay(fd);
    return fd;
}

/* The responder's loop: reads what is there, finds the frame ends by their
 * length prefixes (a frame may span reads), answers the frames completed by
 * this read in one write. */
static void bench_respond(int fd, size_t resp_len)
{
    static unsigned char in[BENCH_IO_CHUNK];
    unsigned char *answers = NULL, prefix[4];
    size_t cap = 0, have_prefix = 0;
    uint64_t left = 0, total = 0;   /* bytes of the current frame still to come */
    for (;;) {
        ssize_t r = read(fd, in, sizeof in);
        size_t at = 0, done = 0;
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        while (at < (size_t)r) {
            if (left == 0) {
                prefix[have_prefix++] = in[at++];
                if (have_prefix < 4)
                    continue;
                left = ((uint64_t)prefix[0] << 24) | ((uint64_t)prefix[1] << 16) | ((uint64_t)prefix[2] << 8) | prefix[3];
                have_prefix = 0;
            }
            {
                size_t take = (size_t)r - at < left ? (size_t)r - at : (size_t)left;
                at += take;
                left -= take;
            }
            if (left == 0)
                done++;
        }
        total += done;
        if (!resp_len || !done)
            continue;
        if (done * resp_len > cap) {
            free(answers);
            cap = done * resp_len;
            answers = (unsigned char *)malloc(cap);
            if (!answers)
                break;
        }
        for (at = 0; at < done; at++)
            bench_frame(answers + at * resp_len, resp_len);
        if (bench_write_all(fd, answers, done * resp_len) != 0)
            break;
    }
    if (!resp_len) {                /* the count, so the client knows all arrived */
        unsigned char t[8];
        int i;
        for (i = 0; i < 8; i++)
            t[i] = (unsigned char)(total >> (56 - 8 * i));
        (void)bench_write_all(fd, t, 8);
    }
    free(answers);
}

static pid_t bench_responder(int lfd, size_t resp_len)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd;
        bench_pin(1);
        fd = accept(lfd, NULL, NULL);
        close(lfd);
        if (fd >= 0) {
            bench_nodelay(fd);
            bench_respond(fd, resp_len);
            close(fd);
        }
        _exit(0);
    }
    return pid;
}

static void bench_pingpong_run(bench_limit *l, int fd, uint64_t dur_ns)
{
    unsigned char *req = (unsigned char *)malloc(l->req_len), *resp = (unsigned char *)malloc(l->resp_len);
    uint64_t t0 = bench_ns(), now = t0;
    if (!req || !resp) {
        l->failed = 1;
    } else {
        bench_frame(req, l->req_len);
        while (now - t0 < dur_ns) {
            if (bench_write_all(fd, req, l->req_len) || bench_read_all(fd, resp, l->resp_len)) {
                l->failed = 1;
                break;
            }
            l->frames++;
            now = bench_ns();
        }
    }
    l->wall_ns = bench_ns() - t0;
    free(req);
    free(resp);
}

/* The stream's state between poll() turns. */
typedef struct bench_stream {
    unsigned char *out;     /* a ring of whole frames */
    size_t ring;
    uint64_t written;       /* bytes */
    uint64_t got;           /* answer bytes, or count bytes without answers */
    unsigned char count[8]; /* the responder's frame count */
    int writing, shut;
} bench_stream;

/* One write from the ring; once the time is up only the rest of the frame
 * being written, so the run ends on a frame boundary. */
static int bench_stream_write(bench_limit *l, bench_stream *s, int fd, int time_up)
{
    size_t off = (size_t)(s->written % s->ring), want = s->ring - off;
    ssize_t w;
    if (time_up)
        want = l->req_len - (size_t)(s->written % l->req_len);
    w = write(fd, s->out + off, want);
    if (w > 0)
        s->written += (uint64_t)w;
    return w < 0 && errno != EAGAIN && errno != EINTR ? -1 : 0;
}

/* Reads answers (counted as bytes) or the 8-byte count; 1 at the end of
 * stream, -1 on failure. */
static int bench_stream_read(bench_limit *l, bench_stream *s, int fd, unsigned char *sink)
{
    ssize_t r = read(fd, sink, BENCH_IO_CHUNK), i;
    if (r == 0)
        return 1;
    if (r < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    if (l->resp_len) {
        s->got += (uint64_t)r;
        return 0;
    }
    for (i = 0; i < r && s->got < 8; i++)
        s->count[s->got++] = sink[i];
    return 0;
}

static void bench_stream_loop(bench_limit *l, bench_stream *s, int fd, unsigned char *sink, uint64_t t0, uint64_t dur_ns)
{
    for (;;) {
        struct pollfd pf;
        int time_up = bench_ns() - t0 >= dur_ns, rc = 0;
        uint64_t frames = s->written / l->req_len;
        if (s->writing && time_up && s->written % l->req_len == 0)
            s->writing = 0;
        if (!s->writing && l->resp_len && s->got >= frames * l->resp_len)
            break;
        if (!s->writing && !l->resp_len && !s->shut) {
            shutdown(fd, SHUT_WR);
            s->shut = 1;
        }
        if (s->shut && s->got == 8)
            break;
        pf.fd = fd;
        pf.events = (short)(POLLIN | (s->writing ? POLLOUT : 0));
        pf.revents = 0;
        if (poll(&pf, 1, 5000) <= 0) {
            l->failed = 1;
            return;
        }
        if ((pf.revents & POLLOUT) && bench_stream_write(l, s, fd, time_up))
            rc = -1;
        if (!rc && (pf.revents & (POLLIN | POLLHUP | POLLERR)))
            rc = bench_stream_read(l, s, fd, sink);
        if (rc) {
            l->failed = rc < 0 || !s->shut || s->got != 8;
            return;
        }
    }
}

static void bench_stream_run(bench_limit *l, int fd, uint64_t dur_ns)
{
    size_t per = BENCH_IO_CHUNK / l->req_len ? BENCH_IO_CHUNK / l->req_len : 1, i;
    unsigned char *sink = (unsigned char *)malloc(BENCH_IO_CHUNK);
    uint64_t t0 = bench_ns();
    bench_stream s;
    memset(&s, 0, sizeof s);
    s.ring = per * l->req_len;
    s.out = (unsigned char *)malloc(s.ring);
    s.writing = 1;
    if (!s.out || !sink) {
        l->failed = 1;
    } else {
        for (i = 0; i < per; i++)
            bench_frame(s.out + i * l->req_len, l->req_len);
        (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
        bench_stream_loop(l, &s, fd, sink, t0, dur_ns);
        l->frames = s.written / l->req_len;
        if (!l->resp_len) {             /* the responder must have seen them all */
            uint64_t seen = 0;
            for (i = 0; i < 8; i++)
                seen = seen << 8 | s.count[i];
            if (seen != l->frames)
                l->failed = 1;
        }
    }
    l->wall_ns = bench_ns() - t0;
    free(s.out);
    free(sink);
}

static uint64_t bench_rusage_ns(const struct rusage *ru)
{
    return ((uint64_t)ru->ru_utime.tv_sec + (uint64_t)ru->ru_stime.tv_sec) * 1000000000u +
           ((uint64_t)ru->ru_utime.tv_usec + (uint64_t)ru->ru_stime.tv_usec) * 1000u;
}

/* Runs one measurement of l (pingpong, req_len, resp_len set) for dur_ns.
 * The responder's CPU time comes from wait4(): all of it, no race with its
 * exit. */
static void bench_limit_measure(bench_limit *l, uint64_t dur_ns)
{
    uint16_t port = 0;
    int lfd = bench_listen(&port), fd, status;
    pid_t pid;
    uint64_t cpu0;
    struct rusage ru;
    l->frames = 0;
    l->failed = 0;
    l->peer_cpu_ns = 0;
    if (lfd < 0 || (pid = bench_responder(lfd, l->resp_len)) < 0) {
        if (lfd >= 0)
            close(lfd);
        l->failed = 1;
        return;
    }
    close(lfd);
    fd = bench_dial(port);
    cpu0 = bench_cpu_ns();
    if (fd < 0)
        l->failed = 1;
    else if (l->pingpong)
        bench_pingpong_run(l, fd, dur_ns);
    else
        bench_stream_run(l, fd, dur_ns);
    l->cpu_ns = bench_cpu_ns() - cpu0;
    if (fd >= 0)
        close(fd);
    else
        kill(pid, SIGTERM);
    if (wait4(pid, &status, 0, &ru) == pid)
        l->peer_cpu_ns = bench_rusage_ns(&ru);
}

#endif /* BENCH_LIMIT_H */
