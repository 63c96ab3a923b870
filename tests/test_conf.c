/*
 * test_conf.c - the one option parser: every option by word and by file
 * shown to take effect, the errors, and the strict-file refusals.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jose/josep.h"
#include "tap.h"

#define MAXW 4

/* The settings of c that differ from the defaults, in a fixed order. */
static void
dump(const jwtrev_conf *c, char *buf, size_t cap)
{
    static const char *const flag_names[] = {
        "debug", "use_first_pass", "try_first_pass", "aud_from_service"};
    FILE *f;
    size_t i;

    buf[0] = '\0';
    f = fmemopen(buf, cap, "w");
#define LIST(l, name)                                                          \
    for (i = 0; i < (l).n; i++)                                                \
        fprintf(f, " " name "=%s", (l).v[i]);
#define JOINED(l, name)                                                        \
    do {                                                                       \
        fprintf(f, " " name "=");                                              \
        for (i = 0; i < (l).n; i++)                                            \
            fprintf(f, "%s%s", i ? "," : "", (l).v[i]);                        \
    } while (0)

    LIST(c->keys, "key");
    LIST(c->secrets, "secret");
    if (c->algs != JWTREV_ALGSET_ALL) {
        fprintf(f, " alg=");
        for (i = 0; i < JWTREV_ALG_COUNT; i++)
            if (JWTREV_ALGSET_HAS(c->algs, i))
                fprintf(f, "%s%s", c->algs & ((1u << i) - 1) ? "," : "",
                        jwtrev_alg_name((jwtrev_alg)i));
    }
    LIST(c->issuers, "iss");
    LIST(c->audiences, "aud");
    if (c->leeway != JWTREV_DEFAULT_LEEWAY)
        fprintf(f, " leeway=%lld", (long long)c->leeway);
    if (c->max_age != -1)
        fprintf(f, " max_age=%lld", (long long)c->max_age);
    if (c->required_set)
        JOINED(c->required, "require");
    if (c->types.n > 0)
        JOINED(c->types, "typ");
    if (c->user_claim_set || c->user_claim != NULL)
        fprintf(f, " user_claim=%s%s", c->user_claim,
                c->user_claim_set ? "" : "(not set?)");
    if (c->db != NULL)
        fprintf(f, " db=%s", c->db);
    if (c->on_db_error != JWTREV_ON_DB_ERROR_DENY)
        fprintf(f, " on_db_error=%s",
                c->on_db_error == JWTREV_ON_DB_ERROR_IGNORE  ? "ignore"
                : c->on_db_error == JWTREV_ON_DB_ERROR_ALLOW ? "allow"
                                                             : "?");
    for (i = 0; i < 4; i++)
        if (c->flags & (1u << i))
            fprintf(f, " %s", flag_names[i]);
    if (c->flags & ~0x0fu)
        fprintf(f, " flags=%#x", c->flags);
    if (c->export_claims.n > 0)
        JOINED(c->export_claims, "export_claims");
    if (c->require_user || c->max_token_len != JWTREV_DEFAULT_MAX_TOKEN_LEN)
        fprintf(f, " (changed a field no option sets)");
    fclose(f);
#undef LIST
#undef JOINED
}

struct set_case {
    const char *words[MAXW];
    const char *want; /* dump() after the words, without the leading ' ' */
};

