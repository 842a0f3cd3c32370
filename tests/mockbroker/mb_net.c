/* mb_net.c - the single-threaded poll() loop: listeners, buffered
 * non-blocking connections, and a timer heap for delayed responses. */
#include "mb_app.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK 65536
/* Reads per wake-up of one connection at most, so others get their turn. */
#define READ_ROUNDS 16
/* Stop reading from a client that does not read its responses. */
#define OUT_BACKLOG_LIMIT (64u << 20)

static volatile sig_atomic_t g_signalled;
/* Self-pipe: a signal landing between the loop's check and poll() still
 * wakes poll() up. */
static int g_sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    (void)sig;
    g_signalled = 1;
    if (g_sig_pipe[1] >= 0 && write(g_sig_pipe[1], "s", 1) < 0) {
        /* pipe full: a wake-up is already pending */
    }
    errno = saved;
}

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL, 0);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int mb_listen(int port, int *bound_port)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* never reachable from outside */
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 1024) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
        close(fd);
        return -1;
    }
    set_nonblock(fd);
    *bound_port = ntohs(sa.sin_port);
    return fd;
}

/* ---- connection slots ---- */

mb_conn *mb_conn_get(mb_app *app, mb_conn_ref ref)
{
    mb_conn *c;
    if (ref.slot >= app->nconns)
        return NULL;
    c = app->conns[ref.slot];
    return (c->in_use && c->gen == ref.gen) ? c : NULL;
}

mb_conn_ref mb_conn_ref_of(const mb_conn *c)
{
    mb_conn_ref r;
    r.slot = c->slot;
    r.gen = c->gen;
    return r;
}

static mb_conn *conn_alloc(mb_app *app, int fd, int kind, mb_server *srv)
{
    mb_conn *c;
    if (app->nfree) {
        c = app->conns[app->free_slots[--app->nfree]];
    } else {
        app->conns = mb_xrealloc(app->conns, (app->nconns + 1) * sizeof *app->conns);
        app->free_slots = mb_xrealloc(app->free_slots, (app->nconns + 1) * sizeof *app->free_slots);
        c = mb_xcalloc(1, sizeof *c);
        c->slot = app->nconns;
        app->conns[app->nconns++] = c;
    }
    c->in_use = 1;
    c->fd = fd;
    c->kind = kind;
    c->srv = srv;
    c->cut_left = -1;
    c->close_after_flush = 0;
    c->out_pos = 0;
    return c;
}

void mb_conn_close(mb_app *app, mb_conn *c)
{
    if (!c->in_use)
        return;
    close(c->fd);
    mb_buf_free(&c->in);
    mb_buf_free(&c->out);
    c->out_pos = 0;
    c->in_use = 0;
    c->gen++;
    app->free_slots[app->nfree++] = c->slot;
}

void mb_conn_write(mb_conn *c, const void *data, size_t len)
{
    if (c->in_use)
        mb_buf_put(&c->out, data, len);
}

void mb_conn_flush(mb_app *app, mb_conn *c)
{
    while (c->in_use && c->out_pos < c->out.len) {
        ssize_t n = write(c->fd, c->out.p + c->out_pos, c->out.len - c->out_pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            mb_conn_close(app, c);
            return;
        }
        c->out_pos += (size_t)n;
    }
    if (!c->in_use)
        return;
    if (c->out.cap > (1u << 20))
        mb_buf_free(&c->out); /* do not keep a HUGE response's buffer around */
    c->out.len = c->out_pos = 0;
    if (c->close_after_flush)
        mb_conn_close(app, c);
}

/* ---- servers ---- */

int mb_server_up(mb_app *app, mb_server *s)
{
    int port;
    (void)app;
    if (s->lfd >= 0)
        return 0;
    s->lfd = mb_listen(s->port, &port);
    if (s->lfd < 0)
        return -1;
    s->port = port; /* keep the port so UP reopens the same one */
    /* A broker also serves its VIP channel at port - 2 (the fast remoting
     * server); a port that is taken only leaves the channel out. */
    if (s->is_broker && port > 2)
        s->vip_lfd = mb_listen(port - 2, &port);
    return 0;
}

