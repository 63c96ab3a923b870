/*
 * tap.h - a minimal TAP producer for the C unit tests.
 *
 *   ok(cond, "what %s", ...);   one test point
 *   return tap_done();          the plan, exit status 0 (failures are
 *                               counted from the TAP output)
 */
#ifndef JWTREV_TAP_H
#define JWTREV_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_count;
static int tap_failures;

__attribute__((format(printf, 4, 5), unused)) static int
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    printf("%sok %d - ", pass ? "" : "not ", ++tap_count);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    if (!pass) {
        printf("#   failed at %s:%d\n", file, line);
        tap_failures++;
    }
    fflush(stdout);
    return pass;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* A comment line in the TAP stream. */
#define tap_diag(...)                                                          \
    do {                                                                       \
        printf("# ");                                                          \
        printf(__VA_ARGS__);                                                   \
        putchar('\n');                                                         \
    } while (0)

__attribute__((unused)) static int
tap_done(void)
{
    printf("1..%d\n", tap_count);
    return 0;
}

#endif /* JWTREV_TAP_H */
