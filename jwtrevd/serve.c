/*
 * serve.c - the socket: one poll loop over the listening socket and the
 * connections; each line is a request, each reply a line.
 *
 * Writes are committed in groups: every write that arrived by the time
 * the loop looks (one per connection, up to JD_GROUP_MAX) goes into one
 * store write, so many concurrent logouts cost one delta rewrite and one
 * sync, not one each.  A connection's next request is read only after
 * its write is answered, so its replies keep its order.  A request that
 * runs long (compact, purge, load-commit, a write waiting for the fleet)
 * runs on its own thread while the loop serves everyone else.  A bad
 * request gets an error reply; a line past the limit ends that
 * connection only.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "jwtrevd.h"

#define MAX_CLIENTS 512
#define SEND_TIMEOUT_S 5
/* A request line may carry a load chunk; a token request is small. */
#define REQUEST_MAX JWTREV_DAEMON_LINE_MAX

typedef struct client {
    int fd;
    jd_peer peer;
    char *buf;
    size_t len, cap;
    void *batch; /* load-add: entries collected until load-commit */
    int busy;    /* a slow request runs on its thread (atomic) */
    jd *d;
    json_t *slow_req;      /* compact, purge, load-commit */
    jd_write write;        /* a write in the group being made */
    int in_group;          /* write is in the group */
    json_t *waiting_reply; /* a write's reply held until the fleet has it */
} client;

/* The descriptor a reply carries ("_fd"), sent beside its first byte. */
static ssize_t
send_first(client *c, const char *s, size_t len, int fd)
{
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct msghdr mh;
    struct cmsghdr *cm;
    struct iovec iov = {(void *)(uintptr_t)s, len};

    memset(&mh, 0, sizeof(mh));
    memset(cbuf, 0, sizeof(cbuf));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof(cbuf);
    cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    return sendmsg(c->fd, &mh, MSG_NOSIGNAL);
}

static void
send_reply(client *c, json_t *reply)
{
    json_t *fdv = json_object_get(reply, "_fd");
    int fd = json_is_integer(fdv) ? (int)json_integer_value(fdv) : -1;
    char *s;
    size_t len, off = 0;
    ssize_t n;

    if (fd >= 0)
        json_object_del(reply, "_fd");
    s = json_dumps(reply, JSON_COMPACT);
    if (s == NULL) {
        if (fd >= 0)
            close(fd);
        return;
    }
    len = strlen(s);
    while (off < len) {
        n = fd >= 0 ? send_first(c, s + off, len - off, fd)
                    : send(c->fd, s + off, len - off, MSG_NOSIGNAL);
        if (n > 0 && fd >= 0) {
            close(fd);
            fd = -1;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* the peer went away or stopped reading: its loss */
        off += (size_t)n;
    }
    if (off == len)
        send(c->fd, "\n", 1, MSG_NOSIGNAL);
    if (fd >= 0)
        close(fd);
    free(s);
}

static void
wake_loop(jd *d)
{
    char b = 1;

    if (write(d->wake_fd[1], &b, 1) < 0) {
        /* the loop also wakes on its timeout */
    }
}

static void *
run_slow(void *arg)
{
    client *c = arg;
    json_t *reply = jd_handle(c->d, &c->peer, c->slow_req, &c->batch);

    send_reply(c, reply);
    json_decref(reply);
    json_decref(c->slow_req);
    c->slow_req = NULL;
    __atomic_store_n(&c->busy, 0, __ATOMIC_RELEASE);
    wake_loop(c->d);
    return NULL;
}

/* A write that asked to wait for the fleet's database: its reply then. */
static void *
run_wait_fleet(void *arg)
{
    client *c = arg;
    int sent = jd_fleet_wait(c->d, c->write.ticket, c->write.wait_fleet_ms);

    json_object_set_new(c->waiting_reply, "fleet",
                        json_string(sent ? "committed" : "timeout"));
    send_reply(c, c->waiting_reply);
    json_decref(c->waiting_reply);
    c->waiting_reply = NULL;
    jd_write_clear(&c->write);
    __atomic_store_n(&c->busy, 0, __ATOMIC_RELEASE);
    wake_loop(c->d);
    return NULL;
}

static int
start_thread(client *c, void *(*fn)(void *))
{
    pthread_t t;

    c->busy = 1;
    if (pthread_create(&t, NULL, fn, c) != 0) {
        c->busy = 0;
        return -1;
    }
    pthread_detach(t);
    return 0;
}

static void
client_free(client *c)
{
    close(c->fd);
    free(c->buf);
    jd_batch_free(c->batch);
    jd_write_clear(&c->write);
    free(c);
}

static void
reply_and_drop(client *c, json_t *reply)
{
    send_reply(c, reply);
    json_decref(reply);
}

/*
 * Handle c's complete lines up to its first write, which joins the group
 * (the caller commits it); 0, or -1 to close the connection.
 */
static int
handle_lines(jd *d, client *c)
{
    json_error_t je;
    json_t *req, *reply;
    char *nl;
    size_t n;

    while (!c->busy && !c->in_group &&
           (nl = memchr(c->buf, '\n', c->len)) != NULL) {
        n = (size_t)(nl - c->buf);
        req = json_loadb(c->buf, n, JSON_REJECT_DUPLICATES, &je);
        memmove(c->buf, nl + 1, c->len - n - 1);
        c->len -= n + 1;
        if (req == NULL) {
            jd_log(LOG_WARNING, "uid %ld: a request that is not JSON (%s)",
                   (long)c->peer.uid, je.text);
            __atomic_add_fetch(&d->bad_requests, 1, __ATOMIC_RELAXED);
            reply_and_drop(c, json_pack("{s:b, s:s, s:s}", "ok", 0, "code",
                                        "config_error", "error",
                                        "a request is one line of JSON"));
            continue;
        }
        reply = jd_authorize(d, &c->peer, req);
        if (reply == NULL && jd_is_write(req)) {
            reply = jd_prepare(d, &c->peer, req, &c->write);
            c->in_group = reply == NULL;
        } else if (reply == NULL && jd_is_slow(req)) {
            c->slow_req = req;
            if (start_thread(c, run_slow) == 0)
                return 0;
            c->slow_req = NULL;
            reply = jd_handle(d, &c->peer, req, &c->batch);
        } else if (reply == NULL) {
            reply = jd_handle(d, &c->peer, req, &c->batch);
        }
        json_decref(req);
        if (reply != NULL)
            reply_and_drop(c, reply);
    }
    return 0;
}

/* Read what c sent; -1 when it is gone or broke the rules. */
static int
read_client(jd *d, client *c)
{
    char *nb;
    ssize_t n;

    if (c->len > REQUEST_MAX) {
        jd_log(LOG_WARNING,
               "uid %ld: a request line over %d bytes: connection closed",
               (long)c->peer.uid, REQUEST_MAX);
        return -1;
    }
    if (c->cap - c->len < 4096) {
        c->cap = c->cap ? c->cap * 2 : 8192;
        nb = realloc(c->buf, c->cap);
        if (nb == NULL)
            return -1;
        c->buf = nb;
    }
    n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n <= 0)
        return -1;
    c->len += (size_t)n;
    return handle_lines(d, c);
}

