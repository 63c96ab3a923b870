/*
 * follow.c - the log into the local store, by a commit-ordered position.
 *
 * A serial id is not one: the ids of overlapping transactions become
 * visible out of order, and "the last id seen" skips the slow one's row
 * for good (docs/design.md 7.2).  So the position is a snapshot: each
 * fetch runs in a REPEATABLE READ transaction, takes the rows its own
 * snapshot S sees and the position P did not (xid >= xmin(P) keeps that
 * to an index range), hands them to apply in batches, and only then
 * makes S the position.  A transaction still running at S is in S's
 * list and its rows come with a later fetch.
 *
 * A host without a position starts from the live set, in the same kind
 * of transaction, and then follows from that transaction's snapshot.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "fleetp.h"

#define FOLLOW_FETCH 5000
#define BOOT_FETCH 20000
#define FOLLOW_TIMEOUT_MS 15000
#define BOOT_TIMEOUT_MS 600000 /* the live set's first FETCH sorts it all */
#define SAVE_IDLE_MS 10000

static const char begin_sql[] =
    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; "
    "SELECT pg_current_snapshot()::text";

/*
 * The rows new since P ($1), in the order of their transactions; an add
 * that a tombstone of its identity no earlier than it cancels is left
 * out (it would only be removed again).
 */
static const char follow_sql[] =
    "DECLARE fleet_follow NO SCROLL CURSOR FOR "
    "SELECT n.seq, n.op, n.kind, n.iss, n.id, n.revoked_at, n.until, "
    "n.not_before, n.reason FROM jwtrev.log n "
    "WHERE n.xid >= pg_snapshot_xmin($1::pg_snapshot) "
    "AND NOT pg_visible_in_snapshot(n.xid, $1::pg_snapshot) "
    "AND (n.op = 2 OR NOT EXISTS (SELECT FROM jwtrev.log t "
    "WHERE t.op = 2 AND t.kind = n.kind AND t.iss = n.iss AND t.id = n.id "
    "AND t.revoked_at >= n.revoked_at)) "
    "ORDER BY n.xid, n.seq";

/*
 * After tombstones new since P: the adds of their identities that no
 * tombstone cancels, so that a removal applied after a later add (seen
 * first) does not undo it.
 */
static const char readd_sql[] =
    "SELECT a.seq, a.op, a.kind, a.iss, a.id, a.revoked_at, a.until, "
    "a.not_before, a.reason FROM jwtrev.log a "
    "WHERE a.op = 1 AND (a.kind, a.iss, a.id) IN (SELECT r.kind, r.iss, r.id "
    "FROM jwtrev.log r WHERE r.op = 2 "
    "AND r.xid >= pg_snapshot_xmin($1::pg_snapshot) "
    "AND NOT pg_visible_in_snapshot(r.xid, $1::pg_snapshot)) "
    "AND NOT EXISTS (SELECT FROM jwtrev.log t WHERE t.op = 2 "
    "AND t.kind = a.kind AND t.iss = a.iss AND t.id = a.id "
    "AND t.revoked_at >= a.revoked_at) "
    "ORDER BY a.revoked_at, a.seq";

/*
 * The live set: per identity, the adds that are live and not cancelled,
 * combined as jwtrev_store_put combines (the latest until, 0 the latest
 * of all; the latest not_before; revoked_at and reason of the latest
 * revocation).
 */
static const char boot_sql[] =
    "DECLARE fleet_boot NO SCROLL CURSOR FOR "
    "SELECT max(a.seq), 1::int2, a.kind, a.iss, a.id, max(a.revoked_at), "
    "CASE WHEN bool_or(a.until = 0) THEN 0 ELSE max(a.until) END, "
    "max(a.not_before), "
    "(array_agg(a.reason ORDER BY a.revoked_at DESC, a.seq DESC))[1] "
    "FROM jwtrev.log a WHERE a.op = 1 "
    "AND (a.until = 0 OR a.until > extract(epoch FROM now())::int8) "
    "AND NOT EXISTS (SELECT FROM jwtrev.log t WHERE t.op = 2 "
    "AND t.kind = a.kind AND t.iss = a.iss AND t.id = a.id "
    "AND t.revoked_at >= a.revoked_at) "
    "GROUP BY a.kind, a.iss, a.id";

