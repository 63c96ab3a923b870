/*
 * serve.c - the socket: one poll loop over the listening socket and the
 * connections; each line is a request, each reply a line.  A request
 * that runs long (compact, purge, load-commit) runs on its own thread
 * while the loop serves everyone else; that connection waits for it.
 * A bad request gets an error reply; a line past the limit or bytes that
 * are not JSON end that connection only.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
    int closing; /* close once the slow request is done */
    jd *d;
    json_t *slow_req;
} client;

static void
send_reply(client *c, json_t *reply)
{
    char *s = json_dumps(reply, JSON_COMPACT);
    size_t len, off = 0;
    ssize_t n;

    if (s == NULL)
        return;
    len = strlen(s);
    s[len] = '\0';
    while (off < len) {
        n = send(c->fd, s + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* the peer went away or stopped reading: its loss */
        off += (size_t)n;
    }
    if (off == len)
        send(c->fd, "\n", 1, MSG_NOSIGNAL);
    free(s);
}

static void *
run_slow(void *arg)
{
    client *c = arg;
    json_t *reply = jd_handle(c->d, &c->peer, c->slow_req, &c->batch);
    char b = 1;

    send_reply(c, reply);
    json_decref(reply);
    json_decref(c->slow_req);
    c->slow_req = NULL;
    __atomic_store_n(&c->busy, 0, __ATOMIC_RELEASE);
    if (write(c->d->wake_fd[1], &b, 1) < 0) {
        /* the loop also wakes on its timeout */
    }
    return NULL;
}

static void
client_free(client *c)
{
    close(c->fd);
    free(c->buf);
    jd_batch_free(c->batch);
    free(c);
}

/* Handle the complete lines in c's buffer; -1 to close the connection. */
static int
handle_lines(jd *d, client *c)
{
    json_error_t je;
    json_t *req, *reply;
    pthread_t t;
    char *nl;
    size_t n;

    while (!c->busy && (nl = memchr(c->buf, '\n', c->len)) != NULL) {
        n = (size_t)(nl - c->buf);
        req = json_loadb(c->buf, n, JSON_REJECT_DUPLICATES, &je);
        memmove(c->buf, nl + 1, c->len - n - 1);
        c->len -= n + 1;
        if (req == NULL) {
            reply =
                json_pack("{s:b, s:s, s:s}", "ok", 0, "code", "config_error",
                          "error", "a request is one line of JSON");
            send_reply(c, reply);
            json_decref(reply);
            jd_log(LOG_WARNING, "uid %ld: a request that is not JSON (%s)",
                   (long)c->peer.uid, je.text);
            __atomic_add_fetch(&d->bad_requests, 1, __ATOMIC_RELAXED);
            continue;
        }
        if (jd_is_slow(req) && c->peer.role == JD_ADMIN) {
            c->slow_req = req;
            c->busy = 1;
            if (pthread_create(&t, NULL, run_slow, c) == 0) {
                pthread_detach(t);
                return 0;
            }
            c->busy = 0;
            c->slow_req = NULL;
        }
        reply = jd_handle(d, &c->peer, req, &c->batch);
        send_reply(c, reply);
        json_decref(reply);
        json_decref(req);
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
               "uid %ld: a request line over %d bytes: "
               "connection closed",
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

int
jd_serve(jd *d)
{
    static client *clients[MAX_CLIENTS];
    struct pollfd pfd[MAX_CLIENTS + 2];
    size_t n = 0, i, j;
    char drain[64];
    int rc;

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
        }
        rc = poll(pfd, n + 2, 1000);
        if (rc < 0 && errno != EINTR)
            return -1;
        if (rc <= 0)
            continue;
        if (pfd[1].revents & POLLIN) {
            while (read(d->wake_fd[0], drain, sizeof(drain)) == sizeof(drain))
                ;
        }
        for (i = j = 0; i < n; i++) {
            client *c = clients[i];
            int gone = 0;

            if (__atomic_load_n(&c->busy, __ATOMIC_ACQUIRE)) {
                clients[j++] = c;
                continue;
            }
            if (pfd[i + 2].revents & (POLLIN | POLLHUP | POLLERR))
                gone = read_client(d, c) != 0;
            else if (c->len > 0)
                gone = handle_lines(d, c) != 0; /* left after a slow one */
            if (gone)
                client_free(c);
            else
                clients[j++] = c;
        }
        n = j;
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
