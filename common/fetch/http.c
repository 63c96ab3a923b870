/*
 * http.c - one GET into memory over libcurl, with the rules of
 * docs/design.md 10: https with certificate checks, plain http only to
 * loopback, a size cap, timeouts, redirects only to https.
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "jwtrev_fetch.h"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void
global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct xfer {
    char *data;
    size_t len, cap, max;
    int too_large;
    int64_t max_age;
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
    size_t len = size * n;
    char *d;

    if (len > x->max - x->len) {
        x->too_large = 1;
        return 0;
    }
    if (x->len + len + 1 > x->cap) {
        size_t cap = (x->len + len + 1) * 2;
        if (cap > x->max + 1)
            cap = x->max + 1;
        if ((d = realloc(x->data, cap)) == NULL)
            return 0;
        x->data = d;
        x->cap = cap;
    }
    memcpy(x->data + x->len, p, len);
    x->len += len;
    x->data[x->len] = '\0';
    return len;
}

/* max-age=N in a Cache-Control value; -1 when absent or unreadable. */
static int64_t
parse_max_age(const char *v, size_t n)
{
    size_t i;
    int64_t age = -1;

    for (i = 0; i + 8 <= n; i++) {
        if (strncasecmp(v + i, "max-age=", 8) != 0)
            continue;
        if (i > 0 && v[i - 1] != ' ' && v[i - 1] != ',' && v[i - 1] != '\t')
            continue;
        age = 0;
        for (i += 8; i < n && isdigit((unsigned char)v[i]); i++)
            age = age < 100000000 ? age * 10 + (v[i] - '0') : age;
        return age;
    }
    return age;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
    size_t len = size * n;

    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0)
        x->max_age = -1; /* a new answer (after a redirect) */
    else if (len > 14 && strncasecmp(p, "cache-control:", 14) == 0)
        x->max_age = parse_max_age(p + 14, len - 14);
    return len;
}

static int
is_loopback(const char *host)
{
    return strcmp(host, "127.0.0.1") == 0 || strcmp(host, "[::1]") == 0 ||
           strcmp(host, "::1") == 0 || strcasecmp(host, "localhost") == 0;
}

/* The scheme rule, before anything is sent: *plain set for loopback http. */
static int
check_url(const char *url, int *plain, int *why, jwtrev_error *err)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    int rc = 0;

    if (u == NULL)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        rc = jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR, "not a URL");
    } else if (strcasecmp(scheme, "https") == 0) {
        *plain = 0;
    } else if (strcasecmp(scheme, "http") == 0 && is_loopback(host)) {
        *plain = 1;
    } else {
        rc = jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                         "%s: refused: https only (plain http only to "
                         "127.0.0.1, ::1 or localhost)",
                         host);
    }
    if (rc != 0 && why != NULL)
        *why = JWTREV_FETCH_REFUSED;
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

static int
setup(CURL *c, const char *url, int plain, const jwtrev_fetch_opts *o,
      struct xfer *x, char *errbuf)
{
    long ct = o->connect_timeout > 0 ? o->connect_timeout
                                     : JWTREV_FETCH_CONNECT_TIMEOUT;
    long t = o->timeout > 0 ? o->timeout : JWTREV_FETCH_TIMEOUT;
    int bad = 0;

    bad |= curl_easy_setopt(c, CURLOPT_URL, url);
    bad |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85: the _STR forms */
    bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, plain ? "http" : "https");
    bad |= curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
#else
    bad |=
        curl_easy_setopt(c, CURLOPT_PROTOCOLS,
                         plain ? (long)CURLPROTO_HTTP : (long)CURLPROTO_HTTPS);
    bad |= curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
    bad |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    bad |=
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)JWTREV_FETCH_MAX_REDIRS);
    bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->ca_file != NULL)
        bad |= curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
    /* loopback never goes through a proxy from the environment */
    bad |= curl_easy_setopt(c, CURLOPT_NOPROXY, "127.0.0.1,::1,localhost");
    bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, ct);
    bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT, t);
    bad |= curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max);
    bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    bad |= curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    bad |= curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    bad |= curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
    bad |= curl_easy_setopt(c, CURLOPT_USERAGENT, "jwtrev/" PACKAGE_VERSION);
    bad |= curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    return bad;
}

/* A curl failure as a sentence naming the step. */
static int
transfer_error(CURLcode rc, const struct xfer *x, const char *errbuf,
               long timeout, int *why, jwtrev_error *err)
{
    const char *what;

    *why = JWTREV_FETCH_NETWORK;
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
        what = "DNS";
        break;
    case CURLE_COULDNT_CONNECT:
        what = "connect";
        break;
    case CURLE_OPERATION_TIMEDOUT:
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR, "timeout (%ld s): %s",
                           timeout, errbuf);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        what = "TLS verify";
        break;
    case CURLE_SSL_CONNECT_ERROR:
        what = "TLS";
        break;
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_WRITE_ERROR:
        if (rc == CURLE_FILESIZE_EXCEEDED || x->too_large) {
            *why = JWTREV_FETCH_ANSWER;
            return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                               "too large (over %zu bytes)", x->max);
        }
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_UNSUPPORTED_PROTOCOL:
        *why = JWTREV_FETCH_ANSWER;
        what = "redirect";
        break;
    default:
        what = curl_easy_strerror(rc);
        break;
    }
    return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR, "%s: %s", what,
                       errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
}

/* Status 200 and a body that begins as a JSON object would. */
static int
check_answer(CURL *c, const struct xfer *x, int *why, jwtrev_error *err)
{
    long status = 0;
    char *type = NULL;
    size_t i = 0;

    *why = JWTREV_FETCH_ANSWER;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR, "status %ld", status);
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
    while (i < x->len && isspace((unsigned char)x->data[i]))
        i++;
    if ((type != NULL && strstr(type, "html") != NULL) || i == x->len ||
        x->data[i] != '{')
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "not JSON (Content-Type %s)",
                           type != NULL ? type : "none");
    return 0;
}

int
jwtrev_fetch_url(const char *url, const jwtrev_fetch_opts *o,
                 jwtrev_fetch_body *out, int *why, jwtrev_error *err)
{
    static const jwtrev_fetch_opts defaults;
    struct xfer x = {NULL, 0, 0, 0, 0, -1};
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *c = NULL;
    CURLcode crc;
    int plain, w = 0, rc;

    if (o == NULL)
        o = &defaults;
    x.max = o->max_size > 0 ? o->max_size : JWTREV_FETCH_MAX_SIZE;
    if ((rc = check_url(url, &plain, why, err)) != 0)
        return rc;
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK || (c = curl_easy_init()) == NULL)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "libcurl init failed");
    if (setup(c, url, plain, o, &x, errbuf) != 0) {
        rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "libcurl setup failed");
        goto done;
    }
    crc = curl_easy_perform(c);
    if (crc != CURLE_OK)
        rc = transfer_error(crc, &x, errbuf,
                            o->timeout > 0 ? o->timeout : JWTREV_FETCH_TIMEOUT,
                            &w, err);
    else
        rc = check_answer(c, &x, &w, err);
    if (rc == 0) {
        out->data = x.data;
        out->len = x.len;
        out->max_age = x.max_age;
        x.data = NULL;
    } else if (why != NULL) {
        *why = w;
    }
done:
    curl_easy_cleanup(c);
    free(x.data);
    return rc;
}

void
jwtrev_fetch_body_free(jwtrev_fetch_body *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
}
