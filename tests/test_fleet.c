/*
 * test_fleet.c - libjwtrevfleet against a real PostgreSQL (run by
 * tests/fleet.sh, which starts it and passes conninfos in FLEET_*).
 * Each simulated host is a fleet handle with its own host_id and state
 * directory; apply records what reaches it, and every check waits for
 * or looks at what really arrived (or what the server really holds).
 *
 *   test_fleet                 every case, TAP
 *   test_fleet child DIR CONNINFO HOST PREFIX N
 *                              enqueue N changes one by one, say
 *                              "enqueued", wait to be killed
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "drv.h"
#include "tap.h"

static struct host ha, hb;

/* b after the first changes (apply returns before the count grows) */
static int
st_b_in_step(const fleet_status *s)
{
    return s->connected && s->bootstrapped && s->lag_seconds == 0 &&
           s->applied >= 103 && s->position[0] != '\0';
}

/* Two hosts start on an empty log; a's changes reach b, fields and all. */
static void
case_propagate(void)
{
    fleet_change c[3];
    unsigned char hash[JWTREV_STORE_HASH_LEN];
    fleet_status st;
    struct got g;
    uint64_t t;
    long took;
    int r;

    ok(host_open(&ha, "a", env("FLEET_HOST"), NULL) == 0 &&
           host_open(&hb, "b", env("FLEET_HOST"), NULL) == 0,
       "two hosts open their fleet handles");
    ok(wait_status(&hb, st_booted, WAIT_MS, &st),
       "b connects and starts from the (empty) live set");
    ok(hb.boot_first == 1 && hb.boot_last == 1,
       "b's bootstrap came as one batch, FIRST and LAST (%u, %u)",
       hb.boot_first, hb.boot_last);
    ok(strcmp(st.server, "127.0.0.1:") > 0 &&
           strstr(st.server, env("FLEET_PORT")) != NULL,
       "status names the server (%s)", st.server);
    t = enqueue_n(&ha, "p-", 100);
    memset(c, 0, sizeof(c));
    c[0].op = c[1].op = c[2].op = FLEET_ADD;
    c[0].e.kind = JWTREV_ENTRY_SUBJECT;
    c[0].e.iss = ISS;
    c[0].e.iss_len = strlen(ISS);
    c[0].e.id = (const unsigned char *)"subject-alice";
    c[0].e.id_len = 13;
    c[0].e.revoked_at = 1700000000;
    c[0].e.until = 1900000000;
    c[0].e.not_before = 1700000001;
    c[0].e.reason = "password change";
    c[0].e.reason_len = 15;
    c[1].e.kind = JWTREV_ENTRY_KEY;
    c[1].e.id = (const unsigned char *)"key-k1";
    c[1].e.id_len = 6;
    c[1].e.revoked_at = 1700000002;
    memset(hash, 0xa5, sizeof(hash));
    memcpy(hash, "hash-", 5);
    c[2].e.kind = JWTREV_ENTRY_HASH;
    c[2].e.id = hash;
    c[2].e.id_len = sizeof(hash);
    c[2].e.revoked_at = 1700000003;
    c[2].e.until = 1800000000;
    ok(fleet_enqueue(ha.f, c, 3, &t, NULL) == 0 && t > 0,
       "a enqueues a subject, a key and a hash entry in one call");
    ok(fleet_wait_sent(ha.f, t, WAIT_MS) == 0,
       "fleet_wait_sent: the database has them");
    took = wait_count(&hb, "p-", FLEET_ADD, 100, WAIT_MS);
    ok(took >= 0, "b got the 100 token entries (%ld ms)", took);
    ok(wait_count(&hb, "subject-alice", FLEET_ADD, 1, WAIT_MS) >= 0 &&
           wait_count(&hb, "key-k1", FLEET_ADD, 1, WAIT_MS) >= 0 &&
           wait_count(&hb, "hash-", FLEET_ADD, 1, WAIT_MS) >= 0,
       "b got the subject, key and hash entries");
    ok(last_of(&hb, "subject-alice", &g) == 0 &&
           g.kind == JWTREV_ENTRY_SUBJECT && strcmp(g.iss, ISS) == 0 &&
           g.revoked_at == 1700000000 && g.until == 1900000000 &&
           g.not_before == 1700000001 &&
           strcmp(g.reason, "password change") == 0 && g.bootstrap == 0,
       "the subject entry arrived field for field, following the log");
    ok(last_of_kind(&hb, JWTREV_ENTRY_HASH, &g) == 0 && g.id_len == 32 &&
           memcmp(g.id, hash, 32) == 0 && g.iss[0] == '\0' &&
           g.until == 1800000000,
       "the hash entry's 32 raw bytes arrived intact");
    ok(wait_count(&ha, "p-", FLEET_ADD, 100, WAIT_MS) >= 0,
       "a gets its own changes back from the log too");
    ok(count(&hb, "p-", 0, -1) == 100 &&
           count(&hb, "p-", FLEET_REMOVE, -1) == 0,
       "nothing else arrived");
    ok(wait_status(&ha, st_drained, WAIT_MS, &st) && st.last_contact > 0,
       "a's status: connected, outbox empty");
    r = wait_status(&hb, st_b_in_step, WAIT_MS, &st);
    ok(r, "b's status: connected, in step (lag 0), %llu applied, position %s",
       (unsigned long long)st.applied, st.position);
    ok(sql_long("SELECT count(*) FROM jwtrev.log WHERE origin = 'a'") == 103,
       "the log holds a's 103 rows once each");
}

