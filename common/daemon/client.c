/*
 * client.c - the client side of jwtrevd's protocol (jwtrev_daemon.h),
 * and the writes a module makes, routed through the store's daemon when
 * one owns the store.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "jwtrev_daemon.h"

struct jwtrev_daemon {
    int fd;
    long timeout_ms;
    char *buf; /* bytes read past the last reply */
    size_t len, cap;
    char socket[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
jwtrev_daemon_connect(const char *socket_path, long timeout_ms,
                      jwtrev_daemon **out, jwtrev_error *err)
{
    struct sockaddr_un sa;
    jwtrev_daemon *d;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (socket_path[0] != '/' || strlen(socket_path) >= sizeof(sa.sun_path))
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "daemon socket %s: not an absolute path of at "
                           "most %zu bytes",
                           socket_path, sizeof(sa.sun_path) - 1);
    d = calloc(1, sizeof(*d));
    if (d == NULL)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    memcpy(sa.sun_path, socket_path, strlen(socket_path));
    memcpy(d->socket, socket_path, strlen(socket_path) + 1);
    d->timeout_ms = timeout_ms;
    d->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (d->fd < 0 || connect(d->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                    "jwtrevd at %s: %s (is jwtrevd running? systemctl "
                    "status jwtrevd)",
                    socket_path, strerror(errno));
        jwtrev_daemon_close(d);
        return -JWTREV_ERR_DB_ERROR;
    }
    *out = d;
    return 0;
}

void
jwtrev_daemon_close(jwtrev_daemon *d)
{
    if (d == NULL)
        return;
    if (d->fd >= 0)
        close(d->fd);
    free(d->buf);
    free(d);
}

static int
send_all(jwtrev_daemon *d, const char *p, size_t len, jwtrev_error *err)
{
    ssize_t n;

    while (len > 0) {
        n = send(d->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                               "jwtrevd at %s: cannot send: %s", d->socket,
                               strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Read until a newline is buffered; its offset in *nl. */
static int
read_line(jwtrev_daemon *d, size_t *nl, jwtrev_error *err)
{
    long deadline = now_ms() + d->timeout_ms, left;
    struct pollfd pfd;
    char *p, *nb;
    ssize_t n;

    for (;;) {
        p = d->len > 0 ? memchr(d->buf, '\n', d->len) : NULL;
        if (p != NULL) {
            *nl = (size_t)(p - d->buf);
            return 0;
        }
        if (d->len >= JWTREV_DAEMON_LINE_MAX)
            return jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                               "jwtrevd at %s: reply too long", d->socket);
        if (d->cap - d->len < 4096) {
            d->cap = d->cap ? d->cap * 2 : 8192;
            nb = realloc(d->buf, d->cap);
            if (nb == NULL)
                return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
            d->buf = nb;
        }
        left = deadline - now_ms();
        pfd.fd = d->fd;
        pfd.events = POLLIN;
        if (left <= 0 || poll(&pfd, 1, (int)left) == 0)
            return jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                               "jwtrevd at %s: no reply within %ld ms",
                               d->socket, d->timeout_ms);
        n = recv(d->fd, d->buf + d->len, d->cap - d->len, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return jwtrev_fail(
                err, JWTREV_ERR_DB_ERROR, "jwtrevd at %s: %s", d->socket,
                n == 0 ? "closed the connection" : strerror(errno));
        d->len += (size_t)n;
    }
}

/* The code of a reason name on the wire (unknown: db_error). */
static int
code_of(const char *name)
{
    int c;

    for (c = 1; name != NULL && c < JWTREV_ERR_COUNT; c++) {
        if (strcmp(jwtrev_reason(-c), name) == 0)
            return c;
    }
    return JWTREV_ERR_DB_ERROR;
}

int
jwtrev_daemon_call(jwtrev_daemon *d, json_t *req, json_t **reply,
                   jwtrev_error *err)
{
    json_error_t je;
    json_t *r;
    char *line = json_dumps(req, JSON_COMPACT);
    size_t nl = 0;
    int rc;

    *reply = NULL;
    if (line == NULL)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    rc = send_all(d, line, strlen(line), err);
    if (rc == 0)
        rc = send_all(d, "\n", 1, err);
    free(line);
    if (rc == 0)
        rc = read_line(d, &nl, err);
    if (rc != 0)
        return rc;
    r = json_loadb(d->buf, nl, JSON_REJECT_DUPLICATES, &je);
    d->len -= nl + 1;
    memmove(d->buf, d->buf + nl + 1, d->len);
    if (!json_is_object(r)) {
        json_decref(r);
        return jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                           "jwtrevd at %s: a reply that is not a JSON object",
                           d->socket);
    }
    *reply = r;
    if (json_is_true(json_object_get(r, "ok")))
        return 0;
    rc = code_of(json_string_value(json_object_get(r, "code")));
    return jwtrev_fail(err, rc, "jwtrevd: %s",
                       json_is_string(json_object_get(r, "error"))
                           ? json_string_value(json_object_get(r, "error"))
                           : "refused");
}

int
jwtrev_daemon_request(const char *socket_path, json_t *req, long timeout_ms,
                      json_t **reply, jwtrev_error *err)
{
    jwtrev_daemon *d;
    int rc = jwtrev_daemon_connect(socket_path, timeout_ms, &d, err);

    *reply = NULL;
    if (rc != 0)
        return rc;
    rc = jwtrev_daemon_call(d, req, reply, err);
    jwtrev_daemon_close(d);
    return rc;
}

int
jwtrev_daemon_for_store(const char *dir, const char *override, char *socket,
                        size_t len, jwtrev_error *err)
{
    if (override != NULL) {
        if (strlen(override) >= len)
            return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                               "daemon socket %s: path too long", override);
        memcpy(socket, override, strlen(override) + 1);
        return 1;
    }
    return jwtrev_store_daemon_get(dir, socket, len, err);
}