/*
 * Row row of a binary result (the columns of COLS) into *c, borrowing
 * from r: 0, or -1 with *why when it does not parse.
 */
static int
parse_row(const PGresult *r, int row, fleet_change *c, uint64_t *seq,
          jwtrev_error *why)
{
    static const int width[9] = {8, 2, 2, -1, -1, 8, 8, 8, -1};
    jwtrev_entry *e = &c->e;
    int i, op;

    if (PQnfields(r) != 9)
        return jwtrev_fail(why, JWTREV_ERR_CONFIG_ERROR, "wrong columns");
    for (i = 0; i < 9; i++)
        if (PQgetisnull(r, row, i) ||
            (width[i] > 0 && PQgetlength(r, row, i) != width[i]))
            return jwtrev_fail(why, JWTREV_ERR_CONFIG_ERROR,
                               "column %d is null or of a wrong size", i + 1);
    *seq = fleetp_get_be(PQgetvalue(r, row, 0), 8);
    op = (int16_t)fleetp_get_be(PQgetvalue(r, row, 1), 2);
    if (op != FLEET_ADD && op != FLEET_REMOVE)
        return jwtrev_fail(why, JWTREV_ERR_CONFIG_ERROR, "unknown op %d", op);
    memset(c, 0, sizeof(*c));
    c->op = (fleet_op)op;
    e->kind =
        (jwtrev_entry_kind)(int16_t)fleetp_get_be(PQgetvalue(r, row, 2), 2);
    e->iss = PQgetvalue(r, row, 3);
    e->iss_len = (size_t)PQgetlength(r, row, 3);
    e->id = (const unsigned char *)PQgetvalue(r, row, 4);
    e->id_len = (size_t)PQgetlength(r, row, 4);
    e->revoked_at = (int64_t)fleetp_get_be(PQgetvalue(r, row, 5), 8);
    e->until = (int64_t)fleetp_get_be(PQgetvalue(r, row, 6), 8);
    e->not_before = (int64_t)fleetp_get_be(PQgetvalue(r, row, 7), 8);
    e->reason = PQgetvalue(r, row, 8);
    e->reason_len = (size_t)PQgetlength(r, row, 8);
    return jwtrev_entry_check(e, why);
}

/* Parse every row of r into c (room for all): the count of good ones;
 * the others are logged and counted. */
static size_t
parse_rows(fleet *f, const PGresult *r, fleet_change *c)
{
    int rows = PQntuples(r), i;
    size_t n = 0, bad = 0;
    jwtrev_error why;
    uint64_t seq = 0;

    for (i = 0; i < rows; i++) {
        jwtrev_error_clear(&why);
        if (parse_row(r, i, &c[n], &seq, &why) == 0) {
            n++;
            continue;
        }
        bad++;
        fleetp_log(f, LOG_WARNING, "log row #%llu skipped: %s",
                   (unsigned long long)seq, why.detail);
    }
    pthread_mutex_lock(&f->mu);
    f->st.skipped += bad;
    pthread_mutex_unlock(&f->mu);
    return n;
}

/* apply, counted; 0, or -1 (logged) */
static int
apply(fleet *f, const fleet_change *c, size_t n, int bootstrap)
{
    jwtrev_error err;

    jwtrev_error_clear(&err);
    if (f->apply(f->arg, c, n, bootstrap, &err) != 0) {
        fleetp_failed(f, LOG_ERR,
                      "applying %zu changes from the log failed: %s", n,
                      err.detail[0] != '\0' ? err.detail : "(no detail)");
        return -1;
    }
    pthread_mutex_lock(&f->mu);
    f->st.applied += n;
    pthread_mutex_unlock(&f->mu);
    return 0;
}

/* Run a query, with P as $1 when with_pos; *out as fleetp_exec.  A
 * failed statement ends the session. */
