/*
 * A tiny TAP producer for libeas unit tests: prove and automake's
 * tap-driver read the same output.
 */
#ifndef EAS_TAP_H
#define EAS_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define tap_plan(n) printf("1..%d\n", (n))
#define tap_done() (printf("1..%d\n", tap_n), tap_failed ? 1 : 0)

static int tap_ok_(int cond, const char *file, int line, const char *desc)
{
    ++tap_n;
    printf("%s %d - %s\n", cond ? "ok" : "not ok", tap_n, desc);
    if (!cond) {
        ++tap_failed;
        printf("#   failed at %s:%d\n", file, line);
    }
    fflush(stdout);
    return cond;
}

#define ok(cond, desc) tap_ok_(!!(cond), __FILE__, __LINE__, (desc))
#define is_int(got, want, desc)                                                  \
    do {                                                                         \
        long long g_ = (long long)(got), w_ = (long long)(want);                 \
        if (!tap_ok_(g_ == w_, __FILE__, __LINE__, (desc)))                      \
            printf("#   got %lld, expected %lld\n", g_, w_);                     \
    } while (0)
#define is_str(got, want, desc)                                                  \
    do {                                                                         \
        const char *g_ = (got), *w_ = (want);                                    \
        int c_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_;                    \
        if (!tap_ok_(c_, __FILE__, __LINE__, (desc)))                            \
            printf("#   got '%s', expected '%s'\n", g_ ? g_ : "(null)",           \
                   w_ ? w_ : "(null)");                                          \
    } while (0)
#define diag(...) (printf("# "), printf(__VA_ARGS__), printf("\n"))

#endif
