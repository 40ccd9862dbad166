/*
 * Login names as mod_eas keys users by them (docs/authentication.md):
 *  1. surrounding white space is dropped;
 *  2. a Windows domain prefix "DOMAIN\user" becomes "user";
 *  3. with strip_domain, "user@domain" becomes "user";
 *  4. the result is lower-cased (ASCII), so "JDoe" and "jdoe" are one user.
 * The normalised name is what IMAP LOGIN, the query's User check and the
 * eas.users table see.
 */
#ifndef EAS_LOGIN_H
#define EAS_LOGIN_H

#include <apr_pools.h>

const char *eas_login_normalize(apr_pool_t *p, const char *raw, int strip_domain);

#endif
