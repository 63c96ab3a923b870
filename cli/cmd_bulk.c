/*
 * cmd_bulk.c - the store commands over all entries: purge, compact, dump
 * and load.  Each write makes one new base file in one pass; progress
 * shows on stderr when it is a terminal.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd_store.h"

#define LINE_PROGRESS 65536

static const struct option bulk_opts[] = {
    {"now", required_argument, NULL, SOPT_NOW},
    {"db", required_argument, NULL, SOPT_DB},
    {"help", no_argument, NULL, SOPT_HELP},
    {NULL, 0, NULL, 0}};

/* The table without --now, for the commands that take no time. */
static const struct option *const nonow_opts = bulk_opts + 1;

struct bulk_args {
    const char *db;
    const char *arg; /* load: the file */
    int64_t now;
    int help;
};

static void
bulk_init(struct bulk_args *a, struct cli *cli)
{
    memset(a, 0, sizeof(*a));
    a->db = cli->db;
    a->now = cli_now();
}

/*
 * Fill *a from the arguments (defaults from cli first).  With --help,
 * usage is printed and a->help set: the caller returns rc either way.
 */
static int
bulk_parse(struct cli *cli, const char *cmd, const char *usage, int argc,
           char **argv, const struct option *opts, int max_args,
           struct bulk_args *a)
{
    int c;

    bulk_init(a, cli);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c == ':' || c == '?')
            return cli_getopt_error(cmd, c, argv);
        if (c == SOPT_NOW &&
            store_parse_time(cmd, "--now", optarg, &a->now) != CLI_OK)
            return CLI_USAGE;
        if (c == SOPT_DB)
            a->db = optarg;
        a->help |= c == SOPT_HELP;
    }
    if (argc - optind > max_args)
        return cli_usage_error(cmd, "unexpected argument '%s'",
                               argv[optind + max_args]);
    a->arg = optind < argc ? argv[optind] : NULL;
    if (a->help)
        fputs(usage, stdout);
    return CLI_OK;
}

/* ---- purge, compact ------------------------------------------------------ */

int
cmd_purge(struct cli *cli, int argc, char **argv)
{
    struct store_progress sp;
    struct bulk_args a;
    jwtrev_error err;
    char sock[PATH_MAX];
    uint64_t dropped = 0;
    int rc;

    rc = bulk_parse(cli, "purge",
                    "usage: jwtrev purge [--now EPOCH]\n\nDrop the entries "
                    "whose until has passed (their tokens are expired\n"
                    "anyway); entries without until stay.\n"
                    "Exit: 0 done, 2 usage, 3 store error.\n",
                    argc, argv, bulk_opts, 0, &a);
    if (rc != CLI_OK || a.help)
        return rc;
    rc = store_daemon_of("purge", a.db, sock, sizeof(sock));
    if (rc < 0)
        return -rc;
    if (rc == 1) {
        rc = store_daemon_fold("purge", sock, a.now, &dropped);
        if (rc != CLI_OK)
            return rc;
        printf("purged %llu entries\n", (unsigned long long)dropped);
        return CLI_OK;
    }
    store_progress_init(&sp, "purge");
    jwtrev_error_clear(&err);
    rc = jwtrev_store_purge(a.db, a.now, &sp.p, &dropped, &err);
    store_progress_end(&sp);
    if (rc != 0)
        return store_fail("purge", rc, &err);
    printf("purged %llu entries\n", (unsigned long long)dropped);
    return CLI_OK;
}