void mb_server_down(mb_app *app, mb_server *s)
{
    size_t i;
    if (s->lfd >= 0)
        close(s->lfd);
    if (s->vip_lfd >= 0)
        close(s->vip_lfd);
    s->lfd = s->vip_lfd = -1;
    for (i = 0; i < app->nconns; i++)
        if (app->conns[i]->in_use && app->conns[i]->srv == s)
            mb_conn_close(app, app->conns[i]);
}

static void accept_all(mb_app *app, int lfd, int kind, mb_server *srv)
{
    for (;;) {
        struct sockaddr_in sa;
        socklen_t sl = sizeof sa;
        int one = 1;
        mb_conn *c;
        int fd = accept(lfd, (struct sockaddr *)&sa, &sl);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                mb_log(app, "accept: %s", strerror(errno));
            return;
        }
        set_nonblock(fd);
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c = conn_alloc(app, fd, kind, srv);
        c->peer_port = ntohs(sa.sin_port);
        if (srv && srv->cut_next >= 0) { /* CUT also applies to the next client */
            c->cut_left = srv->cut_next;
            srv->cut_next = -1;
            if (c->cut_left == 0)
                mb_conn_close(app, c);
        }
    }
}

/* ---- timers (min-heap ordered by due time, then insertion) ---- */

