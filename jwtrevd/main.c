/*
 * main.c - jwtrevd [--config FILE] [--foreground]: read the
 * configuration, judge the store, listen on the socket, mark the store
 * as ours, serve until SIGTERM or SIGINT.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "jwtrevd.h"

static jd daemon_state;
static int use_syslog;

void
jd_log(int level, const char *fmt, ...)
{
    static const char *const names[] = {"emerg",   "alert",  "crit", "error",
                                        "warning", "notice", "info", "debug"};
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (use_syslog)
        syslog(level, "%s", line);
    else
        fprintf(stderr, "jwtrevd[%ld]: %s: %s\n", (long)getpid(),
                names[level & 7], line);
}

static void
on_signal(int sig)
{
    char b = 0;

    (void)sig;
    daemon_state.stopping = 1;
    if (write(daemon_state.wake_fd[1], &b, 1) < 0) {
        /* the loop wakes within a second anyway */
    }
}

static int
usage(FILE *f, int rc)
{
    fprintf(f,
            "usage: jwtrevd [--config FILE] [--foreground]\n\n"
            "The one writer of a host's revocation store (jwtrevd(8)).\n"
            "--config FILE  default %s\n"
            "--foreground   stay in the foreground, log to stderr\n",
            JD_DEFAULT_CONFIG);
    return rc;
}

/* A socket left by a daemon that died is removed; a live one is not. */
static int
stale_socket(const char *path)
{
    struct sockaddr_un sa;
    struct stat st;
    int fd, live;

    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISSOCK(st.st_mode))
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path));
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    live = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    if (fd >= 0)
        close(fd);
    if (live)
        return -2;
    return unlink(path) == 0 ? 0 : -1;
}

static int
listen_on(jd *d, jwtrev_error *err)
{
    const char *path = d->conf.socket;
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct sockaddr_un sa;
    int rc;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa.sun_path))
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "socket=%s: longer than %zu bytes", path,
                           sizeof(sa.sun_path) - 1);
    memcpy(sa.sun_path, path, strlen(path));
    memcpy(dir, path, strlen(path) + 1);
    /* The directory: made if missing (/run/jwtrev), never loosened. */
    if (mkdir(dirname(dir), 0755) != 0 && errno != EEXIST)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR, "socket=%s: %s", path,
                           strerror(errno));
    rc = stale_socket(path);
    if (rc == -2)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "socket=%s: another jwtrevd is listening there",
                           path);
    if (rc != 0)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "socket=%s: something that is not a socket is "
                           "in the way",
                           path);
    d->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (d->listen_fd < 0 ||
        bind(d->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(d->listen_fd, 128) != 0)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR, "socket=%s: %s", path,
                           strerror(errno));
    /* Anyone may connect: SO_PEERCRED decides what they may do. */
    if (chmod(path, 0666) != 0)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR, "socket=%s: %s", path,
                           strerror(errno));
    return 0;
}

static int
start(jd *d, const char *config, jwtrev_error *err)
{
    jwtrev_store_stats s;
    int rc;

    jd_conf_init(&d->conf);
    d->listen_fd = -1;
    d->snap_fd = -1;
    pthread_mutex_init(&d->snap_lock, NULL);
    d->started = (int64_t)time(NULL);
    rc = jd_conf_load(&d->conf, config, err);
    if (rc != 0)
        return rc;
    /* The snapshots' scratch space, and fleet mode's outbox. */
    if (mkdir(d->conf.state_dir, 0700) != 0 && errno != EEXIST)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR, "state_dir=%s: %s",
                           d->conf.state_dir, strerror(errno));
    /* The store judged as every reader judges it, before anything. */
    rc = jwtrev_store_stats_get(d->conf.db, &s, err);
    if (rc != 0)
        return rc;
    if (pipe2(d->wake_fd, O_CLOEXEC | O_NONBLOCK) != 0)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "pipe: %s",
                           strerror(errno));
    rc = listen_on(d, err);
    if (rc == 0)
        rc = jwtrev_store_daemon_set(d->conf.db, d->conf.socket, err);
    return rc;
}

int
main(int argc, char **argv)
{
    const char *config = JD_DEFAULT_CONFIG;
    struct sigaction sa;
    jwtrev_error err;
    jd *d = &daemon_state;
    int a, foreground = 0, rc;

    for (a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--config") == 0 && a + 1 < argc)
            config = argv[++a];
        else if (strncmp(argv[a], "--config=", 9) == 0)
            config = argv[a] + 9;
        else if (strcmp(argv[a], "--foreground") == 0)
            foreground = 1;
        else if (strcmp(argv[a], "--help") == 0)
            return usage(stdout, 0);
        else if (strcmp(argv[a], "--version") == 0)
            return printf("jwtrevd %s\n", PACKAGE_VERSION) < 0;
        else
            return usage(stderr, 2);
    }
    d->wake_fd[0] = d->wake_fd[1] = -1;
    jwtrev_error_clear(&err);
    rc = start(d, config, &err);
    if (rc != 0) {
        fprintf(stderr, "jwtrevd: %s\n", err.detail);
        return rc == -JWTREV_ERR_CONFIG_ERROR ? 2 : 3;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    if (!foreground) {
        if (daemon(0, 0) != 0) {
            fprintf(stderr, "jwtrevd: daemon: %s\n", strerror(errno));
            return 3;
        }
        openlog("jwtrevd", LOG_PID, LOG_DAEMON);
        use_syslog = 1;
    }
    /* Threads only now: they would not survive daemon()'s fork. */
    if (jd_maint_start(d, &err) != 0 || jd_fleet_start(d, &err) != 0 ||
        jd_keys_start(d, &err) != 0) {
        jd_log(LOG_ERR, "%s", err.detail);
        jd_maint_stop(d);
        unlink(d->conf.socket);
        return 3;
    }
    jd_log(LOG_NOTICE, "serving store %s on %s (purge every %ld s)", d->conf.db,
           d->conf.socket, d->conf.purge_interval);
    rc = jd_serve(d);
    jd_keys_stop(d);
    jd_fleet_stop(d);
    jd_maint_stop(d);
    close(d->listen_fd);
    unlink(d->conf.socket);
    /* The marker stays: writers wait for the daemon, they do not go
     * around it.  jwtrevd(8) says how to hand the store back. */
    jd_log(LOG_NOTICE, "stopped");
    jd_conf_free(&d->conf);
    return rc == 0 ? 0 : 3;
}
