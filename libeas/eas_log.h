/*
 * Logging for libeas.  libeas never talks to httpd: whoever embeds it
 * (mod_eas, a tool, a test) installs a sink, and every message carries
 * the project's own message number, EASLOGNO(nnnnn), so administrators can
 * grep for it.  Numbers are allocated from docs/log-message-tags/next-number.
 */
#ifndef EAS_LOG_H
#define EAS_LOG_H

#include <apr_general.h>

/* "EAS00042: " — the same shape as httpd's APLOGNO, with our own prefix. */
#define EASLOGNO(n) "EAS" #n ": "

/* Levels deliberately share httpd's numbering (APLOG_ERR == 3, ...). */
typedef enum {
    EAS_LOG_CRIT = 2,
    EAS_LOG_ERR = 3,
    EAS_LOG_WARNING = 4,
    EAS_LOG_NOTICE = 5,
    EAS_LOG_INFO = 6,
    EAS_LOG_DEBUG = 7,
    EAS_LOG_TRACE1 = 8
} eas_log_level_e;

typedef void eas_log_sink_fn(void *baton, int level, apr_status_t rv,
                             const char *file, int line, const char *msg);

typedef struct eas_log_t {
    eas_log_sink_fn *sink;   /* NULL: messages are dropped */
    void *baton;
    int level;               /* messages above this level are not formatted */
} eas_log_t;

#define EAS_LOG_MARK __FILE__, __LINE__

/* Formats with apr_vsnprintf into a bounded stack buffer (no pool needed). */
void eas_log_printf(const eas_log_t *log, const char *file, int line,
                    int level, apr_status_t rv, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* A sink for tools and tests: writes "level: msg" lines to stderr. */
void eas_log_stderr_sink(void *baton, int level, apr_status_t rv,
                         const char *file, int line, const char *msg);

#endif
