/*
 * Command handlers.  Each takes the request after the pipeline has checked
 * version, user, device access and provisioning, with the transaction open,
 * and writes the response (req->out via eas_request_writer, or a status).
 * Returning APR_SUCCESS means "commit what I did"; APR_EAGAIN means a
 * backend is temporarily unavailable (503, nothing committed); anything
 * else is a server error (500, nothing committed).
 */
#ifndef EAS_COMMANDS_H
#define EAS_COMMANDS_H

#include "eas_request.h"

typedef apr_status_t eas_cmd_fn(eas_request_t *req);

eas_cmd_fn eas_cmd_provision;
eas_cmd_fn eas_cmd_settings;
eas_cmd_fn eas_cmd_foldersync;
eas_cmd_fn eas_cmd_foldercreate;
eas_cmd_fn eas_cmd_folderdelete;
eas_cmd_fn eas_cmd_folderupdate;
eas_cmd_fn eas_cmd_sync;
eas_cmd_fn eas_cmd_getitemestimate;
eas_cmd_fn eas_cmd_moveitems;
eas_cmd_fn eas_cmd_ping;
eas_cmd_fn eas_cmd_sendmail;       /* eas_cmd_compose.c */
eas_cmd_fn eas_cmd_smartreply;
eas_cmd_fn eas_cmd_smartforward;
eas_cmd_fn eas_cmd_itemoperations; /* eas_cmd_itemops.c */
eas_cmd_fn eas_cmd_getattachment;
eas_cmd_fn eas_cmd_search;         /* eas_cmd_search.c */
eas_cmd_fn eas_cmd_find;
eas_cmd_fn eas_cmd_resolverecipients; /* eas_cmd_resolve.c */
eas_cmd_fn eas_cmd_meetingresponse;   /* eas_cmd_meeting.c */

/* Writes <Root><Status>n</Status></Root> for the command's namespace, the
 * form every command uses for the common status codes (MS-ASCMD 2.2.2). */
void eas_cmd_status_only(eas_request_t *req, int status);

#endif