static int
query(fleet *f, const char *sql, int with_pos, int binary, PGresult **out)
{
    const char *vals[1] = {f->position};
    char why[256];

    if (fleetp_exec(f, sql, with_pos ? 1 : 0, vals, NULL, NULL, binary,
                    f->position == NULL ? BOOT_TIMEOUT_MS : FOLLOW_TIMEOUT_MS,
                    out) != 0)
        return -1;
    if (PQresultStatus(*out) == PGRES_TUPLES_OK ||
        PQresultStatus(*out) == PGRES_COMMAND_OK)
        return 0;
    fleetp_pgerror(f, *out, why, sizeof(why));
    fleetp_failed(f, LOG_ERR, "reading the log failed: %s", why);
    PQclear(*out);
    *out = NULL;
    fleetp_disconnect(f);
    return -1;
}

/*
 * Apply the good rows of one result (with flags; a bootstrap batch with
 * none is skipped unless it is the last); *removes counts tombstones,
 * *delivered is set when apply was called.  0, or -2 apply failed.
 */
static int
apply_result(fleet *f, PGresult *r, int flags, uint64_t *removes,
             int *delivered)
{
    fleet_change *c = malloc(((size_t)PQntuples(r) + 1) * sizeof(*c));
    size_t n, i;
    int rc = 0;

    if (c == NULL) {
        fleetp_failed(f, LOG_ERR, "out of memory");
        return -2;
    }
    n = parse_rows(f, r, c);
    for (i = 0; i < n; i++)
        *removes += c[i].op == FLEET_REMOVE;
    if (n > 0 || (flags & FLEET_BOOTSTRAP_LAST)) {
        rc = apply(f, c, n, flags) == 0 ? 0 : -2;
        *delivered = 1;
    }
    free(c);
    return rc;
}

/* FETCH from the cursor until it is empty, applying each batch. */
static int
drain_cursor(fleet *f, const char *fetch, int batch, int bootstrap,
             uint64_t *removes)
{
    PGresult *r;
    int flags, rows, rc, delivered = 0;

    do {
        if (query(f, fetch, 0, 1, &r) != 0)
            return -1;
        rows = PQntuples(r);
        flags = bootstrap;
        if (bootstrap && !delivered)
            flags |= FLEET_BOOTSTRAP_FIRST;
        if (bootstrap && rows < batch)
            flags |= FLEET_BOOTSTRAP_LAST;
        rc = apply_result(f, r, flags, removes, &delivered);
        PQclear(r);
    } while (rc == 0 && rows == batch);
    return rc;
}

/* BEGIN the snapshot's transaction: its text in *snap (caller frees). */
static int
begin(fleet *f, char **snap)
{
    PGresult *r;

    if (query(f, begin_sql, 0, 0, &r) != 0)
        return -1;
    *snap = PQntuples(r) == 1 ? strdup(PQgetvalue(r, 0, 0)) : NULL;
    PQclear(r);
    if (*snap == NULL || !fleetp_snapshot_valid(*snap)) {
        free(*snap);
        fleetp_failed(f, LOG_ERR, "the server gave no snapshot");
        fleetp_disconnect(f);
        return -1;
    }
    return 0;
}

/* COMMIT, or ROLLBACK after a failed apply (rc -2): rc. */
static int
end(fleet *f, int rc)
{
    PGresult *r;

    if (f->pg == NULL)
        return -1;
    if (query(f, rc == 0 ? "COMMIT" : "ROLLBACK", 0, 0, &r) != 0)
        return -1;
    PQclear(r);
    return rc;
}

/* xmax of a snapshot's text */
static uint64_t
xmax_of(const char *snap)
{
    const char *c = strchr(snap, ':');

    return c != NULL ? strtoull(c + 1, NULL, 10) : 0;
}

/*
 * Another history of transaction ids than the position's (a failover, a
 * restored database: ids the position counts as seen may be given to
 * new transactions): read the whole log again, which applying makes
 * harmless.
 */
static void
check_history(fleet *f, const char *snap)
{
    int other = f->position_epoch[0] != '\0' && f->server_epoch[0] != '\0' &&
                strcmp(f->position_epoch, f->server_epoch) != 0;
    char *all;

    if (!other && xmax_of(snap) >= xmax_of(f->position))
        return;
    if ((all = strdup("1:1:")) == NULL)
        return;
    fleetp_log(f, LOG_WARNING,
               "the database is not the one of the position (%s, was %s; "
               "next transaction %llu, was %llu): reading the whole log "
               "again",
               f->server_epoch[0] != '\0' ? f->server_epoch : "?",
               f->position_epoch[0] != '\0' ? f->position_epoch : "?",
               (unsigned long long)xmax_of(snap),
               (unsigned long long)xmax_of(f->position));
    free(f->position);
    f->position = all;
}

