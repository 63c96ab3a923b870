/*
 * test_fold.c - a store a daemon owns: its marker, writes that never
 * fold, and the fold beside the writers (jwtrev_store_fold) with writes
 * made while it runs, a fold that loses the race, and the pair a fold
 * killed between its two renames leaves.
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "store_testutil.h"

static const char *mid_dir;          /* the store the hook writes to */
static int mid_calls;                /* times the hook ran its writes */
static int mid_compact;              /* the hook compacts directly (a race) */
static int mid_busy_ok;              /* the fold's temporary file was "busy" */
static char mid_save[PATH_MAX + 16]; /* a copy of delta.db, or "" */

/* 1 when name is revoked in db (any kind of token entry). */
static int
revoked(jwtrev_revdb *db, const char *jti)
{
    jwtrev_token t = st_token(NULL, "i", NULL, jti, 1, 9);
    jwtrev_error err;

    return jwtrev_revdb_check(db, &t, 1000, &err) == -JWTREV_ERR_REVOKED;
}

static void
put_reason(const char *dir, const char *id, int64_t until, const char *reason)
{
    st_put(dir, st_entry(JWTREV_ENTRY_TOKEN, "i", id, until, 0, reason));
}

static int
remove_one(const char *dir, const char *id)
{
    jwtrev_entry k = st_entry(JWTREV_ENTRY_TOKEN, "i", id, 0, 0, NULL);
    jwtrev_error err;
    int removed = 0;

    if (jwtrev_store_remove(dir, &k, &removed, &err) != 0)
        tap_diag("remove %s: %s", id, err.detail);
    return removed;
}

static int
copy_file(const char *from, const char *to)
{
    char buf[65536];
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    size_t n;
    int rc = in != NULL && out != NULL ? 0 : -1;

    while (rc == 0 && (n = fread(buf, 1, sizeof(buf), in)) > 0)
        rc = fwrite(buf, 1, n, out) == n ? 0 : -1;
    if (in != NULL)
        fclose(in);
    if (out != NULL && fclose(out) != 0)
        rc = -1;
    return rc;
}

/* The fold's progress: once its merge is done (without the lock), write. */
static void
hook(void *arg, const char *what, uint64_t done, uint64_t total)
{
    jwtrev_store_check_report rep;
    jwtrev_error err;
    char path[PATH_MAX + 16];
    size_t i;

    (void)arg;
    if (strcmp(what, "writing") != 0 || done != total || mid_calls++ > 0)
        return;
    remove_one(mid_dir, "d0");                /* delta-only, in the fold */
    put_reason(mid_dir, "n0", 0, "new");      /* new meanwhile */
    put_reason(mid_dir, "d1", 5000, "later"); /* strengthened */
    remove_one(mid_dir, "b2");                /* a base entry */
    put_reason(mid_dir, "b1", 0, "again");    /* tombstoned in the fold */
    jwtrev_store_check(mid_dir, 0, &rep, &err);
    for (i = 0; i < rep.n_files; i++) {
        if (strstr(rep.files[i].name, ".tmp.") != NULL &&
            rep.files[i].verdict == JWTREV_CHECK_BUSY)
            mid_busy_ok = 1;
    }
    if (mid_compact && jwtrev_store_compact(mid_dir, NULL, &err) != 0)
        tap_diag("compact: %s", err.detail);
    if (mid_save[0] != '\0') {
        snprintf(path, sizeof(path), "%s/delta.db", mid_dir);
        if (copy_file(path, mid_save) != 0)
            tap_diag("cannot copy %s", path);
    }
}

static int
tmp_files(const char *dir)
{
    struct dirent *de;
    DIR *d = opendir(dir);
    int n = 0;

    while (d != NULL && (de = readdir(d)) != NULL)
        n += strstr(de->d_name, ".tmp.") != NULL;
    if (d != NULL)
        closedir(d);
    return n;
}