int
jwtrev_daemon_notify(const char *socket_path, json_t *req)
{
    struct sockaddr_un sa;
    char *line;
    size_t len;
    ssize_t n;
    int fd, rc = -1;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (socket_path[0] != '/' || strlen(socket_path) >= sizeof(sa.sun_path))
        return -1;
    memcpy(sa.sun_path, socket_path, strlen(socket_path));
    line = json_dumps(req, JSON_COMPACT);
    if (line == NULL)
        return -1;
    len = strlen(line);
    line[len] = '\n'; /* json_dumps left room for its NUL: we send that */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    /* Never waits: a full backlog or a full buffer and it is dropped. */
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        n = send(fd, line, len + 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        rc = n == (ssize_t)(len + 1) ? 0 : -1;
    }
    if (fd >= 0)
        close(fd);
    free(line);
    return rc;
}

int
jwtrev_daemon_ask_keys(const char *dir, const char *const *files, size_t n,
                       char *used, size_t used_len)
{
    char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
    jwtrev_error err;
    struct stat st;
    json_t *req, *list = json_array();
    size_t i;
    int rc;

    /* The daemon that owns the store, else the default one. */
    if (dir == NULL ||
        jwtrev_daemon_for_store(dir, NULL, sock, sizeof(sock), &err) != 1) {
        if (stat(JWTREV_DAEMON_SOCKET, &st) != 0 || !S_ISSOCK(st.st_mode)) {
            json_decref(list);
            return -1;
        }
        memcpy(sock, JWTREV_DAEMON_SOCKET, sizeof(JWTREV_DAEMON_SOCKET));
    }
    for (i = 0; i < n; i++)
        json_array_append_new(list, json_string(files[i]));
    req = json_pack("{s:s, s:o}", "op", "refresh-keys", "files", list);
    rc = req != NULL ? jwtrev_daemon_notify(sock, req) : -1;
    json_decref(req);
    if (rc == 0 && used != NULL && used_len > strlen(sock))
        memcpy(used, sock, strlen(sock) + 1);
    return rc;
}

/* ---- snapshots for long-lived readers ------------------------------------ */

/* The daemon must be root or the store's owner: anyone else could serve a
 * forged list on a socket path it managed to get named. */
static int
trusted_peer(int fd, uid_t owner)
{
    struct ucred uc;
    socklen_t len = sizeof(uc);

    return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0 &&
           (uc.uid == 0 || uc.uid == owner);
}

