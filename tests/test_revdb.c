/*
 * test_revdb.c - the revocation store's reader: what each entry kind
 * rejects and until when, tombstones, purge boundaries, new versions,
 * and the store troubles that must fail closed (db_error).
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "store_testutil.h"

static unsigned char hash_a[32];

/* The entries every semantics case runs against. */
static void
fill(const char *dir)
{
    memset(hash_a, 0xaa, sizeof(hash_a));
    st_put(dir,
           st_entry(JWTREV_ENTRY_TOKEN, "https://a", "t1", 2000, 0, "logout"));
    st_put(dir, st_entry(JWTREV_ENTRY_TOKEN, "", "t2", 0, 0, NULL));
    st_put(dir, st_entry(JWTREV_ENTRY_HASH, NULL, (const char *)hash_a, 2000, 0,
                         NULL));
    st_put(dir, st_entry(JWTREV_ENTRY_SUBJECT, "https://a", "alice", 0, 1000,
                         "password changed"));
    st_put(dir, st_entry(JWTREV_ENTRY_SUBJECT, "https://a", "bob", 1500, 1000,
                         NULL));
    st_put(dir, st_entry(JWTREV_ENTRY_KEY, NULL, "k1", 0, 0, "compromised"));
    st_put(dir, st_entry(JWTREV_ENTRY_KEY, NULL, "k2", 1200, 0, NULL));
}

static const struct sem_case {
    const char *what;
    const char *kid, *iss, *sub, *jti;
    int64_t iat;
    unsigned char hashbyte; /* 0xaa: hash_a */
    int64_t now;
    int want;
} sem_cases[] = {
    {"token by (iss, jti)", NULL, "https://a", NULL, "t1", 10, 1, 1500,
     -JWTREV_ERR_REVOKED},
    {"token entry the second before until", NULL, "https://a", NULL, "t1", 10,
     1, 1999, -JWTREV_ERR_REVOKED},
    {"token entry at until: over", NULL, "https://a", NULL, "t1", 10, 1, 2000,
     0},
    {"same jti, other issuer", NULL, "https://b", NULL, "t1", 10, 1, 1500, 0},
    {"same jti, no issuer", NULL, NULL, NULL, "t1", 10, 1, 1500, 0},
    {"no issuer matches the empty issuer", NULL, NULL, NULL, "t2", 10, 1, 1500,
     -JWTREV_ERR_REVOKED},
    {"empty-issuer entry, token with issuer", NULL, "https://a", NULL, "t2", 10,
     1, 1500, 0},
    {"entry without until never ends", NULL, NULL, NULL, "t2", 10, 1, INT64_MAX,
     -JWTREV_ERR_REVOKED},
    {"token without jti by hash", NULL, "https://a", NULL, NULL, 10, 0xaa, 1500,
     -JWTREV_ERR_REVOKED},
    {"hash also checked for tokens with a jti", NULL, "https://a", NULL, "zz",
     10, 0xaa, 1500, -JWTREV_ERR_REVOKED},
    {"other hash", NULL, "https://a", NULL, NULL, 10, 0xab, 1500, 0},
    {"subject: issued before T", NULL, "https://a", "alice", NULL, 999, 1, 1500,
     -JWTREV_ERR_SUBJECT_REVOKED},
    {"subject: issued at T", NULL, "https://a", "alice", NULL, 1000, 1, 1500,
     0},
    {"subject: no iat", NULL, "https://a", "alice", NULL, -1, 1, 1500,
     -JWTREV_ERR_SUBJECT_REVOKED},
    {"subject: other issuer", NULL, "https://b", "alice", NULL, 999, 1, 1500,
     0},
    {"subject entry before its until", NULL, "https://a", "bob", NULL, 999, 1,
     1499, -JWTREV_ERR_SUBJECT_REVOKED},
    {"subject entry after its until", NULL, "https://a", "bob", NULL, 999, 1,
     1500, 0},
    {"key by kid", "k1", "https://a", "carol", "x", 10, 1, 1500,
     -JWTREV_ERR_KEY_REVOKED},
    {"key entry before its until", "k2", NULL, NULL, NULL, 10, 1, 1199,
     -JWTREV_ERR_KEY_REVOKED},
    {"key entry at its until", "k2", NULL, NULL, NULL, 10, 1, 1200, 0},
    {"kid is not a jti", NULL, NULL, NULL, "k1", 10, 1, 1500, 0},
    {"token entries decide first", "k1", "https://a", "alice", "t1", 0, 0xaa,
     1500, -JWTREV_ERR_REVOKED},
    {"then the subject", "k1", "https://a", "alice", "t9", 0, 1, 1500,
     -JWTREV_ERR_SUBJECT_REVOKED},
    {"then the key", "k1", "https://a", "alice", "t9", 1000, 1, 1500,
     -JWTREV_ERR_KEY_REVOKED},
    {"nothing matches", "k9", "https://a", "dave", "t9", 10, 1, 1500, 0},
};

