/* Shared by the mod_eas glue files: module handle and log-module binding. */
#ifndef MOD_EAS_PRIVATE_H
#define MOD_EAS_PRIVATE_H

#include <httpd.h>
#include <http_log.h>
#include "eas_log.h"

extern module AP_MODULE_DECLARE_DATA eas_module;
APLOG_USE_MODULE(eas);

#endif