/* A transaction that commits late must not be skipped. */
static void
case_overlap(void)
{
    PGconn *slow = PQconnectdb(env("FLEET_HOST"));
    PGresult *r;
    long slow_seq, fast_seq;

    r = PQexec(slow, "BEGIN; INSERT INTO jwtrev.log (op, kind, iss, id, "
                     "revoked_at, origin, origin_seq) VALUES (1, 1, '" ISS
                     "', 'slow-1', 1, 'slow', 1)");
    ok(PQresultStatus(r) == PGRES_COMMAND_OK,
       "a slow transaction inserts a row and stays open");
    PQclear(r);
    enqueue1(&ha, token("fast-1", time(NULL), 0));
    ok(wait_count(&hb, "fast-1", FLEET_ADD, 1, WAIT_MS) >= 0,
       "a later transaction's row reaches b while the slow one is open");
    slow_seq = sql_long("SELECT coalesce(max(seq), 0) FROM jwtrev.log");
    fast_seq = sql_long("SELECT seq FROM jwtrev.log WHERE id = 'fast-1'");
    ok(fast_seq > 0 && slow_seq == fast_seq,
       "the fast row has the highest serial (%ld): the slow row's is lower, "
       "so 'last id seen' would skip it",
       fast_seq);
    msleep(1300); /* b polls at least once more meanwhile */
    ok(count(&hb, "slow-1", 0, -1) == 0,
       "b has not seen the slow row before it commits");
    r = PQexec(slow, "COMMIT");
    ok(PQresultStatus(r) == PGRES_COMMAND_OK, "the slow transaction commits");
    PQclear(r);
    PQfinish(slow);
    ok(wait_count(&hb, "slow-1", FLEET_ADD, 1, WAIT_MS) >= 0,
       "b gets the slow row after its commit: nothing skipped");
}

/* Rows that do not parse are skipped, counted, and stop nothing. */
static void
case_unparsable(void)
{
    fleet_status st;
    uint64_t before;
    const char *s;

    fleet_status_get(hb.f, &st);
    before = st.skipped;
    s = sql(env("FLEET_HOST"),
            "INSERT INTO jwtrev.log (op, kind, iss, id, revoked_at, origin, "
            "origin_seq) VALUES "
            "(1, 9, '', 'bad-kind', 1, 'junk', 1), "
            "(1, 2, '', 'bad-hash', 1, 'junk', 2), "
            "(1, 1, E'iss\\x01ctl', 'bad-iss', 1, 'junk', 3), "
            "(1, 4, 'an-issuer', 'bad-key', 1, 'junk', 4), "
            "(1, 1, '" ISS "', 'after-bad', 1, 'junk', 5)",
            NULL, 0);
    ok(*s == '\0', "a host role inserts four rows no jwtrev can read");
    ok(wait_count(&hb, "after-bad", FLEET_ADD, 1, WAIT_MS) >= 0,
       "the good row after them arrives");
    fleet_status_get(hb.f, &st);
    ok(st.skipped - before == 4, "b counted 4 skipped rows (%llu)",
       (unsigned long long)(st.skipped - before));
    ok(count(&hb, "bad-", 0, -1) == 0, "none of them reached apply");
    ok(logged(&hb, "skipped: unknown entry kind 9") &&
           logged(&hb, "skipped: a hash entry needs a 32-byte SHA-256"),
       "each was logged with its reason");
}