static void
run_semantics(const char *dir, const char *where)
{
    jwtrev_revdb *db = NULL;
    jwtrev_error err;
    jwtrev_token t;
    size_t i;
    int rc;

    ok(jwtrev_revdb_open(dir, &db, &err) == 0, "%s: open", where);
    if (db == NULL)
        return;
    for (i = 0; i < sizeof(sem_cases) / sizeof(sem_cases[0]); i++) {
        const struct sem_case *c = &sem_cases[i];
        t = st_token(c->kid, c->iss, c->sub, c->jti, c->iat, c->hashbyte);
        jwtrev_error_clear(&err);
        rc = jwtrev_revdb_check(db, &t, c->now, &err);
        if (!ok(rc == c->want, "%s: %s", where, c->what))
            tap_diag("got %d (%s), want %d", rc, err.detail, c->want);
    }
    t = st_token("k1", NULL, NULL, NULL, 1, 1);
    jwtrev_revdb_check(db, &t, 1500, &err);
    ok(strstr(err.detail, "k1") && strstr(err.detail, "compromised") &&
           strstr(err.detail, "1970-01-01T00:01:40Z"),
       "%s: the detail names the entry, time and reason: %s", where,
       err.detail);
    jwtrev_revdb_close(db);
}

static void
test_semantics(void)
{
    char dir[PATH_MAX], long_jti[2001];
    jwtrev_revdb *db;
    jwtrev_error err;
    jwtrev_token t;

    st_store("sem", dir);
    fill(dir);
    run_semantics(dir, "in the delta");
    ok(jwtrev_store_compact(dir, NULL, &err) == 0, "compact");
    run_semantics(dir, "in the base");
    memset(long_jti, 'j', sizeof(long_jti) - 1);
    long_jti[sizeof(long_jti) - 1] = '\0';
    t = st_token(long_jti, long_jti, long_jti, long_jti, 1, 1);
    jwtrev_revdb_open(dir, &db, &err);
    ok(jwtrev_revdb_check(db, &t, 1500, &err) == 0,
       "ids longer than a store holds are simply absent");
    jwtrev_revdb_close(db);
}

/* The check result for jti at now 1500 through a handle. */
static int
check_jti(jwtrev_revdb *db, const char *jti)
{
    jwtrev_token t = st_token(NULL, "i", NULL, jti, 1, 1);
    jwtrev_error err;

    return jwtrev_revdb_check(db, &t, 1500, &err);
}

static void
test_tombstones(void)
{
    char dir[PATH_MAX];
    jwtrev_entry e = st_entry(JWTREV_ENTRY_TOKEN, "i", "a", 0, 0, NULL);
    jwtrev_entry f = st_entry(JWTREV_ENTRY_TOKEN, "i", "b", 0, 0, NULL);
    jwtrev_revdb *db;
    jwtrev_error err;
    jwtrev_store_stats s;
    int removed = -1;

    st_store("tomb", dir);
    st_put(dir, e);
    jwtrev_store_compact(dir, NULL, &err);
    st_put(dir, f);
    jwtrev_revdb_open(dir, &db, &err);
    ok(check_jti(db, "a") == -JWTREV_ERR_REVOKED &&
           check_jti(db, "b") == -JWTREV_ERR_REVOKED,
       "one entry in the base, one in the delta");
    ok(jwtrev_store_remove(dir, &e, &removed, &err) == 0 && removed == 1,
       "remove the base's entry");
    ok(check_jti(db, "a") == 0, "a tombstone hides the base's entry");
    ok(jwtrev_store_stats_get(dir, &s, &err) == 0 &&
           s.entries[JWTREV_ENTRY_TOKEN] == 1 && s.recent == 2,
       "stats count the tombstone out");
    ok(jwtrev_store_remove(dir, &e, &removed, &err) == 0 && removed == 0,
       "removing it again finds nothing");
    ok(jwtrev_store_remove(dir, &f, &removed, &err) == 0 && removed == 1 &&
           check_jti(db, "b") == 0,
       "remove the delta's entry");
    st_put(dir, e);
    ok(check_jti(db, "a") == -JWTREV_ERR_REVOKED,
       "revoking again replaces the tombstone");
    jwtrev_store_remove(dir, &e, &removed, &err);
    ok(jwtrev_store_compact(dir, NULL, &err) == 0 && check_jti(db, "a") == 0,
       "compaction folds the tombstone: still absent");
    ok(jwtrev_store_stats_get(dir, &s, &err) == 0 && s.entries[0] == 0 &&
           s.recent == 0,
       "and the store is empty");
    jwtrev_revdb_close(db);
}