static int timer_less(const mb_timer *a, const mb_timer *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void timer_swap(mb_timer *a, mb_timer *b)
{
    mb_timer t = *a;
    *a = *b;
    *b = t;
}

void mb_timer_add(mb_app *app, int64_t due, mb_conn_ref ref, const void *data, size_t len)
{
    size_t i;
    mb_timer *t;
    if (app->ntimers == app->timers_cap) {
        app->timers_cap = app->timers_cap ? app->timers_cap * 2 : 64;
        app->timers = mb_xrealloc(app->timers, app->timers_cap * sizeof *app->timers);
    }
    i = app->ntimers++;
    t = &app->timers[i];
    t->due = due;
    t->seq = app->timer_seq++;
    t->ref = ref;
    t->data = mb_xmalloc(len);
    memcpy(t->data, data, len);
    t->len = len;
    while (i > 0 && timer_less(&app->timers[i], &app->timers[(i - 1) / 2])) {
        timer_swap(&app->timers[i], &app->timers[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
}

static void timer_pop(mb_app *app, mb_timer *out)
{
    size_t i = 0, n;
    *out = app->timers[0];
    n = --app->ntimers;
    app->timers[0] = app->timers[n];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && timer_less(&app->timers[l], &app->timers[m]))
            m = l;
        if (r < n && timer_less(&app->timers[r], &app->timers[m]))
            m = r;
        if (m == i)
            break;
        timer_swap(&app->timers[i], &app->timers[m]);
        i = m;
    }
}

static void run_timers(mb_app *app)
{
    int64_t now;
    if (!app->ntimers)
        return;
    now = mb_mono_ms();
    while (app->ntimers && app->timers[0].due <= now) {
        mb_timer t;
        mb_conn *c;
        timer_pop(app, &t);
        c = mb_conn_get(app, t.ref);
        if (c) {
            mb_conn_write(c, t.data, t.len);
            mb_conn_flush(app, c);
        }
        free(t.data);
    }
}

static int poll_timeout(mb_app *app)
{
    int64_t d;
    if (!app->ntimers)
        return -1;
    d = app->timers[0].due - mb_mono_ms();
    if (d < 0)
        d = 0;
    return d > 60000 ? 60000 : (int)d;
}

/* ---- input processing ---- */

static int process_remoting(mb_app *app, mb_conn *c)
{
    size_t pos = 0, total;
    for (;;) {
        int r = mb_frame_length(c->in.p + pos, c->in.len - pos, &total);
        if (r < 0) { /* the real decoder closes the channel without a reply */
            mb_conn_close(app, c);
            return -1;
        }
        if (r == 0 || total > c->in.len - pos)
            break;
        if (mb_remoting_on_frame(app, c, c->in.p + pos, total) < 0)
            return -1;
        pos += total;
    }
    mb_buf_consume(&c->in, pos);
    return 0;
}

static int process_control(mb_app *app, mb_conn *c)
{
    size_t pos = 0;
    for (;;) {
        unsigned char *nl = memchr(c->in.p + pos, '\n', c->in.len - pos);
        if (!nl)
            break;
        *nl = '\0';
        if (nl > c->in.p + pos && nl[-1] == '\r')
            nl[-1] = '\0';
        if (mb_control_on_line(app, c, (char *)c->in.p + pos) < 0)
            return -1;
        pos = (size_t)(nl - c->in.p) + 1;
    }
    mb_buf_consume(&c->in, pos);
    return 0;
}

/* How much to read: a whole announced frame at once when it is large. */
static size_t read_size(const mb_conn *c)
{
    size_t want = READ_CHUNK, total;
    if (c->kind == CONN_REMOTING && mb_frame_length(c->in.p, c->in.len, &total) == 1 &&
        total > c->in.len && total - c->in.len > want)
        want = total - c->in.len;
    if (c->cut_left >= 0 && (uint64_t)c->cut_left < want)
        want = (size_t)c->cut_left;
    return want;
}

/* Reads while reads fill what was asked for (a burst larger than one
 * chunk costs no extra poll), handles every complete frame or line after
 * each read, and writes what they produced once at the end. */
static void conn_readable(mb_app *app, mb_conn *c)
{
    int round;
    for (round = 0; round < READ_ROUNDS; round++) {
        size_t want = read_size(c);
        ssize_t n;
        int rc = 0;
        mb_buf_reserve(&c->in, want);
        n = read(c->fd, c->in.p + c->in.len, want);
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0 && round > 0)
            break; /* answer what came first; the next wake-up sees the end again */
        if (n <= 0) {
            mb_conn_close(app, c);
            return;
        }
        c->in.len += (size_t)n;
        c->in.p[c->in.len] = '\0';
        if (c->cut_left > 0)
            c->cut_left -= n;
        if (c->kind == CONN_REMOTING)
            rc = process_remoting(app, c);
        else if (c->kind == CONN_CONTROL)
            rc = process_control(app, c);
        else
            rc = mb_http_on_data(app, c);
        if (rc < 0 || !c->in_use)
            return;
        if (c->cut_left == 0) { /* CUT: frames in the budget were handled, answers are lost */
            mb_conn_close(app, c);
            return;
        }
        if ((size_t)n < want || c->out.len - c->out_pos >= OUT_BACKLOG_LIMIT)
            break;
    }
    mb_conn_flush(app, c);
}

/* ---- the loop ---- */

enum { TAG_SERVER, TAG_CONTROL, TAG_HTTP, TAG_STDIN, TAG_SIGNAL, TAG_CONN };

typedef struct poll_tag {
    int kind;
    size_t idx;
    unsigned gen;
} poll_tag;

typedef struct poll_set {
    struct pollfd *fds;
    poll_tag *tags;
    size_t n, cap;
} poll_set;

static void poll_add(poll_set *ps, int fd, short events, int kind, size_t idx, unsigned gen)
{
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? ps->cap * 2 : 64;
        ps->fds = mb_xrealloc(ps->fds, ps->cap * sizeof *ps->fds);
        ps->tags = mb_xrealloc(ps->tags, ps->cap * sizeof *ps->tags);
    }
    ps->fds[ps->n].fd = fd;
    ps->fds[ps->n].events = events;
    ps->fds[ps->n].revents = 0;
    ps->tags[ps->n].kind = kind;
    ps->tags[ps->n].idx = idx;
    ps->tags[ps->n].gen = gen;
    ps->n++;
}

