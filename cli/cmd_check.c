/*
 * cmd_check.c - jwtrev check: verify the whole store, and with --rebuild
 * rewrite what can be rewritten from intact files.
 *
 * Exit codes (docs/design.md 5.1): 0 intact (after --rebuild: made
 * intact), 1 damage found or not all of it repaired (the answer is "no",
 * as 1 is for a rejected or revoked token), 2 usage, 3 the store cannot
 * be examined at all (its directory missing, refused or unreadable: the
 * store error every command reports).
 */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_store.h"

#define SOPT_REBUILD (SOPT_KIND + 1)

static const struct option check_opts[] = {
    {"rebuild", no_argument, NULL, SOPT_REBUILD},
    {"json", no_argument, NULL, SOPT_JSON},
    {"db", required_argument, NULL, SOPT_DB},
    {"help", no_argument, NULL, SOPT_HELP},
    {NULL, 0, NULL, 0}};

static const char check_usage[] =
    "usage: jwtrev check [--rebuild] [--json]\n"
    "\n"
    "Verify the whole store: every page of base.db and delta.db (page\n"
    "checksums), their meta records and entries, that delta.db extends\n"
    "base.db, the filter, gen and lock; leftover temporary files.  One\n"
    "line per file, then a summary.  --rebuild, under the writers' lock,\n"
    "rewrites a damaged or missing filter and a stale delta.db from an\n"
    "intact base.db and removes leftovers; it never rewrites a damaged\n"
    "base.db or delta.db (restore those with jwtrev load from a dump).\n"
    "Exit: 0 intact, 1 damage found (or not all repaired), 2 usage,\n"
    "3 the store cannot be read at all.\n";

static void
print_file(const jwtrev_store_check_file *f)
{
    printf("%s: %s", f->name, jwtrev_check_verdict_name(f->verdict));
    if (f->detail[0] != '\0') {
        fputs(": ", stdout);
        cli_fputs_printable(f->detail, stdout);
    }
    if (strcmp(f->name, "base.db") == 0 || strcmp(f->name, "delta.db") == 0) {
        if (f->verdict == JWTREV_CHECK_OK || f->records > 0)
            printf(" (%llu %s)", (unsigned long long)f->records,
                   f->name[0] == 'b' ? "entries" : "changes");
        if (f->checksums == 0)
            fputs(" (no page checksums: written by an older jwtrev; "
                  "jwtrev check --rebuild rewrites it with them)",
                  stdout);
    }
    putchar('\n');
    if (f->action[0] != '\0') {
        printf("  %s: ", f->repaired ? "repaired" : "rebuild");
        cli_fputs_printable(f->action, stdout);
        putchar('\n');
    }
}

static void
print_text(const jwtrev_store_check_report *r)
{
    size_t i;

    for (i = 0; i < r->n_files; i++)
        print_file(&r->files[i]);
    if (r->n_omitted > 0)
        printf("... and %zu more leftover files\n", r->n_omitted);
    fputs("check: ", stdout);
    cli_fputs_printable(r->summary, stdout);
    putchar('\n');
}

static json_t *
file_json(const jwtrev_store_check_file *f)
{
    json_t *o = json_object();
    int bad = o == NULL;

    bad |= json_object_set_new(o, "name", json_string(f->name));
    bad |= json_object_set_new(
        o, "verdict", json_string(jwtrev_check_verdict_name(f->verdict)));
    bad |= json_object_set_new(o, "repaired", json_boolean(f->repaired));
    bad |= json_object_set_new(o, "detail", json_string(f->detail));
    bad |= json_object_set_new(o, "action", json_string(f->action));
    if (strcmp(f->name, "base.db") == 0 || strcmp(f->name, "delta.db") == 0) {
        bad |= json_object_set_new(o, "records", json_integer(f->records));
        bad |= json_object_set_new(
            o, "checksums",
            f->checksums < 0 ? json_null() : json_boolean(f->checksums));
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int
print_json(const jwtrev_store_check_report *r)
{
    json_t *o = json_object(), *files = json_array(), *ent = json_object();
    size_t i;
    int bad = o == NULL || files == NULL || ent == NULL, k;

    for (i = 0; !bad && i < r->n_files; i++)
        bad |= json_array_append_new(files, file_json(&r->files[i]));
    bad |= json_object_set_new(ent, "total", json_integer(r->entries[0]));
    for (k = JWTREV_ENTRY_TOKEN; k <= JWTREV_ENTRY_KEY; k++)
        bad |= json_object_set_new(ent, jwtrev_entry_kind_name(k),
                                   json_integer(r->entries[k]));
    bad |= json_object_set_new(o, "intact", json_boolean(r->damaged == 0));
    bad |= json_object_set_new(o, "summary", json_string(r->summary));
    bad |= json_object_set(o, "entries", ent);
    bad |= json_object_set_new(o, "changes", json_integer(r->changes));
    bad |= json_object_set_new(o, "damaged", json_integer(r->damaged));
    bad |= json_object_set_new(o, "repaired", json_integer(r->repaired));
    bad |=
        json_object_set_new(o, "unchecksummed", json_integer(r->unchecksummed));
    bad |= json_object_set_new(o, "omitted", json_integer(r->n_omitted));
    bad |= json_object_set(o, "files", files);
    if (!bad)
        bad |= json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 ||
               putchar('\n') == EOF;
    json_decref(ent);
    json_decref(files);
    json_decref(o);
    return bad ? -1 : 0;
}

int
cmd_check(struct cli *cli, int argc, char **argv)
{
    jwtrev_store_check_report *r;
    const char *db = cli->db;
    jwtrev_error err;
    unsigned flags = 0;
    int c, json = 0, help = 0, rc;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", check_opts, NULL)) != -1) {
        if (c == ':' || c == '?')
            return cli_getopt_error("check", c, argv);
        if (c == SOPT_REBUILD)
            flags |= JWTREV_STORE_CHECK_REBUILD;
        json |= c == SOPT_JSON;
        help |= c == SOPT_HELP;
        if (c == SOPT_DB)
            db = optarg;
    }
    if (help) {
        fputs(check_usage, stdout);
        return CLI_OK;
    }
    if (optind < argc)
        return cli_usage_error("check", "unexpected argument '%s'",
                               argv[optind]);
    r = malloc(sizeof(*r));
    if (r == NULL) {
        cli_error("check: out of memory");
        return CLI_STORE;
    }
    jwtrev_error_clear(&err);
    rc = jwtrev_store_check(db, flags, r, &err);
    if (rc != 0 && (rc != -JWTREV_ERR_DB_ERROR || !r->examined)) {
        free(r);
        return store_fail("check", rc, &err);
    }
    if ((json ? print_json(r) : (print_text(r), 0)) != 0 ||
        fflush(stdout) != 0) {
        free(r);
        cli_error("check: cannot write the report");
        return CLI_STORE;
    }
    free(r);
    return rc == 0 ? CLI_OK : CLI_REJECTED;
}