/* What the host role may not do, through SQL and through the fleet. */
static void
case_refused(void)
{
    const char *h = env("FLEET_HOST");
    struct host adm;
    fleet_change rm;
    fleet_status st;
    struct got g;
    int64_t now = time(NULL);

    ok(strcmp(sql(h, "DELETE FROM jwtrev.log", NULL, 0), "42501") == 0,
       "the host role may not DELETE (42501)");
    ok(strcmp(sql(h, "UPDATE jwtrev.log SET until = 1", NULL, 0), "42501") == 0,
       "the host role may not UPDATE (42501)");
    ok(strcmp(sql(h, "TRUNCATE jwtrev.log", NULL, 0), "42501") == 0,
       "the host role may not TRUNCATE (42501)");
    ok(strcmp(sql(h,
                  "INSERT INTO jwtrev.log (op, kind, id, revoked_at, origin, "
                  "origin_seq) VALUES (2, 1, 'p-1', 1, 'x', 1)",
                  NULL, 0),
              "42501") == 0,
       "the host role may not write a tombstone (row-level policy, 42501)");
    ok(strcmp(sql(h,
                  "INSERT INTO jwtrev.log (op, kind, id, revoked_at, origin, "
                  "origin_seq, xid) VALUES (1, 1, 'p-1', 1, 'x', 1, '1')",
                  NULL, 0),
              "42501") == 0,
       "the host role may not set the xid column (42501)");

    memset(&rm, 0, sizeof(rm));
    rm = token("p-1", 0, 0);
    rm.op = FLEET_REMOVE;
    enqueue1(&ha, rm);
    ok(wait_status(&ha, st_refused, WAIT_MS, &st) && st.refused == 1,
       "a's unrevoke (a host role) is refused, counted, and leaves the "
       "outbox");
    ok(logged(&ha, "refused outbox change"), "... and logged");
    enqueue1(&ha, token("after-refused", now, 0));
    ok(wait_count(&hb, "after-refused", FLEET_ADD, 1, WAIT_MS) >= 0,
       "the outbox goes on after it");
    ok(count(&hb, "p-1", FLEET_REMOVE, -1) == 0, "b never got that removal");

    memset(&adm, 0, sizeof(adm));
    ok(host_open(&adm, "adm", env("FLEET_ADMIN"), NULL) == 0,
       "an admin handle opens");
    rm = token("p-2", 0, 0);
    rm.op = FLEET_REMOVE;
    enqueue1(&adm, rm);
    ok(wait_count(&hb, "p-2", FLEET_REMOVE, 1, WAIT_MS) >= 0,
       "the admin's unrevoke reaches b as a removal");
    host_close(&adm);
    host_free(&adm);
    /* an add revoked before the tombstone is cancelled by it, one after
     * it revokes again */
    enqueue1(&ha, token("p-2", 1000, 0));
    enqueue1(&ha, token("after-old-p-2", now, 0));
    ok(wait_count(&hb, "after-old-p-2", FLEET_ADD, 1, WAIT_MS) >= 0 &&
           last_of(&hb, "p-2", &g) == 0 && g.op == FLEET_REMOVE,
       "a late add older than the unrevoke stays cancelled");
    enqueue1(&ha, token("p-2", now + 10, 0));
    msleep(300);
    ok(wait_count(&hb, "p-2", FLEET_ADD, 1, WAIT_MS) >= 0 &&
           last_of(&hb, "p-2", &g) == 0 && g.op == FLEET_ADD &&
           g.revoked_at == now + 10,
       "an add after the unrevoke revokes again");
}

/* Another host role writing rows under a's host_id and a's next
 * sequences must not make a's changes look like resends. */
