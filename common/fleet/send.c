/*
 * send.c - the outbox into the log, in order, a batch per INSERT.  A
 * resend is harmless: (inserted_by, origin, origin_seq) is unique and
 * the INSERT does nothing on a conflict.  A conflicting row that is not
 * this change (the state directory restored from an old copy, or two
 * hosts sharing a host_id and a role) would hide the change for good,
 * so such changes go back into the outbox with new sequences above the
 * log's.  A change the server refuses for good (a host role writing a
 * tombstone, a value a check refuses) is logged, counted and dropped;
 * any other failure keeps the batch for the next session.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "fleetp.h"

#define SEND_BATCH 500
#define SEND_COLS 10
#define SEND_TIMEOUT_MS 10000

static const char insert_head[] =
    "INSERT INTO jwtrev.log (op, kind, iss, id, revoked_at, until, "
    "not_before, reason, origin, origin_seq) VALUES ";
static const char insert_row[] =
    "($%d::int2,$%d::int2,$%d::text,$%d::bytea,$%d::int8,$%d::int8,"
    "$%d::int8,$%d::text,$%d::text,$%d::int8)";
static const char insert_tail[] =
    " ON CONFLICT (inserted_by, origin, origin_seq) DO NOTHING "
    "RETURNING origin_seq";

/* A row's text with parameter numbers of up to 5 digits, and a comma. */
#define SEND_ROW_MAX (sizeof(insert_row) + SEND_COLS * 5)

/* The parameters of one INSERT: binary values, numbers in nums. */
struct params {
    const char *vals[SEND_BATCH * SEND_COLS];
    int lens[SEND_BATCH * SEND_COLS];
    int fmts[SEND_BATCH * SEND_COLS];
    unsigned char nums[SEND_BATCH][36];
    char sql[sizeof(insert_head) + SEND_BATCH * SEND_ROW_MAX +
             sizeof(insert_tail)];
};

static void
set(struct params *p, int i, const void *v, size_t len)
{
    p->vals[i] = v;
    p->lens[i] = (int)len;
    p->fmts[i] = 1;
}

static void
add_row(struct params *p, fleet *f, size_t row, const fleetp_rec *r)
{
    const jwtrev_entry *e = &r->c.e;
    unsigned char *n = p->nums[row];
    int i = (int)row * SEND_COLS;

    fleetp_put_be(n, (uint64_t)r->c.op, 2);
    fleetp_put_be(n + 2, (uint64_t)e->kind, 2);
    fleetp_put_be(n + 4, (uint64_t)e->revoked_at, 8);
    fleetp_put_be(n + 12, (uint64_t)e->until, 8);
    fleetp_put_be(n + 20, (uint64_t)e->not_before, 8);
    fleetp_put_be(n + 28, r->seq, 8);
    set(p, i, n, 2);
    set(p, i + 1, n + 2, 2);
    set(p, i + 2, e->iss_len > 0 ? e->iss : "", e->iss_len);
    set(p, i + 3, e->id, e->id_len);
    set(p, i + 4, n + 4, 8);
    set(p, i + 5, n + 12, 8);
    set(p, i + 6, n + 20, 8);
    set(p, i + 7, e->reason_len > 0 ? e->reason : "", e->reason_len);
    set(p, i + 8, f->host_id, strlen(f->host_id));
    set(p, i + 9, n + 28, 8);
}