static void
test_combine(void)
{
    char dir[PATH_MAX];
    jwtrev_revdb *db;
    jwtrev_error err;
    jwtrev_token t = st_token(NULL, "i", "s", NULL, 700, 1);

    st_store("combine", dir);
    st_put(dir, st_entry(JWTREV_ENTRY_SUBJECT, "i", "s", 3000, 1000, NULL));
    st_put(dir, st_entry(JWTREV_ENTRY_SUBJECT, "i", "s", 2000, 500, NULL));
    jwtrev_revdb_open(dir, &db, &err);
    ok(jwtrev_revdb_check(db, &t, 2500, &err) == -JWTREV_ERR_SUBJECT_REVOKED,
       "a second revocation never weakens the first (later T, later until)");
    jwtrev_store_compact(dir, NULL, &err);
    st_put(dir, st_entry(JWTREV_ENTRY_SUBJECT, "i", "s", 0, 1, NULL));
    ok(jwtrev_revdb_check(db, &t, 999999, &err) == -JWTREV_ERR_SUBJECT_REVOKED,
       "nor over an entry in the base; until 0 wins");
    jwtrev_revdb_close(db);
}

static void
test_purge(void)
{
    char dir[PATH_MAX];
    jwtrev_store_stats s;
    jwtrev_error err;
    uint64_t dropped = 0;

    st_store("purge", dir);
    st_put(dir, st_entry(JWTREV_ENTRY_TOKEN, "i", "old", 100, 0, NULL));
    st_put(dir, st_entry(JWTREV_ENTRY_TOKEN, "i", "new", 101, 0, NULL));
    st_put(dir, st_entry(JWTREV_ENTRY_KEY, NULL, "k", 0, 0, NULL));
    jwtrev_store_compact(dir, NULL, &err);
    st_put(dir, st_entry(JWTREV_ENTRY_SUBJECT, "i", "s", 50, 10, NULL));
    st_put(dir, st_entry(JWTREV_ENTRY_SUBJECT, "i", "t", 0, 10, NULL));
    ok(jwtrev_store_purge(dir, 100, NULL, &dropped, &err) == 0, "purge at 100");
    ok(dropped == 2, "dropped the entries with until <= now (%llu)",
       (unsigned long long)dropped);
    ok(jwtrev_store_stats_get(dir, &s, &err) == 0 && s.entries[0] == 3 &&
           s.entries[JWTREV_ENTRY_TOKEN] == 1 &&
           s.entries[JWTREV_ENTRY_SUBJECT] == 1 && s.recent == 0,
       "kept until 101 and the entries without until");
    ok(jwtrev_store_purge(dir, 0, NULL, &dropped, &err) ==
           -JWTREV_ERR_CONFIG_ERROR,
       "purge needs a time");
}

/* A new version a writer installed by rename but never announced (it
 * was killed before bumping gen): seen by the once-a-second full check. */
static void
install_unannounced(const char *dir, const char *jti)
{
    storep_txn w;
    storep_out *o;
    storep_rec r;
    storep_str iss = {"i", 1};
    jwtrev_error err;

    memset(&r, 0, sizeof(r));
    r.e = st_entry(JWTREV_ENTRY_TOKEN, "i", jti, 0, 0, NULL);
    ok(storep_txn_begin(dir, &w, &err) == 0 &&
           storep_out_begin(&w, "delta.db", w.base->id, &iss, 1, 1, &o, &err) ==
               0 &&
           storep_out_add(o, &r, &err) == 0 && storep_out_finish(o, &err) == 0,
       "install a delta without bumping gen");
    storep_txn_end(&w);
}