static void
case_squat(void)
{
    char q[512];
    long next;

    ok(*sql(env("FLEET_SUPER"), "GRANT jwtrev_host TO fleet_stranger", NULL,
            0) == '\0',
       "a second host role");
    ok(strcmp(sql(env("FLEET_STRANGER"), "SELECT 1", NULL, 0), "") == 0,
       "it connects with its own certificate");
    next = sql_long("SELECT max(origin_seq) FROM jwtrev.log WHERE origin = "
                    "'a'") +
           1;
    snprintf(q, sizeof(q),
             "INSERT INTO jwtrev.log (op, kind, iss, id, revoked_at, origin, "
             "origin_seq) SELECT 1, 1, '" ISS "', 'squat', 1, 'a', %ld + i "
             "FROM generate_series(0, 99) i",
             next);
    ok(*sql(env("FLEET_STRANGER"), q, NULL, 0) == '\0',
       "it writes 100 rows as host a with a's next sequences");
    enqueue1(&ha, token("squat-victim", time(NULL), 0));
    ok(wait_count(&hb, "squat-victim", FLEET_ADD, 1, WAIT_MS) >= 0,
       "a's next change still reaches b");
    ok(!logged(&ha, "already holds another change"),
       "without a collision: the sequences are per role");
}

/* prune: expired rows and cancelled adds go, the rest stays */
static void
case_prune(void)
{
    jwtrev_error err;
    uint64_t deleted = 0;
    int64_t now = time(NULL);
    uint64_t t;
    long before;

    enqueue_n(&ha, "exp-", 5); /* until 4000000000: stay */
    t = enqueue1(&ha, token("expired-1", now - 100, now - 50));
    t = enqueue1(&ha, token("expired-2", now - 100, 1000));
    ok(fleet_wait_sent(ha.f, t, WAIT_MS) == 0, "two expired entries sent");
    ok(fleet_prune(env("FLEET_HOST"), now, &deleted, &err) ==
               -JWTREV_ERR_DB_ERROR &&
           strstr(err.detail, "permission denied") != NULL,
       "fleet_prune as a host role: permission denied");
    before = sql_long("SELECT count(*) FROM jwtrev.log");
    ok(fleet_prune(env("FLEET_ADMIN"), now, &deleted, &err) == 0,
       "fleet_prune as the admin role");
    /* p-2's first add (revoked_at before the tombstone) and the late one
     * of 1000: cancelled; expired-1 and expired-2: expired */
    ok(deleted == 4, "it deleted 4 rows (%llu)", (unsigned long long)deleted);
    ok(sql_long("SELECT count(*) FROM jwtrev.log") == before - 4,
       "the log is 4 rows shorter");
    ok(sql_long("SELECT count(*) FROM jwtrev.log WHERE id LIKE 'expired-%'") ==
               0 &&
           sql_long("SELECT count(*) FROM jwtrev.log WHERE id = 'p-2'") == 2 &&
           sql_long("SELECT count(*) FROM jwtrev.log WHERE id LIKE 'exp-%'") ==
               5,
       "kept: the tombstone, the add after it, the live entries");
}

/* TLS: verify-full with client certificates, and what it refuses. */
static void
case_tls(void)
{
    char v[256];
    struct host x;
    fleet_status st;
    PGconn *pg;

    ok(strstr(env("FLEET_HOST"), "sslmode=verify-full") != NULL,
       "the hosts connect with sslmode=verify-full");
    ok(*sql(env("FLEET_HOST"),
            "SELECT ssl::text || ' ' || client_dn FROM pg_stat_ssl WHERE pid "
            "= pg_backend_pid()",
            v, sizeof(v)) == '\0' &&
           strcmp(v, "true /CN=fleet_host") == 0,
       "a session is TLS with the client certificate (%s)", v);
    pg = PQconnectdb(env("FLEET_OTHER_CA"));
    ok(PQstatus(pg) != CONNECTION_OK &&
           strstr(PQerrorMessage(pg), "certificate verify failed") != NULL,
       "a server certificate from another CA is refused");
    PQfinish(pg);
    pg = PQconnectdb(env("FLEET_WRONG_NAME"));
    ok(PQstatus(pg) != CONNECTION_OK &&
           strstr(PQerrorMessage(pg), "does not match host name") != NULL,
       "a server certificate for another name is refused");
    PQfinish(pg);
    pg = PQconnectdb(env("FLEET_NO_CERT"));
    ok(PQstatus(pg) != CONNECTION_OK &&
           strstr(PQerrorMessage(pg), "certificate") != NULL,
       "without a client certificate the server refuses the session");
    PQfinish(pg);

    memset(&x, 0, sizeof(x));
    ok(host_open(&x, "x", env("FLEET_OTHER_CA"), NULL) == 0,
       "a handle with the wrong CA opens (it never waits for the network)");
    enqueue1(&x, token("x-1", time(NULL), 0));
    ok(wait_status(&x, st_down, WAIT_MS, &st) && st.outbox == 1 &&
           strstr(st.last_error, "certificate verify failed") != NULL,
       "it stays disconnected, says why, keeps its outbox");
    host_close(&x);
    host_free(&x);
}

