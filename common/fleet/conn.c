/*
 * conn.c - the fleet thread's one libpq session.  Queries are sent
 * asynchronously and waited for with poll(), so that a server that stops
 * answering costs a timeout, not the thread, and fleet_close is heard
 * while a query runs.  libpq delivers notifications only while it reads
 * the socket: every wait and every query notes them (f->notified).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "fleetp.h"

/* Defaults a conninfo may override (they come before it). */
static const char *const conn_keys[] = {
    "connect_timeout",     "keepalives",       "keepalives_idle",
    "keepalives_interval", "keepalives_count", "tcp_user_timeout",
    "application_name",    "dbname",           NULL};

void
fleetp_one_line(const char *s, char *buf, size_t size)
{
    size_t o = 0;

    for (; *s != '\0' && o + 3 < size; s++) {
        if (*s == '\n') {
            if (s[1] != '\0' && o > 0) {
                buf[o++] = ';';
                buf[o++] = ' ';
            }
        } else if ((unsigned char)*s >= 0x20) {
            buf[o++] = *s;
        }
    }
    buf[o] = '\0';
}

const char *
fleetp_sqlstate(const PGresult *r)
{
    const char *s = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

    return s != NULL ? s : "";
}

void
fleetp_pgerror(fleet *f, const PGresult *r, char *buf, size_t size)
{
    const char *m = r != NULL ? PQresultErrorMessage(r) : "";

    if (*m == '\0' && f->pg != NULL)
        m = PQerrorMessage(f->pg);
    fleetp_one_line(*m != '\0' ? m : "no answer", buf, size);
}

static void
drain_notifies(fleet *f)
{
    PGnotify *n;

    while ((n = PQnotifies(f->pg)) != NULL) {
        f->notified = 1;
        PQfreemem(n);
    }
}

/* Wait for the socket (events) or a wake-up: 1 socket ready, 0 timeout
 * or wake-up, -1 stop. */
static int
wait_socket(fleet *f, short events, long timeout_ms)
{
    struct pollfd p[2] = {{PQsocket(f->pg), events, 0},
                          {f->wake_fd, POLLIN, 0}};
    uint64_t v;

    if (poll(p, 2, (int)timeout_ms) < 0 && errno != EINTR)
        return -1;
    if (p[1].revents & POLLIN) {
        if (read(f->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
            return -1;
        if (fleetp_stopping(f))
            return -1;
    }
    return p[0].revents != 0;
}

int
fleetp_wait(fleet *f, long timeout_ms)
{
    int r = wait_socket(f, POLLIN, timeout_ms < 0 ? 0 : timeout_ms);

    if (r < 0)
        return -1;
    if (r > 0 && PQconsumeInput(f->pg) == 0) {
        char why[256];
        fleetp_pgerror(f, NULL, why, sizeof(why));
        fleetp_failed(f, LOG_WARNING, "the database session ended: %s", why);
        return -1;
    }
    drain_notifies(f);
    return 0;
}

/* Collect the results of the statement in flight: the first failure,
 * else the last result. */
static int
collect(fleet *f, int64_t deadline, PGresult **out)
{
    PGresult *keep = NULL, *r;
    int flushing = 1, w;

    for (;;) {
        if (flushing && (flushing = PQflush(f->pg)) < 0)
            break;
        if (!flushing && !PQisBusy(f->pg)) {
            if ((r = PQgetResult(f->pg)) == NULL) {
                drain_notifies(f);
                *out = keep;
                return keep != NULL ? 0 : -1;
            }
            if (keep == NULL || (PQresultStatus(keep) != PGRES_FATAL_ERROR)) {
                PQclear(keep);
                keep = r;
            } else {
                PQclear(r);
            }
            continue;
        }
        w = wait_socket(f, POLLIN | (flushing ? POLLOUT : 0),
                        (long)(deadline - fleetp_now_ms()));
        if (w < 0)
            break; /* stopping (or poll failed: the session is dropped) */
        if (w == 0 && fleetp_now_ms() >= deadline) {
            fleetp_failed(f, LOG_WARNING,
                          "the database did not answer in time");
            break;
        }
        if (w > 0 && PQconsumeInput(f->pg) == 0)
            break;
    }
    PQclear(keep);
    return -1;
}

int
fleetp_exec(fleet *f, const char *sql, int n, const char *const *vals,
            const int *lens, const int *fmts, int binary, long timeout_ms,
            PGresult **out)
{
    char why[256];
    int sent;

    *out = NULL;
    if (f->pg == NULL)
        return -1;
    sent = n == 0 && !binary ? PQsendQuery(f->pg, sql)
                             : PQsendQueryParams(f->pg, sql, n, NULL, vals,
                                                 lens, fmts, binary);
    if (sent && collect(f, fleetp_now_ms() + timeout_ms, out) == 0)
        return 0;
    if (!fleetp_stopping(f)) {
        fleetp_pgerror(f, NULL, why, sizeof(why));
        fleetp_failed(f, LOG_WARNING, "the database session failed: %s", why);
    }
    fleetp_disconnect(f);
    return -1;
}

/* The server's role: 1 standby, 0 primary, -1 no answer. */
static int
in_recovery(fleet *f)
{
    PGresult *r;
    int standby = -1;

    if (fleetp_exec(f, "SELECT pg_is_in_recovery()", 0, NULL, NULL, NULL, 0,
                    5000, &r) != 0)
        return -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        standby = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return standby;
}

/*
 * The server's system identifier and timeline ("" when it will not say):
 * a position is a snapshot of one history of transaction ids; after a
 * failover or a restore the ids the position saw may be given again.
 */
static void
server_epoch(fleet *f)
{
    PGresult *r;

    if (fleetp_exec(f,
                    "SELECT (SELECT system_identifier FROM "
                    "pg_control_system())::text || '/' || "
                    "substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)",
                    0, NULL, NULL, NULL, 0, 5000, &r) != 0)
        return;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
        strlen(PQgetvalue(r, 0, 0)) < sizeof(f->server_epoch))
        snprintf(f->server_epoch, sizeof(f->server_epoch), "%s",
                 PQgetvalue(r, 0, 0));
    PQclear(r);
}

static int
listen_log(fleet *f)
{
    PGresult *r;
    char why[256];
    int ok;

    if (fleetp_exec(f, "LISTEN jwtrev_log", 0, NULL, NULL, NULL, 0, 5000, &r) !=
        0)
        return -1;
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) {
        fleetp_pgerror(f, r, why, sizeof(why));
        fleetp_failed(f, LOG_ERR, "LISTEN refused: %s", why);
    }
    PQclear(r);
    return ok ? 0 : -1;
}

