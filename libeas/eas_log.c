#include "eas_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <apr_strings.h>

void eas_log_printf(const eas_log_t *log, const char *file, int line,
                    int level, apr_status_t rv, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;

    if (!log || !log->sink || level > log->level)
        return;
    va_start(ap, fmt);
    apr_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log->sink(log->baton, level, rv, file, line, buf);
}

void eas_log_stderr_sink(void *baton, int level, apr_status_t rv,
                         const char *file, int line, const char *msg)
{
    static const char *const names[] = {"emerg", "alert", "crit", "error",
                                        "warn", "notice", "info", "debug"};
    char err[128] = "";

    if (rv != APR_SUCCESS) {
        char e[100];
        apr_snprintf(err, sizeof(err), " (%s)", apr_strerror(rv, e, sizeof(e)));
    }
    fprintf(stderr, "%s: %s%s\n", level >= 0 && level < 8 ? names[level] : "trace",
            msg, err);
}