static const struct set_case set_cases[] = {
    {{NULL}, ""},
    {{"key=/etc/k1.pem"}, "key=/etc/k1.pem"},
    {{"key=/a", "key=kid1#/b"}, "key=/a key=kid1#/b"},
    {{"secret=/s1", "secret=/s2"}, "secret=/s1 secret=/s2"},
    {{"alg=RS256"}, "alg=RS256"},
    {{"alg=EdDSA, ES256 RS256"}, "alg=RS256,ES256,EdDSA"},
    {{"alg=RS256", "alg=HS512"}, "alg=HS512"},
    {{"iss=https://a.example", "iss=b"}, "iss=https://a.example iss=b"},
    {{"aud=api", "aud=api2"}, "aud=api aud=api2"},
    {{"leeway=0"}, "leeway=0"},
    {{"leeway=5", "leeway=604800"}, "leeway=604800"},
    {{"max_age=0"}, "max_age=0"},
    {{"max_age=3600"}, "max_age=3600"},
    {{"require=exp,iat sub"}, "require=exp,iat,sub"},
    {{"require="}, "require="},
    {{"require=iat", "require=nbf"}, "require=nbf"},
    {{"typ=at+jwt,application/JWT"}, "typ=at+jwt,application/JWT"},
    {{"user_claim=email"}, "user_claim=email"},
    {{"user_claim=a", "user_claim=b"}, "user_claim=b"},
    {{"db=/var/lib/x"}, "db=/var/lib/x"},
    {{"on_db_error=ignore"}, "on_db_error=ignore"},
    {{"on_db_error=allow"}, "on_db_error=allow"},
    {{"on_db_error=allow", "on_db_error=deny"}, ""},
    {{"debug"}, "debug"},
    {{"use_first_pass"}, "use_first_pass"},
    {{"try_first_pass"}, "try_first_pass"},
    {{"aud_from_service", "debug"}, "debug aud_from_service"},
    {{"export_claims=email,name"}, "export_claims=email,name"},
    {{"export_claims=a", "export_claims=b c"}, "export_claims=b,c"},
};

static int
apply_words(jwtrev_conf *c, const char *const *words, jwtrev_error *err)
{
    int i, rc;

    for (i = 0; i < MAXW && words[i] != NULL; i++)
        if ((rc = jwtrev_conf_set_word(c, words[i], err)) != 0)
            return rc;
    return 0;
}

/* Write the words as config lines, with some noise a file may hold. */
static void
write_file(const char *path, const char *const *words)
{
    FILE *f = fopen(path, "w");
    int i;

    fprintf(f, "# a comment\n\n   \t\n");
    for (i = 0; i < MAXW && words[i] != NULL; i++) {
        const char *eq = strchr(words[i], '=');
        if (eq != NULL)
            fprintf(f, "  %.*s = %s \t\r\n", (int)(eq - words[i]), words[i],
                    eq + 1);
        else
            fprintf(f, "\t%s\n", words[i]);
        fprintf(f, "    # indented comment\n");
    }
    fclose(f);
}

static void
test_set(const char *dir)
{
    char got[1024], path[512];
    jwtrev_conf c;
    jwtrev_error err;
    size_t i;
    int rc;

    snprintf(path, sizeof(path), "%s/set.conf", dir);
    for (i = 0; i < sizeof(set_cases) / sizeof(set_cases[0]); i++) {
        const struct set_case *sc = &set_cases[i];
        jwtrev_conf_init(&c);
        rc = apply_words(&c, sc->words, &err);
        dump(&c, got, sizeof(got));
        ok(rc == 0 && strcmp(got + (*got == ' '), sc->want) == 0,
           "words give '%s'", sc->want);
        if (strcmp(got + (*got == ' '), sc->want) != 0)
            tap_diag("got '%s' (%s)", got, rc ? err.detail : "no error");
        jwtrev_conf_free(&c);

        write_file(path, sc->words);
        rc = jwtrev_conf_load_file(&c, path, JWTREV_CONF_FILE_STRICT, &err);
        dump(&c, got, sizeof(got));
        ok(rc == 0 && strcmp(got + (*got == ' '), sc->want) == 0,
           "a file gives '%s'", sc->want);
        if (rc != 0)
            tap_diag("%s", err.detail);
        jwtrev_conf_free(&c);
        dump(&c, got, sizeof(got));
        ok(*got == '\0', "free leaves the defaults");
    }
}

/* jwtrev_conf_set by name and value, as the CLI calls it. */
static void
test_set_by_name(void)
{
    char got[256];
    jwtrev_conf c;
    jwtrev_error err;

    jwtrev_conf_init(&c);
    ok(jwtrev_conf_set(&c, "max_age", "60", &err) == 0 &&
           jwtrev_conf_set(&c, "aud_from_service", NULL, &err) == 0 &&
           jwtrev_conf_set(&c, "iss", "a=b", &err) == 0,
       "options by name and value");
    dump(&c, got, sizeof(got));
    ok(strcmp(got, " iss=a=b max_age=60 aud_from_service") == 0,
       "a value may hold '='");
    jwtrev_conf_free(&c);
}