int
cmd_compact(struct cli *cli, int argc, char **argv)
{
    struct store_progress sp;
    struct bulk_args a;
    jwtrev_error err;
    char sock[PATH_MAX];
    int rc;

    rc = bulk_parse(cli, "compact",
                    "usage: jwtrev compact\n\nFold the recent changes "
                    "(delta.db) into a new base.db.\n"
                    "Exit: 0 done, 2 usage, 3 store error.\n",
                    argc, argv, nonow_opts, 0, &a);
    if (rc != CLI_OK || a.help)
        return rc;
    rc = store_daemon_of("compact", a.db, sock, sizeof(sock));
    if (rc < 0)
        return -rc;
    if (rc == 1) {
        rc = store_daemon_fold("compact", sock, 0, NULL);
        if (rc == CLI_OK)
            printf("compacted\n");
        return rc;
    }
    store_progress_init(&sp, "compact");
    jwtrev_error_clear(&err);
    rc = jwtrev_store_compact(a.db, &sp.p, &err);
    store_progress_end(&sp);
    if (rc != 0)
        return store_fail("compact", rc, &err);
    printf("compacted\n");
    return CLI_OK;
}

/* ---- dump ---------------------------------------------------------------- */

int
cmd_dump(struct cli *cli, int argc, char **argv)
{
    struct store_progress sp;
    struct bulk_args a;
    jwtrev_error err;
    int rc;

    rc = bulk_parse(cli, "dump",
                    "usage: jwtrev dump > FILE\n\nWrite every entry as "
                    "JSON Lines, in key order (jwtrev load reads it).\n"
                    "Exit: 0 done, 2 usage, 3 store error.\n",
                    argc, argv, nonow_opts, 0, &a);
    if (rc != CLI_OK || a.help)
        return rc;
    store_progress_init(&sp, "dump");
    jwtrev_error_clear(&err);
    rc = jwtrev_store_foreach(a.db, JWTREV_ENTRY_ALL, store_print_json_line,
                              NULL, &sp.p, &err);
    store_progress_end(&sp);
    if (rc == 0 && fflush(stdout) != 0)
        rc = -JWTREV_ERR_INTERNAL;
    if (rc == -JWTREV_ERR_INTERNAL && err.detail[0] == '\0')
        rc = jwtrev_fail(&err, JWTREV_ERR_INTERNAL, "cannot write the dump: %s",
                         strerror(errno));
    return rc == 0 ? CLI_OK : store_fail("dump", rc, &err);
}

/* ---- load ---------------------------------------------------------------- */

/* One line into the batch (and, through a daemon, to it); CLI_OK or
 * CLI_USAGE (printed). */
static int
load_line(const char *name, uint64_t lineno, char *line, size_t len,
          int64_t now, jwtrev_store_batch *b, struct store_daemon_load *dl)
{
    unsigned char hash[JWTREV_STORE_HASH_LEN];
    json_error_t jerr;
    jwtrev_error err;
    jwtrev_entry e;
    const char *why = NULL;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    int rc = CLI_OK;

    jwtrev_error_clear(&err);
    if (o == NULL || !json_is_object(o))
        why = o == NULL ? jerr.text : "not a JSON object";
    else if (store_entry_from_json(o, now, hash, &e, &why) == 0 &&
             jwtrev_store_batch_add(b, &e, lineno, &err) != 0)
        why = err.detail;
    if (why != NULL) {
        cli_error("load: %s:%llu: %s (nothing loaded)", name,
                  (unsigned long long)lineno, why);
        rc = CLI_USAGE;
    } else if (dl != NULL) {
        /* The entry as read, revoked_at and the defaults filled in (e
         * borrows from o: o goes after). */
        json_t *full = jwtrev_entry_to_json(&e);

        rc = full != NULL ? store_daemon_load_add(dl, full) : CLI_USAGE;
        json_decref(full);
    }
    json_decref(o);
    return rc;
}

/* Every line of in into b; stops at the first bad one. */
static int
load_read(FILE *in, const char *name, int64_t now, jwtrev_store_batch *b,
          struct store_daemon_load *dl, struct store_progress *sp)
{
    struct stat st;
    uint64_t lineno = 0, total = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = CLI_OK;