/* base: b0..b9; delta: d0..d4, b0 shadowed, b1 removed. */
static void
fill(const char *dir)
{
    jwtrev_error err;
    char id[16];
    int i;

    for (i = 0; i < 10; i++) {
        snprintf(id, sizeof(id), "b%d", i);
        put_reason(dir, id, 0, "base");
    }
    if (jwtrev_store_compact(dir, NULL, &err) != 0)
        tap_diag("compact: %s", err.detail);
    for (i = 0; i < 5; i++) {
        snprintf(id, sizeof(id), "d%d", i);
        put_reason(dir, id, 2000, "delta");
    }
    put_reason(dir, "b0", 0, "shadow");
    remove_one(dir, "b1");
}

/* What the store must answer after fill() and the hook's writes. */
static void
expect_after_hook(const char *dir, const char *what)
{
    static const char *yes[] = {"b0", "b1", "b3", "b9", "d1",
                                "d2", "d4", "n0", NULL};
    static const char *no[] = {"b2", "d0", "x", NULL};
    jwtrev_revdb *db;
    jwtrev_error err;
    int i, bad = 0;

    if (jwtrev_revdb_open(dir, &db, &err) != 0) {
        ok(0, "%s: open: %s", what, err.detail);
        return;
    }
    for (i = 0; yes[i] != NULL; i++)
        bad += !revoked(db, yes[i]);
    for (i = 0; no[i] != NULL; i++)
        bad += revoked(db, no[i]);
    ok(bad == 0, "%s: every answer right (%d wrong)", what, bad);
    jwtrev_revdb_close(db);
}

static void
test_marker(void)
{
    char dir[PATH_MAX], sock[PATH_MAX], path[PATH_MAX + 16];
    jwtrev_error err;
    FILE *f;

    st_store("marker", dir);
    ok(jwtrev_store_daemon_get(dir, sock, sizeof(sock), &err) == 0,
       "a new store has no daemon");
    ok(jwtrev_store_daemon_set(dir, "relative.sock", &err) ==
           -JWTREV_ERR_CONFIG_ERROR,
       "a relative socket path is refused");
    ok(jwtrev_store_daemon_set(dir, "/run/jwtrev/t.sock", &err) == 0,
       "the marker is set");
    ok(jwtrev_store_daemon_get(dir, sock, sizeof(sock), &err) == 1 &&
           strcmp(sock, "/run/jwtrev/t.sock") == 0,
       "and names the socket");
    ok(jwtrev_store_daemon_get(dir, sock, 8, &err) == -JWTREV_ERR_DB_ERROR,
       "a buffer too small is an error, not a cut path");
    snprintf(path, sizeof(path), "%s/daemon", dir);
    f = fopen(path, "w");
    fputs("socket=/a\nsocket=/b\n", f);
    fclose(f);
    ok(jwtrev_store_daemon_get(dir, sock, sizeof(sock), &err) ==
               -JWTREV_ERR_DB_ERROR &&
           strstr(err.detail, "not a daemon marker") != NULL,
       "a marker of two lines is refused: %s", err.detail);
    chmod(path, 0666);
    ok(jwtrev_store_daemon_get(dir, sock, sizeof(sock), &err) ==
           -JWTREV_ERR_DB_ERROR,
       "a marker writable by others is refused: %s", err.detail);
    ok(st_put(dir, st_entry(JWTREV_ENTRY_TOKEN, "i", "x", 0, 0, NULL)) ==
           -JWTREV_ERR_DB_ERROR,
       "and no writer writes such a store");
    unlink(path);
    ok(jwtrev_store_daemon_set(dir, "/run/jwtrev/t.sock", &err) == 0 &&
           jwtrev_store_daemon_set(dir, NULL, &err) == 0 &&
           jwtrev_store_daemon_get(dir, sock, sizeof(sock), &err) == 0,
       "set, then released");
}