static void build_poll_set(mb_app *app, poll_set *ps, int stdin_open)
{
    size_t i;
    ps->n = 0;
    for (i = 0; i < app->nservers; i++)
        if (app->servers[i].lfd >= 0) {
            poll_add(ps, app->servers[i].lfd, POLLIN, TAG_SERVER, i, 0);
            if (app->servers[i].vip_lfd >= 0)
                poll_add(ps, app->servers[i].vip_lfd, POLLIN, TAG_SERVER, i, 0);
        }
    poll_add(ps, app->ctl_lfd, POLLIN, TAG_CONTROL, 0, 0);
    poll_add(ps, app->http_lfd, POLLIN, TAG_HTTP, 0, 0);
    if (stdin_open)
        poll_add(ps, 0, POLLIN, TAG_STDIN, 0, 0);
    if (g_sig_pipe[0] >= 0)
        poll_add(ps, g_sig_pipe[0], POLLIN, TAG_SIGNAL, 0, 0);
    for (i = 0; i < app->nconns; i++) {
        mb_conn *c = app->conns[i];
        short ev = 0;
        size_t pending;
        if (!c->in_use)
            continue;
        pending = c->out.len - c->out_pos;
        if (pending < OUT_BACKLOG_LIMIT)
            ev |= POLLIN;
        if (pending)
            ev |= POLLOUT;
        poll_add(ps, c->fd, ev, TAG_CONN, i, c->gen);
    }
}

static void stdin_readable(mb_app *app, int *stdin_open)
{
    char buf[4096];
    ssize_t n = read(0, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        *stdin_open = 0;
        mb_log(app, "stdin closed, exiting");
        app->quit = 1;
    }
}

static void handle_event(mb_app *app, const struct pollfd *pf, const poll_tag *t, int *stdin_open)
{
    mb_conn *c;
    mb_conn_ref ref;
    switch (t->kind) {
    case TAG_SERVER:
        if (app->servers[t->idx].lfd == pf->fd || app->servers[t->idx].vip_lfd == pf->fd)
            accept_all(app, pf->fd, CONN_REMOTING, &app->servers[t->idx]);
        return;
    case TAG_CONTROL:
        accept_all(app, pf->fd, CONN_CONTROL, NULL);
        return;
    case TAG_HTTP:
        accept_all(app, pf->fd, CONN_HTTP, NULL);
        return;
    case TAG_STDIN:
        stdin_readable(app, stdin_open);
        return;
    case TAG_SIGNAL:
        return; /* g_signalled ends the loop */
    default:
        ref.slot = t->idx;
        ref.gen = t->gen;
        c = mb_conn_get(app, ref); /* may have been closed by an earlier event */
        if (!c)
            return;
        if (pf->revents & POLLOUT)
            mb_conn_flush(app, c);
        if (c->in_use && (pf->revents & (POLLIN | POLLHUP | POLLERR)))
            conn_readable(app, c);
    }
}

void mb_install_signals(void)
{
    struct sigaction sa;
    if (pipe(g_sig_pipe) == 0) {
        set_nonblock(g_sig_pipe[0]);
        set_nonblock(g_sig_pipe[1]);
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() must return */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int mb_loop_run(mb_app *app)
{
    poll_set ps;
    int stdin_open = app->opt.exit_on_eof;
    size_t i;
    memset(&ps, 0, sizeof ps);
    while (!app->quit && !g_signalled) {
        int n;
        build_poll_set(app, &ps, stdin_open);
        n = poll(ps.fds, (nfds_t)ps.n, poll_timeout(app));
        if (n < 0 && errno != EINTR) {
            mb_log(app, "poll: %s", strerror(errno));
            break;
        }
        run_timers(app);
        for (i = 0; n > 0 && i < ps.n && !app->quit; i++)
            if (ps.fds[i].revents)
                handle_event(app, &ps.fds[i], &ps.tags[i], &stdin_open);
    }
    /* let the QUIT reply reach the control client */
    for (i = 0; i < app->nconns; i++)
        if (app->conns[i]->in_use && app->conns[i]->kind == CONN_CONTROL)
            mb_conn_flush(app, app->conns[i]);
    free(ps.fds);
    free(ps.tags);
    return 0;
}