/* Commit the group's writes in one store write and answer each. */
static void
commit_group(jd *d, client **clients, size_t n)
{
    jd_write *w[JD_GROUP_MAX];
    client *who[JD_GROUP_MAX];
    json_t *replies[JD_GROUP_MAX];
    size_t i, k = 0;

    for (i = 0; i < n && k < JD_GROUP_MAX; i++) {
        if (clients[i]->in_group) {
            who[k] = clients[i];
            w[k++] = &clients[i]->write;
        }
    }
    if (k == 0)
        return;
    jd_commit(d, w, k, replies);
    for (i = 0; i < k; i++) {
        client *c = who[i];

        c->in_group = 0;
        if (c->write.wait_fleet_ms > 0 &&
            json_is_true(json_object_get(replies[i], "ok"))) {
            c->waiting_reply = replies[i];
            if (start_thread(c, run_wait_fleet) == 0)
                continue;
            c->waiting_reply = NULL;
        }
        reply_and_drop(c, replies[i]);
        jd_write_clear(&c->write);
    }
}

static void
accept_one(jd *d, client **clients, size_t *n)
{
    struct timeval tv = {SEND_TIMEOUT_S, 0};
    client *c;
    int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC);

    if (fd < 0)
        return;
    if (*n >= MAX_CLIENTS) {
        jd_log(LOG_WARNING, "%d connections open: one refused", MAX_CLIENTS);
        close(fd);
        return;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL || jd_peer_of(fd, &d->conf, &c->peer) != 0) {
        free(c);
        close(fd);
        return;
    }
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    c->fd = fd;
    c->d = d;
    clients[(*n)++] = c;
}

/* A connection with a complete line it has not had answered. */
static int
has_line(const client *c)
{
    return !__atomic_load_n(&c->busy, __ATOMIC_ACQUIRE) && !c->in_group &&
           c->len > 0 && memchr(c->buf, '\n', c->len) != NULL;
}

int
jd_serve(jd *d)
{
    static client *clients[MAX_CLIENTS];
    struct pollfd pfd[MAX_CLIENTS + 2];
    size_t n = 0, i, j;
    char drain[64];
    int rc, pending = 0;

    while (!d->stopping) {
        pfd[0].fd = d->listen_fd;
        pfd[0].events = POLLIN;
        pfd[1].fd = d->wake_fd[0];
        pfd[1].events = POLLIN;
        for (i = 0; i < n; i++) {
            pfd[i + 2].fd = clients[i]->fd;
            /* A busy connection is not read until its reply is out. */
            pfd[i + 2].events =
                __atomic_load_n(&clients[i]->busy, __ATOMIC_ACQUIRE) ? 0
                                                                     : POLLIN;
            pfd[i + 2].revents = 0;
        }
        rc = poll(pfd, n + 2, pending ? 0 : 1000);
        if (rc < 0 && errno != EINTR)
            return -1;
        if (rc < 0)
            continue;
        if (pfd[1].revents & POLLIN) {
            while (read(d->wake_fd[0], drain, sizeof(drain)) == sizeof(drain))
                ;
        }
        for (i = j = 0; i < n; i++) {
            client *c = clients[i];
            int gone = 0;

            if (!__atomic_load_n(&c->busy, __ATOMIC_ACQUIRE)) {
                if (pfd[i + 2].revents & (POLLIN | POLLHUP | POLLERR))
                    gone = read_client(d, c) != 0;
                else if (has_line(c))
                    gone = handle_lines(d, c) != 0;
            }
            if (gone && !c->in_group)
                client_free(c);
            else
                clients[j++] = c;
        }
        n = j;
        commit_group(d, clients, n);
        for (i = pending = 0; i < n; i++)
            pending |= has_line(clients[i]);
        if (pfd[0].revents & POLLIN)
            accept_one(d, clients, &n);
    }
    for (i = 0; i < n; i++) {
        while (__atomic_load_n(&clients[i]->busy, __ATOMIC_ACQUIRE))
            usleep(10000); /* a fold finishing: its reply goes out */
        client_free(clients[i]);
    }
    return 0;
}