struct err_case {
    const char *word;
    const char *detail; /* must appear in err.detail */
};

static const struct err_case err_cases[] = {
    {"bogus=1", "unknown option 'bogus'"},
    {"bogus", "unknown option 'bogus'"},
    {"=5", "unknown option ''"},
    {"config=/etc/x.conf", "unknown option 'config'"},
    {"Leeway=5", "unknown option 'Leeway'"},
    {"leeway=abc", "leeway"},
    {"leeway=-1", "leeway"},
    {"leeway=+1", "leeway"},
    {"leeway=1.5", "leeway"},
    {"leeway= 5", "leeway"},
    {"leeway=604801", "leeway"},
    {"leeway=99999999999999999999999", "leeway"},
    {"max_age=316224001", "max_age"},
    {"max_age=0x10", "max_age"},
    {"leeway", "option leeway needs a value"},
    {"key", "option key needs a value"},
    {"key=", "option key has an empty value"},
    {"iss=", "option iss has an empty value"},
    {"debug=1", "option debug takes no value"},
    {"use_first_pass=", "option use_first_pass takes no value"},
    {"on_db_error=maybe", "on_db_error"},
    {"on_db_error=DENY", "on_db_error"},
    {"alg=none", "none"},
    {"alg=RS256,XS256", "XS256"},
    {"alg=rs256", "rs256"},
    {"alg=", "option alg has an empty value"},
    {"alg=,", "alg"},
};

/* Every error is config_error with a detail naming it, and a failed
 * option leaves the conf as it was. */
static void
test_errors(void)
{
    char before[512], after[512];
    jwtrev_conf c;
    jwtrev_error err;
    size_t i;
    int rc;

    for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
        jwtrev_conf_init(&c);
        jwtrev_conf_set_word(&c, "leeway=7", NULL);
        jwtrev_conf_set_word(&c, "alg=ES256", NULL);
        dump(&c, before, sizeof(before));
        jwtrev_error_clear(&err);
        rc = jwtrev_conf_set_word(&c, err_cases[i].word, &err);
        dump(&c, after, sizeof(after));
        ok(rc == -JWTREV_ERR_CONFIG_ERROR &&
               err.code == JWTREV_ERR_CONFIG_ERROR &&
               strstr(err.detail, err_cases[i].detail) != NULL &&
               strcmp(before, after) == 0,
           "'%s' refused: %s", err_cases[i].word, err.detail);
        jwtrev_conf_free(&c);
    }
}

static int
load(const char *path, unsigned flags, jwtrev_error *err)
{
    jwtrev_conf c;
    int rc;

    jwtrev_conf_init(&c);
    rc = jwtrev_conf_load_file(&c, path, flags, err);
    jwtrev_conf_free(&c);
    return rc;
}

static void
put(const char *path, const char *text, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    if (write(fd, text, len) != (ssize_t)len)
        tap_diag("short write to %s", path);
    close(fd);
    chmod(path, mode);
}

/* The detail names the file and line, and says what is wrong. */
static void
expect_refusal(const char *path, unsigned flags, const char *what,
               const char *why)
{
    jwtrev_error err;
    int rc = load(path, flags, &err);

    ok(rc == -JWTREV_ERR_CONFIG_ERROR && strstr(err.detail, path) != NULL &&
           strstr(err.detail, what) != NULL,
       "%s: %s", why, err.detail);
}