int
jwtrev_daemon_snapshot(const char *dir, const unsigned char *id, int *out,
                       jwtrev_error *err)
{
    char sock[sizeof(((struct sockaddr_un *)0)->sun_path)], hex[40], cbuf[64];
    char line[512];
    struct msghdr mh;
    struct cmsghdr *cm;
    struct iovec iov;
    struct stat st;
    jwtrev_daemon *d = NULL;
    json_t *r;
    ssize_t n;
    size_t got = 0;
    int rc, fd = -1;

    *out = -1;
    rc = jwtrev_store_daemon_get(dir, sock, sizeof(sock), err);
    if (rc <= 0)
        return rc < 0 ? rc : 1; /* no daemon: no snapshot */
    if (stat(dir, &st) != 0)
        return jwtrev_fail(err, JWTREV_ERR_DB_ERROR, "%s: %s", dir,
                           strerror(errno));
    rc = jwtrev_daemon_connect(sock, 2000, &d, err);
    if (rc != 0)
        return rc;
    if (!trusted_peer(d->fd, st.st_uid)) {
        jwtrev_daemon_close(d);
        return jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                           "%s: the daemon at %s is neither root nor the "
                           "store's owner",
                           dir, sock);
    }
    jwtrev_hex(id, JWTREV_STORE_SNAPSHOT_ID, hex);
    snprintf(line, sizeof(line), "{\"op\":\"snapshot\",\"id\":\"%s\"}\n", hex);
    rc = send_all(d, line, strlen(line), err);
    /* One reply line, with the descriptor beside its first byte. */
    while (rc == 0 && (got == 0 || memchr(line, '\n', got) == NULL)) {
        struct pollfd pfd = {d->fd, POLLIN, 0};

        if (got >= sizeof(line) - 1 || poll(&pfd, 1, 2000) <= 0) {
            rc = jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                             "jwtrevd at %s: no snapshot reply", sock);
            break;
        }
        memset(&mh, 0, sizeof(mh));
        iov.iov_base = line + got;
        iov.iov_len = sizeof(line) - 1 - got;
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = cbuf;
        mh.msg_controllen = sizeof(cbuf);
        n = recvmsg(d->fd, &mh, MSG_CMSG_CLOEXEC);
        if (n <= 0) {
            rc = jwtrev_fail(err, JWTREV_ERR_DB_ERROR,
                             "jwtrevd at %s: no snapshot reply", sock);
            break;
        }
        for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
            if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
                cm->cmsg_len == CMSG_LEN(sizeof(int)) && fd < 0)
                memcpy(&fd, CMSG_DATA(cm), sizeof(int));
        }
        got += (size_t)n;
    }
    jwtrev_daemon_close(d);
    if (rc == 0) {
        r = json_loadb(line, (size_t)((char *)memchr(line, '\n', got) - line),
                       0, NULL);
        if (!json_is_true(json_object_get(r, "ok")) || fd < 0)
            rc = 1; /* none ready (yet): read the file */
        json_decref(r);
    }
    if (rc != 0 && fd >= 0)
        close(fd);
    else
        *out = fd;
    return rc;
}

/* ---- the writes a module makes ------------------------------------------- */

/* A logout waits this long for the daemon (it fsyncs; a fold never
 * holds the lock for long). */
#define WRITE_TIMEOUT_MS 10000

static int
via_daemon(const char *socket, const char *op, const char *token, size_t len,
           json_t *extra, jwtrev_error *err)
{
    json_t *req = json_object(), *reply = NULL;
    int rc;

    if (req == NULL || json_object_set_new(req, "op", json_string(op)) != 0 ||
        json_object_set_new(req, "token", json_stringn(token, len)) != 0 ||
        (extra != NULL && json_object_update(req, extra) != 0)) {
        json_decref(req);
        json_decref(extra);
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    }
    json_decref(extra);
    rc = jwtrev_daemon_request(socket, req, WRITE_TIMEOUT_MS, &reply, err);
    json_decref(req);
    json_decref(reply);
    return rc;
}

int
jwtrev_writes_revoke_token(const char *dir, const char *socket,
                           const char *token, size_t len, const jwtrev_token *t,
                           int64_t leeway, int64_t now, const char *reason,
                           jwtrev_error *err)
{
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int rc = jwtrev_daemon_for_store(dir, socket, path, sizeof(path), err);

    if (rc < 0)
        return rc;
    if (rc == 0)
        return jwtrev_store_revoke_token(dir, t, leeway, now, reason, err);
    return via_daemon(path, "revoke-token", token, len,
                      json_pack("{s:I, s:s}", "leeway", (json_int_t)leeway,
                                "reason", reason != NULL ? reason : ""),
                      err);
}

int
jwtrev_writes_revoke_subject(const char *dir, const char *socket,
                             const char *token, size_t len,
                             const jwtrev_token *t, int64_t before,
                             int64_t until, int64_t now, const char *reason,
                             jwtrev_error *err)
{
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int rc = jwtrev_daemon_for_store(dir, socket, path, sizeof(path), err);

    if (rc < 0)
        return rc;
    if (rc == 0)
        return jwtrev_store_revoke_subject(dir, t->iss ? t->iss : "", t->sub,
                                           before, until, now, reason, err);
    return via_daemon(path, "revoke-subject", token, len,
                      json_pack("{s:I, s:I, s:s}", "before", (json_int_t)before,
                                "until", (json_int_t)until, "reason",
                                reason != NULL ? reason : ""),
                      err);
}