/* The database stops: enqueue goes on; it returns: the outbox drains. */
static void
case_restart(void)
{
    struct timespec t0, t1;
    fleet_status st;
    long ms, took;

    ok(system(env("FLEET_PG_STOP")) == 0, "the database stops");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    enqueue_n(&ha, "down-", 20);
    ok(enqueue_block(&ha, "bulk-", 1200, 100) == 0,
       "1200 more in calls of 100 (they go out in the largest batches)");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    ok(ms < 2000, "1220 enqueues while it is down take %ld ms", ms);
    ok(wait_status(&ha, st_down, WAIT_MS, &st) && st.outbox == 1220,
       "a's status: not connected, 1220 in the outbox (%s)", st.last_error);
    msleep(1500);
    fleet_status_get(hb.f, &st);
    ok(!st.connected && st.lag_seconds > 1.0,
       "b's status: not connected, lag %.1f s", st.lag_seconds);
    ok(system(env("FLEET_PG_START")) == 0, "the database starts again");
    took = wait_count(&hb, "down-", FLEET_ADD, 20, 15000);
    ok(took >= 0 && took < 5000,
       "b has all 20 within 5 s of the database's return (%ld ms)", took);
    ok(wait_status(&ha, st_drained, WAIT_MS, &st), "a's outbox is empty");
    ok(wait_count(&hb, "bulk-", FLEET_ADD, 1200, WAIT_MS) >= 0,
       "b has the 1200 too");
    ok(sql_long("SELECT count(*) FROM jwtrev.log WHERE origin = 'a' AND "
                "convert_from(id, 'UTF8') LIKE 'bulk-%' AND iss = '" ISS
                "' AND reason = 'test' AND until = 4000000000") == 1200,
       "the log holds each of them intact");
}

