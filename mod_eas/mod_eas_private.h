/* Shared by the mod_eas glue files: module handle and log-module binding. */
#ifndef MOD_EAS_PRIVATE_H
#define MOD_EAS_PRIVATE_H

#include <httpd.h>
#include <http_log.h>
#include "eas_log.h"

extern module AP_MODULE_DECLARE_DATA eas_module;
APLOG_USE_MODULE(eas);

/* An eas_log_t sink for server-level messages; baton is the server_rec. */
void eas_log_server_sink(void *baton, int level, apr_status_t rv, const char *file, int line,
                         const char *msg);

#endif