static void
test_no_inline_fold(void)
{
    char dir[PATH_MAX], id[16];
    jwtrev_store_stats s;
    jwtrev_error err;
    int i, raced = 1;
    uint64_t dropped = 9;

    st_store("nofold", dir);
    jwtrev_store_daemon_set(dir, "/run/jwtrev/t.sock", &err);
    for (i = 0; i < STOREP_DELTA_MAX + 3; i++) {
        snprintf(id, sizeof(id), "e%05d", i);
        put_reason(dir, id, i < 10 ? 500 : 0, NULL);
    }
    ok(jwtrev_store_stats_get(dir, &s, &err) == 0 &&
           s.recent == STOREP_DELTA_MAX + 3 && s.base_bytes > 0,
       "a daemon's store: the delta grows past the bound (%llu changes)",
       (unsigned long long)s.recent);
    ok(remove_one(dir, "e00011") == 1 &&
           jwtrev_store_stats_get(dir, &s, &err) == 0 &&
           s.recent == STOREP_DELTA_MAX + 3 &&
           s.entries[JWTREV_ENTRY_TOKEN] == STOREP_DELTA_MAX + 2,
       "removing a delta-only entry leaves a tombstone, counted right "
       "(%llu entries)",
       (unsigned long long)s.entries[JWTREV_ENTRY_TOKEN]);
    ok(jwtrev_store_fold(dir, 1000, NULL, &dropped, &raced, &err) == 0 &&
           raced == 0 && dropped == 10,
       "the fold folds it, purging the 10 expired (%llu)",
       (unsigned long long)dropped);
    ok(jwtrev_store_stats_get(dir, &s, &err) == 0 && s.recent == 0 &&
           s.entries[0] == STOREP_DELTA_MAX + 2 - 10,
       "then the base holds the rest, the delta nothing (%llu, %llu)",
       (unsigned long long)s.entries[0], (unsigned long long)s.recent);
    ok(jwtrev_store_fold(dir, 0, NULL, &dropped, &raced, &err) == 0 &&
           dropped == 0,
       "a fold with nothing to fold does nothing");
}

static void
test_fold_with_writes(void)
{
    char dir[PATH_MAX];
    jwtrev_store_progress p = {hook, NULL};
    jwtrev_store_check_report rep;
    jwtrev_store_stats s;
    jwtrev_error err;
    int raced = 1, rc;

    st_store("fold", dir);
    jwtrev_store_daemon_set(dir, "/run/jwtrev/t.sock", &err);
    fill(dir);
    mid_dir = dir;
    mid_calls = mid_busy_ok = mid_compact = 0;
    mid_save[0] = '\0';
    rc = jwtrev_store_fold(dir, 0, &p, NULL, &raced, &err);
    ok(rc == 0 && raced == 0 && mid_calls == 1,
       "a fold with writes during it%s%s", rc != 0 ? ": " : "",
       rc != 0 ? err.detail : "");
    ok(mid_busy_ok, "its temporary file is 'busy' to jwtrev check meanwhile");
    ok(tmp_files(dir) == 0, "no temporary file left");
    memset(&s, 0, sizeof(s));
    if (jwtrev_store_stats_get(dir, &s, &err) != 0)
        tap_diag("stats: %s", err.detail);
    ok(s.recent == 5 && s.entries[JWTREV_ENTRY_TOKEN] == 14,
       "the delta holds only the 5 changes made meanwhile; 14 entries "
       "(%llu, %llu)",
       (unsigned long long)s.recent,
       (unsigned long long)s.entries[JWTREV_ENTRY_TOKEN]);
    expect_after_hook(dir, "after the fold");
    ok(jwtrev_store_check(dir, 0, &rep, &err) == 0, "jwtrev check: intact%s%s",
       rep.damaged ? ": " : "", rep.damaged ? rep.summary : "");
}

static void
test_fold_race(void)
{
    char dir[PATH_MAX];
    jwtrev_store_progress p = {hook, NULL};
    jwtrev_error err;
    int raced = 0, rc;

    st_store("race", dir);
    jwtrev_store_daemon_set(dir, "/run/jwtrev/t.sock", &err);
    fill(dir);
    mid_dir = dir;
    mid_calls = 0;
    mid_compact = 1;
    mid_save[0] = '\0';
    rc = jwtrev_store_fold(dir, 0, &p, NULL, &raced, &err);
    mid_compact = 0;
    ok(rc == 0 && raced == 1,
       "a compact made during a fold: the fold says it raced, does nothing");
    ok(tmp_files(dir) == 0, "and removes its temporary file");
    expect_after_hook(dir, "after the lost race");
}