    if (fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode))
        total = (uint64_t)st.st_size;
    while (rc == CLI_OK && (n = getline(&line, &cap, in)) >= 0) {
        lineno++;
        if (n > 0 && line[n - 1] == '\n')
            n--;
        if (n > 0 && line[n - 1] == '\r')
            n--;
        if (n > 0)
            rc = load_line(name, lineno, line, (size_t)n, now, b, dl);
        if (total > 0 && lineno % LINE_PROGRESS == 0)
            store_progress_show(sp, "reading", (uint64_t)ftello(in), total);
    }
    free(line);
    if (rc == CLI_OK && ferror(in)) {
        cli_error("load: %s: %s", name, strerror(errno));
        rc = CLI_USAGE;
    }
    return rc;
}

/* Write the batch; the exit code, with the message printed. */
static int
load_commit(const char *db, const char *name, jwtrev_store_batch *b,
            struct store_progress *sp)
{
    jwtrev_error err;
    int rc;

    jwtrev_error_clear(&err);
    rc = jwtrev_store_batch_commit(db, b, &sp->p, &err);
    store_progress_end(sp);
    if (rc == -JWTREV_ERR_CONFIG_ERROR)
        cli_error("load: %s: %s (nothing loaded)", name, err.detail);
    else if (rc != 0)
        cli_report_error("load", rc, &err);
    return cli_exit_code(rc);
}

static int
load_run(const struct bulk_args *a)
{
    const char *name = a->arg == NULL || strcmp(a->arg, "-") == 0
                           ? "(standard input)"
                           : a->arg;
    FILE *in = name == a->arg ? fopen(a->arg, "r") : stdin;
    jwtrev_store_batch *b = NULL;
    struct store_daemon_load *dl = NULL;
    struct store_progress sp;
    char sock[PATH_MAX];
    int rc;

    if (in == NULL) {
        cli_error("load: %s: %s", a->arg, strerror(errno));
        return CLI_USAGE;
    }
    store_progress_init(&sp, "load");
    rc = store_daemon_of("load", a->db, sock, sizeof(sock));
    if (rc < 0)
        rc = -rc;
    else if (rc == 1)
        rc = store_daemon_load_begin(sock, &dl);
    if (rc != CLI_OK) {
        if (in != stdin)
            fclose(in);
        return rc;
    }
    if (jwtrev_store_batch_new(&b) != 0) {
        cli_error("load: out of memory");
        rc = CLI_USAGE;
    } else {
        /* Through a daemon the batch still checks every line here, so
         * that a bad file is refused before anything is sent for good. */
        rc = load_read(in, name, a->now, b, dl, &sp);
    }
    store_progress_end(&sp);
    if (dl != NULL) {
        int end = store_daemon_load_end(dl, rc == CLI_OK);

        rc = rc == CLI_OK ? end : rc;
    } else if (rc == CLI_OK && jwtrev_store_batch_count(b) > 0) {
        rc = load_commit(a->db, name, b, &sp);
    }
    if (rc == CLI_OK)
        printf("loaded %llu entries\n",
               (unsigned long long)jwtrev_store_batch_count(b));
    jwtrev_store_batch_free(b);
    if (in != stdin)
        fclose(in);
    return rc;
}

int
cmd_load(struct cli *cli, int argc, char **argv)
{
    struct bulk_args a;
    int rc;

    rc = bulk_parse(cli, "load",
                    "usage: jwtrev load [--now EPOCH] [FILE|-]\n\nAdd the "
                    "entries of a JSON Lines file (the dump format) in one "
                    "pass:\none new base file.  A bad line stops it before "
                    "anything is written.\nrevoked_at defaults to --now, "
                    "until to 0 (none), before to --now.\n"
                    "Exit: 0 loaded, 2 bad input or usage, 3 store error.\n",
                    argc, argv, bulk_opts, 1, &a);
    if (rc != CLI_OK || a.help)
        return rc;
    return load_run(&a);
}