static void
test_new_versions(void)
{
    char dir[PATH_MAX];
    jwtrev_revdb *db, *db2;
    jwtrev_error err;

    st_store("versions", dir);
    ok(jwtrev_revdb_open(dir, &db, &err) == 0, "open an empty store");
    ok(check_jti(db, "a") == 0, "nothing revoked");
    st_put(dir, st_entry(JWTREV_ENTRY_TOKEN, "i", "a", 0, 0, NULL));
    ok(check_jti(db, "a") == -JWTREV_ERR_REVOKED,
       "an open handle sees a change the moment the writer returns");
    jwtrev_store_compact(dir, NULL, &err);
    st_put(dir, st_entry(JWTREV_ENTRY_TOKEN, "i", "b", 0, 0, NULL));
    ok(check_jti(db, "a") == -JWTREV_ERR_REVOKED &&
           check_jti(db, "b") == -JWTREV_ERR_REVOKED,
       "and a new base with a new delta");
    jwtrev_store_compact(dir, NULL, &err);
    install_unannounced(dir, "c");
    ok(jwtrev_revdb_open(dir, &db2, &err) == 0 &&
           check_jti(db2, "c") == -JWTREV_ERR_REVOKED,
       "a new handle reads what is in place");
    jwtrev_revdb_close(db2);
    sleep(2);
    ok(check_jti(db, "c") == -JWTREV_ERR_REVOKED &&
           check_jti(db, "a") == -JWTREV_ERR_REVOKED,
       "an old handle finds it within the full-check interval");
    jwtrev_revdb_close(db);
}

/* A delta left by a writer killed between its new base and new delta. */
static void
test_stale_delta(void)
{
    char dir[PATH_MAX], from[PATH_MAX + 16], to[PATH_MAX + 16];
    jwtrev_revdb *db;
    jwtrev_error err;

    st_store("stale", dir);
    st_put(dir, st_entry(JWTREV_ENTRY_TOKEN, "i", "a", 0, 0, NULL));
    snprintf(from, sizeof(from), "%s/delta.db", dir);
    snprintf(to, sizeof(to), "%s/old-delta", dir);
    link(from, to);
    jwtrev_store_compact(dir, NULL, &err);
    rename(to, from);
    ok(jwtrev_revdb_open(dir, &db, &err) == 0 &&
           check_jti(db, "a") == -JWTREV_ERR_REVOKED,
       "a delta naming an older base is ignored: the base holds it");
    ok(st_put(dir, st_entry(JWTREV_ENTRY_TOKEN, "i", "b", 0, 0, NULL)) == 0 &&
           check_jti(db, "b") == -JWTREV_ERR_REVOKED &&
           check_jti(db, "a") == -JWTREV_ERR_REVOKED,
       "the next writer replaces it");
    jwtrev_revdb_close(db);
}

/* A file of the store replaced by garbage, or truncated. */
static void
break_file(const char *dir, const char *name, const char *data, size_t len)
{
    char path[PATH_MAX + 16];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
        if (write(fd, data, len) != (ssize_t)len)
            tap_diag("short write");
        close(fd);
    }
}

/* Set the format version record of dir/base.db with Berkeley DB. */
static int
set_version(const char *dir, uint32_t version)
{
    char path[PATH_MAX + 16];
    unsigned char v[4];
    DB *db;
    DBT k, d;
    int rc;

    snprintf(path, sizeof(path), "%s/base.db", dir);
    storep_put_u32(v, version);
    memset(&k, 0, sizeof(k));
    memset(&d, 0, sizeof(d));
    k.data = (void *)(uintptr_t) "\0version"; /* only read */
    k.size = 8;
    d.data = v;
    d.size = 4;
    if (db_create(&db, NULL, 0) != 0)
        return -1;
    rc = db->open(db, NULL, path, NULL, DB_BTREE, 0, 0);
    if (rc == 0)
        rc = db->put(db, NULL, &k, &d, 0);
    db->close(db, 0);
    return rc;
}

/* Announce a change the way a writer does, without one. */
static void
bump_gen(const char *dir)
{
    char path[PATH_MAX + 16];
    uint64_t gen = 0;
    int fd;

    snprintf(path, sizeof(path), "%s/gen", dir);
    fd = open(path, O_RDWR);
    if (fd >= 0 && pread(fd, &gen, 8, 8) == 8) {
        gen++;
        if (pwrite(fd, &gen, 8, 8) != 8)
            tap_diag("cannot write gen");
    } else {
        tap_diag("cannot read gen");
    }
    if (fd >= 0)
        close(fd);
    /* As every writer does: readers read gen at most this often. */
    usleep(STOREP_GEN_TTL_NS / 1000 + 100);
}