static void
test_killed_between_renames(void)
{
    char dir[PATH_MAX], path[PATH_MAX + 16];
    jwtrev_store_progress p = {hook, NULL};
    jwtrev_store_check_report rep;
    jwtrev_store_stats s;
    jwtrev_error err;
    int raced = 0;
    size_t i;
    int stale = 0;

    st_store("behind", dir);
    jwtrev_store_daemon_set(dir, "/run/jwtrev/t.sock", &err);
    fill(dir);
    mid_dir = dir;
    mid_calls = 0;
    snprintf(mid_save, sizeof(mid_save), "%s/../behind.delta", dir);
    jwtrev_store_fold(dir, 0, &p, NULL, &raced, &err);
    /* The new base with the delta as it was before the fold's second
     * rename: what a fold killed between the two leaves. */
    snprintf(path, sizeof(path), "%s/delta.db", dir);
    ok(rename(mid_save, path) == 0, "the delta of before put back");
    mid_save[0] = '\0';
    expect_after_hook(dir, "a delta one fold behind");
    jwtrev_store_check(dir, 0, &rep, &err);
    for (i = 0; i < rep.n_files; i++)
        stale |= rep.files[i].verdict == JWTREV_CHECK_STALE;
    ok(rep.damaged == 0 && !stale,
       "jwtrev check: neither damaged nor stale (%s)", rep.summary);
    put_reason(dir, "w1", 0, "after");
    ok(jwtrev_store_stats_get(dir, &s, &err) == 0 && s.recent == 6 &&
           s.entries[JWTREV_ENTRY_TOKEN] == 15,
       "the next write restates the delta on the new base (%llu changes, "
       "%llu entries)",
       (unsigned long long)s.recent,
       (unsigned long long)s.entries[JWTREV_ENTRY_TOKEN]);
    expect_after_hook(dir, "after that write");
}

/* Flip bits of one byte of dir/name in place. */
static int
poke(const char *dir, const char *name, long off, unsigned char bits)
{
    char path[PATH_MAX + 16];
    unsigned char b;
    int fd, rc = -1;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_RDWR);
    if (fd >= 0 && pread(fd, &b, 1, off) == 1) {
        b ^= bits;
        rc = pwrite(fd, &b, 1, off) == 1 ? 0 : -1;
    }
    if (fd >= 0)
        close(fd);
    return rc;
}

/* A meta page that says "partitioned" (once a SIGSEGV in Berkeley DB's
 * __partc_get, found by store_corrupt), "encrypted", or another magic:
 * refused before Berkeley DB reads it. */
static void
test_meta_page(void)
{
    static const struct {
        const char *file, *what;
        long off;
        unsigned char bits;
    } cases[] = {
        /* the checksum flag off (no page checked), a partition flag on */
        {"base.db", "partitioned by range", 26, 0x03},
        {"base.db", "partitioned by callback", 26, 0x05},
        {"delta.db", "partitioned by range", 26, 0x03},
        {"base.db", "partitioned, checksums on", 26, 0x02},
        {"base.db", "checksums off", 26, 0x01},
        {"base.db", "encrypted", 24, 0x01},
        {"base.db", "another magic", 12, 0x80},
        {"base.db", "a page size never written", 21, 0x01},
    };
    char dir[PATH_MAX], name[32];
    jwtrev_revdb *db;
    jwtrev_error err;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(name, sizeof(name), "meta%zu", i);
        st_store(name, dir);
        put_reason(dir, "m1", 0, NULL);
        if (poke(dir, cases[i].file, cases[i].off, cases[i].bits) != 0) {
            ok(0, "poke %s", cases[i].file);
            continue;
        }
        db = NULL;
        ok(jwtrev_revdb_open(dir, &db, &err) == -JWTREV_ERR_DB_ERROR &&
               strstr(err.detail, cases[i].file) != NULL,
           "%s %s: db_error naming it, no crash (%s)", cases[i].file,
           cases[i].what, err.detail);
        jwtrev_revdb_close(db);
    }
}

int
main(void)
{
    st_setup();
    test_marker();
    test_no_inline_fold();
    test_fold_with_writes();
    test_fold_race();
    test_killed_between_renames();
    test_meta_page();
    return tap_done();
}
