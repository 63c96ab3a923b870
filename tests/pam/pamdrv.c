/*
 * pamdrv - a small PAM application for the pam_jwtrev tests: runs the
 * real libpam (under pam_wrapper) through a list of steps on one handle
 * and prints what each returned, so a shell test can assert on it.
 *
 *   pamdrv [-t TOKENFILE] SERVICE USER STEP...
 *
 * Steps: auth, acct, setcred, env (print the PAM environment), user:NAME
 * (set PAM_USER), token:FILE (answer later prompts with FILE instead),
 * sh:COMMAND (run COMMAND with system(3) between steps).  Each echo-off
 * prompt is answered with the bytes of the token file, taken as they are;
 * the number of prompts is printed last ("prompts N").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

struct conv_data {
    char *token; /* NULL: no answer (the conversation fails) */
    int prompts;
};

static const struct {
    int code;
    const char *name;
} pam_names[] = {
    {PAM_SUCCESS, "PAM_SUCCESS"},
    {PAM_AUTH_ERR, "PAM_AUTH_ERR"},
    {PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL"},
    {PAM_IGNORE, "PAM_IGNORE"},
    {PAM_SERVICE_ERR, "PAM_SERVICE_ERR"},
    {PAM_PERM_DENIED, "PAM_PERM_DENIED"},
    {PAM_USER_UNKNOWN, "PAM_USER_UNKNOWN"},
    {PAM_ACCT_EXPIRED, "PAM_ACCT_EXPIRED"},
    {PAM_CRED_INSUFFICIENT, "PAM_CRED_INSUFFICIENT"},
    {PAM_SYSTEM_ERR, "PAM_SYSTEM_ERR"},
    {PAM_BUF_ERR, "PAM_BUF_ERR"},
    {PAM_CONV_ERR, "PAM_CONV_ERR"},
    {PAM_ABORT, "PAM_ABORT"},
    {PAM_MODULE_UNKNOWN, "PAM_MODULE_UNKNOWN"},
    {PAM_SYMBOL_ERR, "PAM_SYMBOL_ERR"},
    {PAM_OPEN_ERR, "PAM_OPEN_ERR"},
    {PAM_TRY_AGAIN, "PAM_TRY_AGAIN"},
    {PAM_NEW_AUTHTOK_REQD, "PAM_NEW_AUTHTOK_REQD"},
};

static const char *
pam_name(int code)
{
    size_t i;

    for (i = 0; i < sizeof(pam_names) / sizeof(pam_names[0]); i++)
        if (pam_names[i].code == code)
            return pam_names[i].name;
    return "PAM_OTHER";
}

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
     void *appdata)
{
    struct conv_data *cd = appdata;
    struct pam_response *r = calloc((size_t)n, sizeof(*r));
    int i;

    if (r == NULL)
        return PAM_BUF_ERR;
    for (i = 0; i < n; i++) {
        if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF)
            continue; /* info and error texts need no answer */
        cd->prompts++;
        if (cd->token == NULL || (r[i].resp = strdup(cd->token)) == NULL) {
            for (; i >= 0; i--)
                free(r[i].resp);
            free(r);
            return PAM_CONV_ERR;
        }
    }
    *resp = r;
    return PAM_SUCCESS;
}

/* The whole file, as a string (a token with a NUL byte is cut there). */
static char *
read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, len = 0, n;

    if (f == NULL)
        return NULL;
    do {
        char *grown = realloc(buf, cap + 4097);
        if (grown == NULL) {
            free(buf);
            fclose(f);
            return NULL;
        }
        buf = grown;
        cap += 4096;
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    buf[len] = '\0';
    fclose(f);
    return buf;
}

static void
print_env(pam_handle_t *ph)
{
    char **env = pam_getenvlist(ph), **e;

    for (e = env; e != NULL && *e != NULL; e++) {
        printf("env %s\n", *e);
        free(*e);
    }
    free(env);
}

/*
 * The commands are helpers (jwtrev, mv), not PAM applications: without
 * pam_wrapper, which leaves its scratch copy of the service files behind
 * in processes that _exit (dash does).
 */
static int
run_command(const char *cmd)
{
    unsetenv("LD_PRELOAD");
    unsetenv("PAM_WRAPPER");
    return system(cmd);
}

/* Run one step; 0, or -1 for an unknown step or an unreadable file. */
static int
run_step(pam_handle_t *ph, struct conv_data *cd, const char *step)
{
    if (strncmp(step, "token:", 6) == 0) {
        free(cd->token);
        if ((cd->token = read_file(step + 6)) == NULL) {
            perror(step + 6);
            return -1;
        }
        return 0;
    }
    if (strcmp(step, "auth") == 0)
        printf("auth %s\n", pam_name(pam_authenticate(ph, 0)));
    else if (strcmp(step, "acct") == 0)
        printf("acct %s\n", pam_name(pam_acct_mgmt(ph, 0)));
    else if (strcmp(step, "setcred") == 0)
        printf("setcred %s\n", pam_name(pam_setcred(ph, PAM_ESTABLISH_CRED)));
    else if (strcmp(step, "env") == 0)
        print_env(ph);
    else if (strncmp(step, "user:", 5) == 0)
        printf("user %s\n", pam_name(pam_set_item(ph, PAM_USER, step + 5)));
    else if (strncmp(step, "sh:", 3) == 0)
        printf("sh %d\n", run_command(step + 3));
    else
        return -1;
    fflush(stdout);
    return 0;
}

int
main(int argc, char **argv)
{
    struct conv_data cd = {NULL, 0};
    struct pam_conv pc = {conv, &cd};
    pam_handle_t *ph = NULL;
    int i = 1, rc = 0;

    if (argc > 2 && strcmp(argv[1], "-t") == 0) {
        if ((cd.token = read_file(argv[2])) == NULL) {
            perror(argv[2]);
            return 2;
        }
        i = 3;
    }
    if (argc - i < 3) {
        fprintf(stderr, "usage: pamdrv [-t TOKENFILE] SERVICE USER STEP...\n");
        return 2;
    }
    if (pam_start(argv[i], argv[i + 1], &pc, &ph) != PAM_SUCCESS) {
        fprintf(stderr, "pamdrv: pam_start failed\n");
        return 2;
    }
    for (i += 2; i < argc && rc == 0; i++)
        if ((rc = run_step(ph, &cd, argv[i])) != 0)
            fprintf(stderr, "pamdrv: bad step %s\n", argv[i]);
    printf("prompts %d\n", cd.prompts);
    pam_end(ph, PAM_SUCCESS);
    free(cd.token);
    return rc == 0 ? 0 : 2;
}
