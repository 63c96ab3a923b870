/*
 * bench_pam - the cost of one pam_jwtrev authentication in-process, next
 * to the verification alone.
 *
 *   bench_pam pam SERVICE USER TOKENFILE N [MODULE]
 *       N times pam_start, pam_authenticate, pam_end through the real
 *       libpam (run under pam_wrapper for a private service file);
 *       pam_authenticate is the module's work: options, keys, store,
 *       verification and lookup.  With MODULE, the module is held loaded
 *       so that libpam's dlopen and dlclose do not map and unmap it and
 *       its libraries on every round.
 *   bench_pam verify KEYFILE TOKENFILE N
 *       N calls of jwtrev_verify with a key and policy loaded once.
 *
 * Prints the median over 5 rounds of N of the microseconds per operation:
 * "AUTH FULL" for pam (pam_authenticate alone, and pam_start to pam_end),
 * "VERIFY" for verify.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <security/pam_appl.h>

#include "jwtrev.h"

#define ROUNDS 5

static double
now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static char *
read_token(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = calloc(1, 16385);
    size_t n;

    if (f == NULL || buf == NULL) {
        perror(path);
        exit(2);
    }
    n = fread(buf, 1, 16384, f);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return buf;
}

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
     void *token)
{
    struct pam_response *r = calloc((size_t)n, sizeof(*r));
    int i;

    if (r == NULL)
        return PAM_BUF_ERR;
    for (i = 0; i < n; i++)
        if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF)
            r[i].resp = strdup(token);
    *resp = r;
    return PAM_SUCCESS;
}

/*
 * One round of n authentications: the mean cost of pam_authenticate alone
 * (the module's work) in *auth_us and of the whole pam_start ..  pam_end
 * (libpam reading the service file, dlopen and dlclose of the module and
 * the libraries it needs) in *full_us; -1 when one is refused.
 */
static int
round_pam(const char *service, const char *user, char *token, long n,
          double *auth_us, double *full_us)
{
    struct pam_conv pc = {conv, token};
    double auth = 0, t0 = now_us();
    long i;

    for (i = 0; i < n; i++) {
        pam_handle_t *ph = NULL;
        int rc = pam_start(service, user, &pc, &ph);
        double a0 = now_us();

        if (rc == PAM_SUCCESS)
            rc = pam_authenticate(ph, PAM_SILENT);
        auth += now_us() - a0;
        pam_end(ph, rc);
        if (rc != PAM_SUCCESS) {
            fprintf(stderr, "bench_pam: authentication refused (%d)\n", rc);
            return -1;
        }
    }
    *auth_us = auth / (double)n;
    *full_us = (now_us() - t0) / (double)n;
    return 0;
}

/* One round of n verifications with preloaded key and policy. */
static double
round_verify(const jwtrev_policy *p, const jwtrev_keyring *kr,
             const char *token, long n)
{
    size_t len = strlen(token);
    double t0 = now_us();
    long i;

    for (i = 0; i < n; i++) {
        jwtrev_token t;
        jwtrev_error err;
        int rc;

        memset(&t, 0, sizeof(t));
        rc = jwtrev_verify(p, kr, token, len, (int64_t)time(NULL), 0, &t, &err);

        jwtrev_token_clear(&t);
        if (rc != 0) {
            fprintf(stderr, "bench_pam: verify: %s\n", err.detail);
            return -1;
        }
    }
    return (now_us() - t0) / (double)n;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Sort the rounds; -1 when one failed. */
static int
median(double *us, double *out)
{
    int i;

    for (i = 0; i < ROUNDS; i++)
        if (us[i] < 0)
            return -1;
    qsort(us, ROUNDS, sizeof(*us), cmp_double);
    *out = us[ROUNDS / 2];
    return 0;
}

static int
bench_verify(const char *keyfile, char *token, long n)
{
    jwtrev_conf c;
    jwtrev_keyring *kr = NULL;
    jwtrev_policy *p = NULL;
    jwtrev_error err;
    double us[ROUNDS], med;
    int i, rc = 1;

    jwtrev_conf_init(&c);
    if (jwtrev_conf_set(&c, "key", keyfile, &err) != 0 ||
        jwtrev_keyring_load(&c, &kr, &err) != 0 ||
        jwtrev_policy_new(&c, &p, &err) != 0) {
        fprintf(stderr, "bench_pam: %s\n", err.detail);
        goto done;
    }
    for (i = 0; i < ROUNDS; i++)
        us[i] = round_verify(p, kr, token, n);
    if (median(us, &med) == 0) {
        printf("%.1f\n", med);
        rc = 0;
    }
done:
    jwtrev_policy_free(p);
    jwtrev_keyring_free(kr);
    jwtrev_conf_free(&c);
    return rc;
}

static int
bench_pam(const char *service, const char *user, char *token, long n)
{
    double auth[ROUNDS], full[ROUNDS], a, f;
    int i;

    for (i = 0; i < ROUNDS; i++)
        if (round_pam(service, user, token, n, &auth[i], &full[i]) < 0)
            return 1;
    if (median(auth, &a) < 0 || median(full, &f) < 0)
        return 1;
    printf("%.1f %.1f\n", a, f);
    return 0;
}

int
main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[argc - 1]) : 0;
    char *token;
    int rc;

    if (argc == 7 && strcmp(argv[1], "pam") == 0) {
        /* Held for the whole run: libpam's dlclose only drops a count. */
        if (dlopen(argv[6], RTLD_NOW) == NULL) {
            fprintf(stderr, "bench_pam: %s\n", dlerror());
            return 2;
        }
        n = atol(argv[5]);
        argc = 6;
    }
    if (n > 0 && argc == 6 && strcmp(argv[1], "pam") == 0) {
        token = read_token(argv[4]);
        rc = bench_pam(argv[2], argv[3], token, n);
    } else if (n > 0 && argc == 5 && strcmp(argv[1], "verify") == 0) {
        token = read_token(argv[3]);
        rc = bench_verify(argv[2], token, n);
    } else {
        fprintf(stderr, "usage: bench_pam pam SERVICE USER TOKENFILE N "
                        "[MODULE]\n"
                        "       bench_pam verify KEYFILE TOKENFILE N\n");
        return 2;
    }
    free(token);
    return rc;
}