/* The INSERT of n rows (n <= SEND_BATCH: SEND_ROW_MAX bounds each). */
static void
build_sql(struct params *p, size_t n)
{
    size_t i, o = strlen(insert_head);
    int b;

    memcpy(p->sql, insert_head, o);
    for (i = 0; i < n; i++) {
        b = (int)i * SEND_COLS;
        if (i > 0)
            p->sql[o++] = ',';
        o += (size_t)snprintf(p->sql + o, SEND_ROW_MAX, insert_row, b + 1,
                              b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8,
                              b + 9, b + 10);
    }
    memcpy(p->sql + o, insert_tail, sizeof(insert_tail));
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* 1 when the log's row (the columns of same_sql) is change r. */
static int
row_is(const PGresult *res, int row, const fleetp_rec *r)
{
    const jwtrev_entry *e = &r->c.e;
    char num[5][24];
    size_t idlen = 0;
    unsigned char *id;
    int same;

    snprintf(num[0], sizeof(num[0]), "%d", (int)r->c.op);
    snprintf(num[1], sizeof(num[1]), "%d", (int)e->kind);
    snprintf(num[2], sizeof(num[2]), "%lld", (long long)e->revoked_at);
    snprintf(num[3], sizeof(num[3]), "%lld", (long long)e->until);
    snprintf(num[4], sizeof(num[4]), "%lld", (long long)e->not_before);
    id =
        PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, 4), &idlen);
    same = id != NULL && idlen == e->id_len && memcmp(id, e->id, idlen) == 0 &&
           strcmp(PQgetvalue(res, row, 1), num[0]) == 0 &&
           strcmp(PQgetvalue(res, row, 2), num[1]) == 0 &&
           strcmp(PQgetvalue(res, row, 5), num[2]) == 0 &&
           strcmp(PQgetvalue(res, row, 6), num[3]) == 0 &&
           strcmp(PQgetvalue(res, row, 7), num[4]) == 0 &&
           (size_t)PQgetlength(res, row, 3) == e->iss_len &&
           memcmp(PQgetvalue(res, row, 3), e->iss, e->iss_len) == 0 &&
           (size_t)PQgetlength(res, row, 8) == e->reason_len &&
           memcmp(PQgetvalue(res, row, 8), e->reason, e->reason_len) == 0;
    PQfreemem(id);
    return same;
}

/*
 * rec was in conflict: 0 when the log holds this very change (a resend),
 * 1 when another one holds its sequence, -1 on a session failure.
 */
static int
conflict_is_other(fleet *f, const fleetp_rec *r)
{
    char seq[24];
    const char *vals[2] = {f->host_id, seq};
    PGresult *res;
    int other;

    snprintf(seq, sizeof(seq), "%llu", (unsigned long long)r->seq);
    if (fleetp_exec(f,
                    "SELECT origin_seq, op, kind, iss, id, revoked_at, until, "
                    "not_before, reason FROM jwtrev.log WHERE inserted_by = "
                    "session_user AND origin = $1 AND "
                    "origin_seq = $2::int8",
                    2, vals, NULL, NULL, 0, SEND_TIMEOUT_MS, &res) != 0)
        return -1;
    other = PQresultStatus(res) != PGRES_TUPLES_OK ? -1
            : PQntuples(res) == 0                  ? 0 /* pruned: it was */
                                                   : !row_is(res, 0, r);
    PQclear(res);
    return other;
}

/* Queue r again with a sequence above every one of this origin's. */
static int
reissue(fleet *f, const fleetp_rec *r)
{
    const char *vals[1] = {f->host_id};
    jwtrev_error err;
    PGresult *res;
    uint64_t max = 0, last;
    int rc;

    if (fleetp_exec(f,
                    "SELECT coalesce(max(origin_seq), 0) FROM jwtrev.log "
                    "WHERE inserted_by = session_user AND origin = $1",
                    1, vals, NULL, NULL, 0, SEND_TIMEOUT_MS, &res) != 0)
        return -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        max = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    pthread_mutex_lock(&f->mu);
    if (f->ob.next_seq <= max)
        f->ob.next_seq = max + 1;
    rc = fleetp_outbox_append(&f->ob, &r->c, 1, &last, &err);
    pthread_mutex_unlock(&f->mu);
    if (rc != 0) {
        fleetp_failed(f, LOG_ERR, "outbox: %s", err.detail);
        return -1;
    }
    fleetp_log(f, LOG_ERR,
               "the log already holds another change as %s #%llu (is "
               "host_id '%s' used by two hosts, or was the state directory "
               "restored?): the change goes again as #%llu",
               f->host_id, (unsigned long long)r->seq, f->host_id,
               (unsigned long long)last);
    return 0;
}

/* The changes the INSERT did not add: each a resend, or reissued. */
static int
check_conflicts(fleet *f, const fleetp_rec *recs, size_t n, PGresult *res)
{
    uint64_t added[SEND_BATCH];
    size_t i, got = (size_t)PQntuples(res);
    int other;

    if (got == n)
        return 0;
    for (i = 0; i < got && i < SEND_BATCH; i++)
        added[i] = strtoull(PQgetvalue(res, (int)i, 0), NULL, 10);
    qsort(added, got, sizeof(added[0]), cmp_u64);
    for (i = 0; i < n; i++) {
        if (bsearch(&recs[i].seq, added, got, sizeof(added[0]), cmp_u64))
            continue;
        other = conflict_is_other(f, &recs[i]);
        if (other < 0 || (other > 0 && reissue(f, &recs[i]) != 0))
            return -1;
    }
    return 0;
}