static void
test_file_errors(const char *dir)
{
    char path[512], at[600], big[5000];
    const char bad[] = "leeway=5\n# fine\nbogus=1\n";

    snprintf(path, sizeof(path), "%s/e.conf", dir);
    put(path, bad, strlen(bad), 0644);
    snprintf(at, sizeof(at), "%s:3: unknown option 'bogus'", path);
    expect_refusal(path, 0, at, "an error names file:line and the option");

    put(path, "iss=a\nleeway=x\n", 15, 0644);
    snprintf(at, sizeof(at), "%s:2: option leeway", path);
    expect_refusal(path, 0, at, "a bad number names file:line");

    memset(big, 'a', sizeof(big));
    memcpy(big, "iss=", 4);
    put(path, big, sizeof(big), 0644);
    expect_refusal(path, 0, ":1: line too long", "an overlong line");

    put(path, "iss=a\0b\n", 8, 0644);
    expect_refusal(path, 0, ":1: line too long or not text", "a NUL byte");

    put(path, "debug", 5, 0644);
    ok(load(path, JWTREV_CONF_FILE_STRICT, NULL) == 0,
       "a last line without a newline is read");

    snprintf(path, sizeof(path), "%s/missing.conf", dir);
    expect_refusal(path, 0, "No such file", "a missing file is named");
}

static void
test_strict(const char *dir)
{
    char path[512], link[600];
    const char text[] = "leeway=1\n";

    ok(geteuid() == 0, "running as root (needed to test file owners)");
    snprintf(path, sizeof(path), "%s/s.conf", dir);
    put(path, text, strlen(text), 0644);
    ok(load(path, JWTREV_CONF_FILE_STRICT, NULL) == 0,
       "strict: root's 0644 file is read");
    put(path, text, strlen(text), 0600);
    ok(load(path, JWTREV_CONF_FILE_STRICT, NULL) == 0,
       "strict: root's 0600 file is read");
    put(path, text, strlen(text), 0664);
    expect_refusal(path, JWTREV_CONF_FILE_STRICT, "writable by group",
                   "strict: group-writable refused");
    put(path, text, strlen(text), 0646);
    expect_refusal(path, JWTREV_CONF_FILE_STRICT, "writable by group",
                   "strict: other-writable refused");
    ok(load(path, 0, NULL) == 0, "not strict: other-writable is read");

    put(path, text, strlen(text), 0644);
    ok(chown(path, 65534, 65534) == 0, "chown to nobody");
    expect_refusal(path, JWTREV_CONF_FILE_STRICT, "not owned by root",
                   "strict: a file of another user refused");
    ok(load(path, 0, NULL) == 0, "not strict: another user's file is read");

    snprintf(link, sizeof(link), "%s/l.conf", dir);
    put(path, text, strlen(text), 0644);
    ok(chown(path, 0, 0) == 0 && symlink(path, link) == 0, "a symlink");
    expect_refusal(link, JWTREV_CONF_FILE_STRICT, "symbolic link",
                   "strict: a symlink refused");
    expect_refusal(link, 0, "symbolic link", "not strict: symlink refused");
    expect_refusal(dir, 0, "not a regular file", "a directory refused");
}

/* A file then words: repeatable options add, the others replace. */
static void
test_file_then_words(const char *dir)
{
    char path[512], got[512];
    const char text[] = "key=/k1\niss=a\nleeway=5\nalg=RS256\n";
    jwtrev_conf c;

    snprintf(path, sizeof(path), "%s/fw.conf", dir);
    put(path, text, strlen(text), 0644);
    jwtrev_conf_init(&c);
    ok(jwtrev_conf_load_file(&c, path, 0, NULL) == 0 &&
           jwtrev_conf_set_word(&c, "key=/k2", NULL) == 0 &&
           jwtrev_conf_set_word(&c, "iss=b", NULL) == 0 &&
           jwtrev_conf_set_word(&c, "leeway=9", NULL) == 0 &&
           jwtrev_conf_set_word(&c, "alg=ES256", NULL) == 0,
       "a file, then words");
    dump(&c, got, sizeof(got));
    ok(strcmp(got, " key=/k1 key=/k2 alg=ES256 iss=a iss=b leeway=9") == 0,
       "keys and issuers added, leeway and alg replaced: %s", got);
    jwtrev_conf_free(&c);
}

int
main(void)
{
    char dir[] = "/tmp/test_conf.XXXXXX";
    char cmd[64];

    if (mkdtemp(dir) == NULL)
        return 1;
    test_set(dir);
    test_set_by_name();
    test_errors();
    test_file_errors(dir);
    test_strict(dir);
    test_file_then_words(dir);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", dir);
    return tap_done();
}