static int
open_fails(const char *dir, const char *needle, const char *what)
{
    jwtrev_revdb *db = NULL;
    jwtrev_error err;
    int rc = jwtrev_revdb_open(dir, &db, &err);

    jwtrev_revdb_close(db);
    if (!ok(rc == -JWTREV_ERR_DB_ERROR && strstr(err.detail, needle),
            "%s: db_error", what))
        tap_diag("got %d: %s", rc, err.detail);
    return rc;
}

static void
test_troubles(void)
{
    char dir[PATH_MAX], path[PATH_MAX + 16];
    jwtrev_revdb *db;
    jwtrev_error err;

    snprintf(path, sizeof(path), "%s/none", st_root);
    open_fails(path, "none", "missing store");
    st_store("version", dir);
    ok(set_version(dir, 2) == 0, "make a base of format version 2");
    open_fails(dir, "store format version 2", "unknown version");
    st_store("corrupt", dir);
    break_file(dir, "delta.db", "garbage, not a B-tree", 21);
    open_fails(dir, "delta.db", "garbage delta");
    st_store("truncated", dir);
    break_file(dir, "base.db", "", 0);
    open_fails(dir, "base.db", "empty base");
    st_store("gen", dir);
    break_file(dir, "gen", "JWTRGEN", 7);
    open_fails(dir, "gen", "short gen file");
    st_store("live", dir);
    st_put(dir, st_entry(JWTREV_ENTRY_TOKEN, "i", "a", 0, 0, NULL));
    jwtrev_revdb_open(dir, &db, &err);
    break_file(dir, "delta.db", "garbage, not a B-tree", 21);
    ok(st_put(dir, st_entry(JWTREV_ENTRY_TOKEN, "i", "b", 0, 0, NULL)) ==
           -JWTREV_ERR_DB_ERROR,
       "a writer refuses a broken store");
    ok(check_jti(db, "a") == -JWTREV_ERR_REVOKED,
       "a handle keeps the files it has until gen moves");
    bump_gen(dir);
    jwtrev_error_clear(&err);
    ok(check_jti(db, "a") == -JWTREV_ERR_DB_ERROR,
       "then it fails closed on the broken file");
    jwtrev_revdb_close(db);
}

/* The path of the store's filter file bloom.<id>. */
static int
bloom_path(const char *dir, char *buf, size_t len)
{
    struct dirent *de;
    DIR *d = opendir(dir);
    int rc = -1;

    while (d != NULL && (de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "bloom.", 6) == 0 &&
            snprintf(buf, len, "%s/%s", dir, de->d_name) < (int)len)
            rc = 0;
    }
    if (d != NULL)
        closedir(d);
    return rc;
}

static void
test_modes(void)
{
    static const char *const names[] = {"", "/base.db", "/delta.db", "/gen"};
    char dir[PATH_MAX], path[PATH_MAX + 16];
    jwtrev_revdb *db;
    jwtrev_error err;
    struct stat st;
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        st_store("modes", dir);
        snprintf(path, sizeof(path), "%s%s", dir, names[i]);
        stat(path, &st);
        chmod(path, st.st_mode | S_IWOTH);
        open_fails(dir, "writable by others", path);
        chmod(path, st.st_mode);
    }
    ok(jwtrev_revdb_open(dir, &db, &err) == 0, "fixed modes: opens again");
    chmod(dir, 0702);
    sleep(2);
    ok(check_jti(db, "a") == -JWTREV_ERR_DB_ERROR,
       "an open handle refuses the store once it turns world-writable");
    chmod(dir, 0700);
    ok(check_jti(db, "a") == 0, "and takes it back when fixed");
    for (i = 1; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", dir, names[i]);
        stat(path, &st);
        chmod(path, st.st_mode | S_IWOTH);
        sleep(1);
        usleep(100000);
        ok(check_jti(db, "a") == -JWTREV_ERR_DB_ERROR,
           "an open handle refuses %s once it turns world-writable",
           names[i] + 1);
        chmod(path, st.st_mode);
    }
    ok(check_jti(db, "a") == 0, "all fixed: it works again");
    if (bloom_path(dir, path, sizeof(path)) == 0) {
        chmod(path, 0602);
        sleep(1);
        usleep(100000);
        ok(check_jti(db, "a") == -JWTREV_ERR_DB_ERROR,
           "and refuses a world-writable filter");
        chmod(path, 0600);
    } else {
        ok(0, "the store has a filter file");
    }
    jwtrev_revdb_close(db);
}

int
main(void)
{
    st_setup();
    test_semantics();
    test_tombstones();
    test_combine();
    test_purge();
    test_new_versions();
    test_stale_delta();
    test_troubles();
    test_modes();
    return tap_done();
}