/* The server's notices and messages (a shutdown's FATAL) go to the
 * host's log, not to stderr. */
static void
notice(void *arg, const char *msg)
{
    char line[256];

    fleetp_one_line(msg, line, sizeof(line));
    fleetp_log(arg, LOG_NOTICE, "the database says: %s", line);
}

int
fleetp_connect(fleet *f)
{
    const char *vals[] = {"3",     "1",       "10",        "3", "3",
                          "10000", "jwtrevd", f->conninfo, NULL};
    char why[256];
    int standby;

    f->pg = PQconnectdbParams(conn_keys, vals, 1);
    if (f->pg == NULL || PQstatus(f->pg) != CONNECTION_OK) {
        fleetp_one_line(f->pg != NULL ? PQerrorMessage(f->pg) : "out of memory",
                        why, sizeof(why));
        fleetp_failed(f, LOG_WARNING, "cannot connect to the database: %s",
                      why);
        fleetp_disconnect(f);
        return -1;
    }
    PQsetNoticeProcessor(f->pg, notice, f);
    if (PQsetnonblocking(f->pg, 1) != 0 || (standby = in_recovery(f)) < 0 ||
        (!standby && listen_log(f) != 0)) {
        fleetp_disconnect(f);
        return -1;
    }
    f->server_epoch[0] = '\0';
    if (!standby)
        server_epoch(f);
    if (f->pg == NULL)
        return -1;
    f->standby = standby;
    f->notified = 1; /* look at once: a change may have come meanwhile */
    f->connected_ms = fleetp_now_ms();
    pthread_mutex_lock(&f->mu);
    f->st.connected = !standby;
    f->standby_up = standby;
    if (!standby)
        f->st.last_error[0] = '\0';
    snprintf(f->st.server, sizeof(f->st.server), "%.200s:%.20s", PQhost(f->pg),
             PQport(f->pg));
    if (standby)
        snprintf(f->st.last_error, sizeof(f->st.last_error),
                 "%.200s is a standby: following it, not sending",
                 f->st.server);
    pthread_mutex_unlock(&f->mu);
    fleetp_log(f, LOG_INFO, "connected to %s%s", f->st.server,
               standby ? " (a standby: read only)" : "");
    return 0;
}

void
fleetp_disconnect(fleet *f)
{
    if (f->pg != NULL)
        PQfinish(f->pg);
    f->pg = NULL;
    f->standby = 0;
    pthread_mutex_lock(&f->mu);
    f->st.connected = 0;
    f->standby_up = 0;
    f->st.server[0] = '\0';
    pthread_mutex_unlock(&f->mu);
}