/* A failure that sending again cannot mend: privileges and policies,
 * integrity checks, bad data. */
static int
refused_for_good(const char *state)
{
    return strncmp(state, "42", 2) == 0 || strncmp(state, "23", 2) == 0 ||
           strncmp(state, "22", 2) == 0;
}

static void
refuse(fleet *f, const fleetp_rec *r, const PGresult *res)
{
    char why[256];

    fleetp_pgerror(f, res, why, sizeof(why));
    pthread_mutex_lock(&f->mu);
    f->st.refused++;
    pthread_mutex_unlock(&f->mu);
    fleetp_log(f, LOG_ERR,
               "the database refused outbox change #%llu (%s of a %s entry): "
               "%s; dropped%s",
               (unsigned long long)r->seq,
               r->c.op == FLEET_REMOVE ? "removal" : "addition",
               jwtrev_entry_kind_name(r->c.e.kind) != NULL
                   ? jwtrev_entry_kind_name(r->c.e.kind)
                   : "unknown",
               why,
               r->c.op == FLEET_REMOVE
                   ? " (an unrevoke reaches the fleet through a role in "
                     "jwtrev_admin)"
                   : "");
}

static int
send_batch(fleet *f, struct params *p, const fleetp_rec *recs, size_t n)
{
    PGresult *res;
    size_t i;
    int rc = -1;

    for (i = 0; i < n; i++)
        add_row(p, f, i, &recs[i]);
    build_sql(p, n);
    if (fleetp_exec(f, p->sql, (int)(n * SEND_COLS), p->vals, p->lens, p->fmts,
                    0, SEND_TIMEOUT_MS, &res) != 0)
        return -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        rc = check_conflicts(f, recs, n, res);
    } else if (!refused_for_good(fleetp_sqlstate(res))) {
        char why[256];
        fleetp_pgerror(f, res, why, sizeof(why));
        fleetp_failed(f, LOG_WARNING, "sending the outbox failed: %s", why);
    } else if (n > 1) {
        /* find the one refused: each alone */
        for (rc = 0, i = 0; i < n && rc == 0; i++)
            rc = send_batch(f, p, &recs[i], 1);
    } else {
        refuse(f, &recs[0], res);
        rc = 0;
    }
    PQclear(res);
    return rc;
}

int
fleetp_send(fleet *f)
{
    fleetp_rec *recs = malloc(SEND_BATCH * sizeof(*recs));
    struct params *p = malloc(sizeof(*p));
    jwtrev_error err;
    uint64_t pending;
    size_t n = 0;
    int rc = -1;

    if (recs == NULL || p == NULL) {
        fleetp_failed(f, LOG_ERR, "out of memory");
        goto done;
    }
    for (;;) {
        pthread_mutex_lock(&f->mu);
        rc = fleetp_outbox_trim(&f->ob, 0, &err);
        pending = f->ob.pending;
        if (rc == 0 && pending > 0)
            rc = fleetp_outbox_read(&f->ob, &f->sendbuf, &f->sendbuf_size, recs,
                                    SEND_BATCH, &n, &err);
        pthread_mutex_unlock(&f->mu);
        if (rc != 0) {
            fleetp_failed(f, LOG_ERR, "outbox: %s", err.detail);
            goto done;
        }
        if (pending == 0)
            break;
        if (n == 0) {
            /* never so; but a loop that sends nothing must not spin */
            fleetp_failed(f, LOG_ERR, "outbox: %llu changes not readable",
                          (unsigned long long)pending);
            rc = -1;
            goto done;
        }
        if ((rc = send_batch(f, p, recs, n)) != 0)
            goto done;
        pthread_mutex_lock(&f->mu);
        fleetp_outbox_sent(&f->ob, &recs[n - 1], n);
        f->st.last_contact = fleetp_wall_ms() / 1000;
        pthread_cond_broadcast(&f->sent_cv);
        pthread_mutex_unlock(&f->mu);
        n = 0;
    }
    rc = 0;
done:
    free(recs);
    free(p);
    return rc;
}