/* Run a child that enqueues n changes then is killed with SIGKILL. */
static int
kill_child(const char *self, const char *dir, const char *conninfo,
           const char *host, const char *prefix, int n)
{
    char nbuf[16], line[512] = "";
    int p[2], st;
    pid_t pid;
    FILE *f;

    snprintf(nbuf, sizeof(nbuf), "%d", n);
    if (pipe(p) != 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        execl(self, self, "child", dir, conninfo, host, prefix, nbuf,
              (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    f = fdopen(p[0], "r");
    /* the child's log lines ("# ...") may come first */
    while (f != NULL && fgets(line, sizeof(line), f) != NULL &&
           strcmp(line, "enqueued\n") != 0)
        fputs(line, stdout);
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    if (f != NULL)
        fclose(f);
    return strcmp(line, "enqueued\n") == 0 && WIFSIGNALED(st) ? 0 : -1;
}

static int
copy_file(const char *from, const char *to)
{
    char buf[65536];
    int in = open(from, O_RDONLY), out;
    ssize_t n;

    out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0)
        return -1;
    while ((n = read(in, buf, sizeof(buf))) > 0)
        if (write(out, buf, (size_t)n) != n)
            return -1;
    close(in);
    close(out);
    return n == 0 ? 0 : -1;
}

/* kill -9 between enqueue and send; a torn tail; resends. */
static void
case_kill(const char *self)
{
    static const unsigned char torn[11] = {0, 0, 0, 100, 1, 2, 3, 4, 'C'};
    char dir[600], path[700], copy[700];
    struct host k;
    fleet_status st;
    int fd;

    snprintf(dir, sizeof(dir), "%s/k1", tmpdir);
    mkdir(dir, 0700);
    ok(kill_child(self, tmpdir, env("FLEET_DEAD"), "k1", "k1-", 50) == 0,
       "a process enqueues 50 changes (database unreachable) and is killed "
       "with SIGKILL");
    snprintf(path, sizeof(path), "%s/outbox", tmpdir);
    snprintf(copy, sizeof(copy), "%s/outbox.copy", tmpdir);
    fd = open(path, O_WRONLY | O_APPEND);
    ok(fd >= 0 && write(fd, torn, sizeof(torn)) == sizeof(torn) &&
           close(fd) == 0 && copy_file(path, copy) == 0,
       "the start of a torn record is left at the outbox's end");
    memset(&k, 0, sizeof(k));
    ok(host_open(&k, "k1", env("FLEET_HOST"), ".") == 0,
       "the host starts again on that outbox");
    ok(logged(&k, "torn record"), "the torn record is dropped with a log line");
    ok(wait_count(&hb, "k1-", FLEET_ADD, 50, WAIT_MS) >= 0,
       "all 50 acknowledged changes reach b");
    ok(wait_status(&k, st_drained, WAIT_MS, &st), "the outbox drains");
    host_close(&k);
    host_free(&k);
    ok(copy_file(copy, path) == 0,
       "the outbox as it was before sending is put back (a crash before "
       "the trim)");
    memset(&k, 0, sizeof(k));
    ok(host_open(&k, "k1", env("FLEET_HOST"), ".") == 0 &&
           wait_status(&k, st_drained, WAIT_MS, &st),
       "the host sends it all again");
    ok(sql_long("SELECT count(*) FROM jwtrev.log WHERE origin = 'k1'") == 50,
       "the log still holds each change once (resends are idempotent)");
    ok(!logged(&k, "already holds another change"),
       "a resend is not mistaken for a reused sequence");
    host_close(&k);
    host_free(&k);
}

/* Two outboxes that gave the same sequence to different changes. */
static void
case_reused_seq(void)
{
    char from[600], to[600];
    struct host x, y;
    fleet_status st;

    memset(&x, 0, sizeof(x));
    memset(&y, 0, sizeof(y));
    host_open(&x, "k3", env("FLEET_DEAD"), "k3x");
    enqueue1(&x, token("k3-a", time(NULL), 0));
    host_close(&x);
    host_free(&x);
    snprintf(from, sizeof(from), "%s/k3x/outbox", tmpdir);
    snprintf(to, sizeof(to), "%s/k3y", tmpdir);
    mkdir(to, 0700);
    snprintf(to, sizeof(to), "%s/k3y/outbox", tmpdir);
    ok(copy_file(from, to) == 0, "an outbox is copied (a restored backup)");
    host_open(&x, "k3", env("FLEET_DEAD"), "k3x");
    host_open(&y, "k3", env("FLEET_DEAD"), "k3y");
    enqueue1(&x, token("k3-x", time(NULL), 0));
    enqueue1(&y, token("k3-y", time(NULL), 0));
    host_close(&x);
    host_free(&x);
    host_close(&y);
    host_free(&y);
    host_open(&x, "k3", env("FLEET_HOST"), "k3x");
    ok(wait_status(&x, st_drained, WAIT_MS, &st), "the original sends");
    host_close(&x);
    host_free(&x);
    host_open(&y, "k3", env("FLEET_HOST"), "k3y");
    ok(wait_count(&hb, "k3-y", FLEET_ADD, 1, WAIT_MS) >= 0 &&
           wait_count(&hb, "k3-x", FLEET_ADD, 1, WAIT_MS) >= 0,
       "the copy's change with the same sequence still reaches b");
    ok(logged(&y, "already holds another change"), "... and it says why");
    ok(sql_long("SELECT count(*) FROM jwtrev.log WHERE origin = 'k3'") == 3,
       "the log holds the three changes");
    host_close(&y);
    host_free(&y);
}

/* A new host starts from the live set, then follows. */
static void
case_bootstrap(void)
{
    const char *s = env("FLEET_SUPER");
    struct host c;
    fleet_status st;
    struct got g;
    long t0;
    struct timespec a, b;

    ok(*sql(s,
            "INSERT INTO jwtrev.log (op, kind, iss, id, revoked_at, until, "
            "reason, origin, origin_seq) SELECT 1, 1, '" ISS "', "
            "convert_to('boot-' || i, 'UTF8'), 1700000000, 4000000000, "
            "'bulk', 'seed', i FROM generate_series(1, 30000) i",
            NULL, 0) == '\0' &&
           *sql(s,
                "INSERT INTO jwtrev.log (op, kind, iss, id, revoked_at, "
                "until, not_before, reason, origin, origin_seq) VALUES "
                "(1, 1, '" ISS "', 'gone-expired', 1, 1000, 0, '', 'seed', "
                "100001), "
                "(1, 3, '" ISS "', 'subj-1', 100, 5000000000, 100, 'old', "
                "'seed', 100002), "
                "(1, 3, '" ISS "', 'subj-1', 200, 4000000000, 50, 'new', "
                "'seed', 100003), "
                "(1, 1, '" ISS "', 'gone-removed', 100, 0, 0, '', 'seed', "
                "100004), "
                "(2, 1, '" ISS "', 'gone-removed', 200, 0, 0, '', 'seed', "
                "100005), "
                "(1, 1, '" ISS "', 'back-1', 100, 0, 0, '', 'seed', 100006), "
                "(2, 1, '" ISS "', 'back-1', 200, 0, 0, '', 'seed', 100007), "
                "(1, 1, '" ISS "', 'back-1', 300, 0, 0, 'again', 'seed', "
                "100008)",
                NULL, 0) == '\0',
       "the log gets 30000 live entries and a few to combine");
    memset(&c, 0, sizeof(c));
    clock_gettime(CLOCK_MONOTONIC, &a);
    ok(host_open(&c, "c", env("FLEET_HOST"), NULL) == 0 &&
           wait_status(&c, st_booted, 20000, &st),
       "a new host c starts");
    clock_gettime(CLOCK_MONOTONIC, &b);
    t0 = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    tap_diag("c was in step after %ld ms", t0);
    ok(count(&c, "boot-", FLEET_ADD, 1) == 30000,
       "c got the 30000 entries as its bootstrap (%zu)",
       count(&c, "boot-", FLEET_ADD, 1));
    ok(c.boot_first == 1 && c.boot_last == 1 && c.applies >= 2,
       "in batches: one FIRST, one LAST, %u in all", c.applies);
    ok(count(&c, "p-", FLEET_ADD, 1) == 100,
       "and the entries the earlier cases added");
    ok(count(&c, "gone-", 0, -1) == 0,
       "not an expired entry, not an unrevoked one");
    ok(last_of(&c, "subj-1", &g) == 0 && g.until == 5000000000 &&
           g.not_before == 100 && g.revoked_at == 200 &&
           strcmp(g.reason, "new") == 0,
       "two adds of one subject combined as jwtrev_store_put does");
    ok(last_of(&c, "back-1", &g) == 0 && g.op == FLEET_ADD &&
           g.revoked_at == 300 && strcmp(g.reason, "again") == 0,
       "an entry revoked again after its unrevoke is there");
    ok(last_of(&c, "p-2", &g) == 0 && g.op == FLEET_ADD && g.bootstrap != 0,
       "p-2, revoked after its unrevoke");
    enqueue1(&ha, token("after-boot", time(NULL), 0));
    ok(wait_count(&c, "after-boot", FLEET_ADD, 1, WAIT_MS) >= 0 &&
           count(&c, "after-boot", FLEET_ADD, 0) == 1,
       "then c follows the log");
    host_close(&c);
    host_free(&c);
}

/* b stops for a while and comes back to its position: no bootstrap. */
static void
case_position(void)
{
    unsigned firsts;

    host_close(&hb);
    firsts = hb.boot_first;
    enqueue_n(&ha, "away-", 10);
    ok(host_open(&hb, "b", env("FLEET_HOST"), NULL) == 0,
       "b starts again on its state directory");
    ok(wait_count(&hb, "away-", FLEET_ADD, 10, WAIT_MS) >= 0,
       "it gets the 10 changes made while it was away");
    ok(hb.boot_first == firsts, "from its position, without a bootstrap");
}

/* A position from another history of transaction ids (a failover, a
 * restored database) must not hide the log's rows. */
static void
case_history(void)
{
    char path[700], line[256] = "", *nl;
    struct host r;
    FILE *f;
    int got;

    snprintf(path, sizeof(path), "%s/b/position", tmpdir);
    f = fopen(path, "r");
    got = f != NULL && fgets(line, sizeof(line), f) != NULL &&
          fgets(line, sizeof(line), f) != NULL;
    if ((nl = strchr(line, '\n')) != NULL)
        *nl = '\0';
    ok(got && strchr(line, '/') != NULL,
       "b's position names the server's system and timeline (%s)", line);
    if (f != NULL)
        fclose(f);
    snprintf(path, sizeof(path), "%s/r", tmpdir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/r/position", tmpdir);
    f = fopen(path, "w");
    ok(f != NULL && fputs("999999:999999:\n1/00000009\n", f) >= 0 &&
           fclose(f) == 0,
       "host r has a position far ahead, from another database");
    memset(&r, 0, sizeof(r));
    ok(host_open(&r, "r", env("FLEET_HOST"), NULL) == 0 &&
           wait_count(&r, "p-", FLEET_ADD, 100, WAIT_MS) >= 0,
       "r reads the whole log again instead of skipping it");
    ok(logged(&r, "not the one of the position") && r.boot_first == 0,
       "it says why, and it is no bootstrap");
    host_close(&r);
    host_free(&r);
}

/* apply fails: the batch comes again, the position waits for it. */
static void
case_apply_fails(void)
{
    unsigned before;

    pthread_mutex_lock(&hb.mu);
    hb.fail_apply = 2;
    before = hb.applies;
    pthread_mutex_unlock(&hb.mu);
    enqueue1(&ha, token("retry-1", time(NULL), 0));
    ok(wait_count(&hb, "retry-1", FLEET_ADD, 1, WAIT_MS) >= 0,
       "b's apply refuses twice, then the change arrives");
    ok(hb.applies - before >= 3, "apply was offered it %u times",
       hb.applies - before);
}

/* host=a,b: the first one is down, libpq takes the second. */
static void
case_multihost(void)
{
    struct host m;
    fleet_status st;

    memset(&m, 0, sizeof(m));
    ok(host_open(&m, "m", env("FLEET_MULTI"), NULL) == 0 &&
           wait_status(&m, st_booted, 20000, &st),
       "a host with host=127.0.0.1,127.0.0.1 (the first port dead) connects");
    ok(strstr(st.server, env("FLEET_PORT")) != NULL,
       "to the second server (%s)", st.server);
    enqueue1(&ha, token("multi-1", time(NULL), 0));
    ok(wait_count(&m, "multi-1", FLEET_ADD, 1, WAIT_MS) >= 0,
       "and follows the log there");
    enqueue1(&m, token("multi-2", time(NULL), 0));
    ok(wait_count(&ha, "multi-2", FLEET_ADD, 1, WAIT_MS) >= 0,
       "and sends there");
    host_close(&m);
    host_free(&m);
}

static void
run_cases(const char *self)
{
    case_propagate();
    case_overlap();
    case_unparsable();
    case_refused();
    case_squat();
    case_prune();
    case_tls();
    case_kill(self);
    case_reused_seq();
    case_restart();
    case_bootstrap();
    case_position();
    case_history();
    case_apply_fails();
    case_multihost();
    host_close(&ha);
    host_close(&hb);
    host_free(&ha);
    host_free(&hb);
}

static int
child(int argc, char **argv)
{
    struct host h;
    int n;

    memset(&h, 0, sizeof(h));
    if (argc != 7)
        return 2;
    tmpdir = argv[2];
    if (host_open(&h, argv[4], argv[3], ".") != 0)
        return 1;
    n = atoi(argv[6]);
    enqueue_n(&h, argv[5], n);
    printf("enqueued\n");
    fflush(stdout);
    for (;;)
        pause();
}

int
main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0)
        return child(argc, argv);
    tmpdir = env("FLEET_TMP");
    run_cases(argv[0]);
    return tap_done();
}