/* The log is followed up to snap: make it the position. */
static void
advance(fleet *f, char *snap, int64_t started, uint64_t rows)
{
    jwtrev_error err;
    int64_t now = fleetp_now_ms();

    free(f->position);
    f->position = snap;
    f->position_dirty = 1;
    if (f->server_epoch[0] != '\0' &&
        strcmp(f->position_epoch, f->server_epoch) != 0) {
        memcpy(f->position_epoch, f->server_epoch, sizeof(f->server_epoch));
        rows++; /* write it now */
    }
    if (rows > 0 || now - f->saved_ms >= SAVE_IDLE_MS) {
        if (fleetp_position_save(f->state_dir, snap, f->position_epoch, &err) ==
            0) {
            f->position_dirty = 0;
            f->saved_ms = now;
        } else {
            fleetp_failed(f, LOG_ERR, "%s", err.detail);
        }
    }
    pthread_mutex_lock(&f->mu);
    f->in_step_ms = started;
    f->st.bootstrapped = 1;
    f->st.last_contact = fleetp_wall_ms() / 1000;
    snprintf(f->st.position, sizeof(f->st.position), "%s", snap);
    if (strlen(snap) >= sizeof(f->st.position))
        memcpy(f->st.position + sizeof(f->st.position) - 4, "...", 4);
    pthread_mutex_unlock(&f->mu);
}

int
fleetp_follow(fleet *f)
{
    int64_t started = fleetp_now_ms();
    uint64_t removes = 0, before;
    PGresult *r;
    char *snap = NULL;
    int rc, delivered = 0;

    f->notified = 0;
    f->last_fetch_ms = started;
    if (begin(f, &snap) != 0)
        return -1;
    check_history(f, snap);
    pthread_mutex_lock(&f->mu);
    before = f->st.applied;
    pthread_mutex_unlock(&f->mu);
    rc = query(f, follow_sql, 1, 0, &r);
    if (rc == 0) {
        PQclear(r);
        rc = drain_cursor(f, "FETCH 5000 FROM fleet_follow", FOLLOW_FETCH, 0,
                          &removes);
    }
    if (rc == 0 && removes > 0 && (rc = query(f, readd_sql, 1, 1, &r)) == 0) {
        rc = apply_result(f, r, 0, &removes, &delivered);
        PQclear(r);
    }
    if ((rc = end(f, rc)) != 0) {
        free(snap);
        return rc;
    }
    pthread_mutex_lock(&f->mu);
    before = f->st.applied - before;
    pthread_mutex_unlock(&f->mu);
    advance(f, snap, started, before);
    return 0;
}

int
fleetp_bootstrap(fleet *f)
{
    int64_t started = fleetp_now_ms();
    uint64_t removes = 0, before;
    PGresult *r;
    char *snap = NULL;
    int rc;

    fleetp_log(f, LOG_INFO, "no position: starting from the fleet's live set");
    f->notified = 0;
    f->last_fetch_ms = started;
    if (begin(f, &snap) != 0)
        return -1;
    pthread_mutex_lock(&f->mu);
    before = f->st.applied;
    pthread_mutex_unlock(&f->mu);
    rc = query(f, boot_sql, 0, 0, &r);
    if (rc == 0) {
        PQclear(r);
        rc = drain_cursor(f, "FETCH 20000 FROM fleet_boot", BOOT_FETCH,
                          FLEET_BOOTSTRAP, &removes);
    }
    if ((rc = end(f, rc)) != 0) {
        free(snap);
        return rc;
    }
    pthread_mutex_lock(&f->mu);
    before = f->st.applied - before;
    pthread_mutex_unlock(&f->mu);
    fleetp_log(f, LOG_INFO,
               "in step with the fleet's live set: %llu entries in %lld ms",
               (unsigned long long)before,
               (long long)(fleetp_now_ms() - started));
    advance(f, snap, started, 1);
    return 0;
}
