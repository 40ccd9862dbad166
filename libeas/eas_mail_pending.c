/*
 * Pending mail for Ping.  A mail folder has changed for a device when its
 * IMAP STATUS (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, MESSAGES) differs from
 * what the device was last told: new mail moves UIDNEXT, flag changes move
 * HIGHESTMODSEQ (CONDSTORE), expunges move MESSAGES.  When the mail Sync
 * keeps its own per-collection state, comparing with that instead makes
 * "last told" mean "last synced"; eas_mail_pending() is the one place to
 * change, and eas_mail_state() must stay what watchers compare.
 */
#include "eas_pending.h"

#include <apr_strings.h>

const char *eas_mail_state(apr_pool_t *p, const eas_imap_status_t *st)
{
    return apr_psprintf(p, "%u %u %" APR_UINT64_T_FMT " %u", st->uidvalidity, st->uidnext,
                        st->highestmodseq, st->messages);
}

static apr_status_t imap_failed(eas_request_t *req, eas_imap_t *c, eas_imap_rc_e rc,
                                const char *mailbox)
{
    eas_log_printf(req->log, EAS_LOG_MARK, EAS_LOG_WARNING, APR_SUCCESS,
                   EASLOGNO(01600) "IMAP STATUS of \"%s\" for %s failed (%s): %s",
                   mailbox ? mailbox : "-", req->login, eas_imap_rc_name(rc),
                   c ? eas_imap_error(c) : "no connection");
    return rc == EAS_IMAP_TRANSIENT || rc == EAS_IMAP_AUTH ? APR_EAGAIN : APR_EGENERAL;
}

apr_status_t eas_mail_pending(eas_request_t *req, eas_pending_t **items, int n)
{
    eas_imap_status_t st;
    eas_imap_t *c = NULL;
    eas_imap_rc_e rc;
    apr_status_t rv = APR_SUCCESS;
    int i;

    if (!req->imap || !req->imap_server ||
        eas_imap_acquire(req->imap, req->imap_server, req->login, req->password, req->pool,
                         &c) != APR_SUCCESS)
        return imap_failed(req, NULL, EAS_IMAP_TRANSIENT, NULL);
    for (i = 0; i < n && rv == APR_SUCCESS; i++) {
        rc = eas_imap_status(c, items[i]->folder->imap_name, &st);
        if (rc == EAS_IMAP_NO_MAILBOX) {
            items[i]->gone = 1;
            continue;
        }
        if (rc != EAS_IMAP_OK) {
            rv = imap_failed(req, c, rc, items[i]->folder->imap_name);
            break;
        }
        items[i]->state = eas_mail_state(req->pool, &st);
        rv = eas_pending_seen(req, items[i]);
    }
    eas_imap_release(c);
    return rv;
}
