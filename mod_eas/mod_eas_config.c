/*
 * Directives.  Each one is documented here, where it is declared, and in
 * docs/configuration.md.  Per-directory settings merge field by field: a
 * <Location> inherits what it does not set itself.
 */
#include <apr_strings.h>
#include <http_core.h>

#include "mod_eas_config.h"
#include "mod_eas_private.h"

enum {
    S_VERSIONS = 1u << 0, S_PROVISIONING = 1u << 1, S_POLICY = 1u << 2,
    S_MAILDOMAIN = 1u << 3, S_HEARTBEAT = 1u << 4, S_MAXFOLDERS = 1u << 5,
    S_MAXWINDOW = 1u << 6, S_MAXBODY = 1u << 7, S_WBXML = 1u << 8,
    S_BUDGET = 1u << 9, S_USERBUDGET = 1u << 10, S_IMAP = 1u << 11,
    S_SMTP = 1u << 12, S_TLSVERIFY = 1u << 13, S_AUTHTTL = 1u << 14,
    S_STRIP = 1u << 15, S_ACCESS = 1u << 16, S_CAPS = 1u << 17,
    S_SERVERNAME = 1u << 18, S_MASTER = 1u << 19, S_EASURL = 1u << 20, S_IMAPCAPS = 1u << 21,
    S_SMTPAUTH = 1u << 22
};

void *eas_create_dir_conf(apr_pool_t *p, char *dir)
{
    eas_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    eas_config_defaults(&c->eas);
    c->eas.caps = apr_array_make(p, 2, sizeof(eas_version_cap_t));
    c->imap.url = "imap://127.0.0.1:143";
    c->imap.starttls = 1;
    c->imap.tls_verify = 1;
    c->smtp.url = "smtp://127.0.0.1:25";
    c->smtp.starttls = 1;
    c->smtp.tls_verify = 1;
    c->smtp_auth = 1;
    c->auth_cache_ttl = 60;
    return c;
}

#define PICK(bit, field) (add->set & (bit) ? add->field : base->field)

void *eas_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    const eas_dir_conf_t *base = basev, *add = addv;
    eas_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->set = base->set | add->set;
    c->eas = base->eas;
    c->eas.versions = PICK(S_VERSIONS, eas.versions);
    c->eas.caps = add->set & S_CAPS
                      ? apr_array_append(p, base->eas.caps, add->eas.caps) : base->eas.caps;
    c->eas.provisioning = PICK(S_PROVISIONING, eas.provisioning);
    c->eas.default_policy = PICK(S_POLICY, eas.default_policy);
    c->eas.mail_domain = PICK(S_MAILDOMAIN, eas.mail_domain);
    c->eas.server_name = PICK(S_SERVERNAME, eas.server_name);
    c->eas.heartbeat_min = PICK(S_HEARTBEAT, eas.heartbeat_min);
    c->eas.heartbeat_max = PICK(S_HEARTBEAT, eas.heartbeat_max);
    c->eas.max_folders = PICK(S_MAXFOLDERS, eas.max_folders);
    c->eas.max_window = PICK(S_MAXWINDOW, eas.max_window);
    c->eas.max_body = PICK(S_MAXBODY, eas.max_body);
    c->eas.wbxml = PICK(S_WBXML, eas.wbxml);
    c->eas.budget_requests = PICK(S_BUDGET, eas.budget_requests);
    c->eas.budget_window = PICK(S_BUDGET, eas.budget_window);
    c->eas.budget_penalty = PICK(S_BUDGET, eas.budget_penalty);
    c->eas.user_budget_requests = PICK(S_USERBUDGET, eas.user_budget_requests);
    c->eas.default_access = PICK(S_ACCESS, eas.default_access);
    c->imap = base->imap;
    c->imap.url = PICK(S_IMAP, imap.url);
    c->imap.tls_verify = PICK(S_TLSVERIFY, imap.tls_verify);
    c->imap.disable_caps = PICK(S_IMAPCAPS, imap.disable_caps);
    if (add->set & S_MASTER) {
        c->imap.master_user = add->imap.master_user;
        c->imap.master_password = add->imap.master_password;
        c->imap.master_authzid = add->imap.master_authzid;
        c->imap.master_sep = add->imap.master_sep;
    }
    c->smtp = base->smtp;
    c->smtp.url = PICK(S_SMTP, smtp.url);
    c->smtp.tls_verify = PICK(S_TLSVERIFY, smtp.tls_verify);
    c->smtp_auth = PICK(S_SMTPAUTH, smtp_auth);
    c->eas_url = PICK(S_EASURL, eas_url);
    c->auth_cache_ttl = PICK(S_AUTHTTL, auth_cache_ttl);
    c->login_domain_strip = PICK(S_STRIP, login_domain_strip);
    return c;
}

void *eas_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    eas_srv_conf_t *c = apr_pcalloc(p, sizeof(eas_srv_conf_t));

    c->mail_poll = -1;
    c->stats_interval = -1;
    return c;
}

void *eas_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    const eas_srv_conf_t *base = basev, *add = addv;
    eas_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->ping_mode = add->ping_mode_set ? add->ping_mode : base->ping_mode;
    c->ping_mode_set = add->ping_mode_set || base->ping_mode_set;
    c->mail_poll = add->mail_poll >= 0 ? add->mail_poll : base->mail_poll;
    c->stats_interval = add->stats_interval >= 0 ? add->stats_interval : base->stats_interval;
    return c;
}

const eas_dir_conf_t *eas_dir_conf(request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &eas_module);
}

static int parse_int(const char *arg, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(arg, &end, 10);

    if (*arg == '\0' || *end != '\0' || v < lo || v > hi)
        return 0;
    *out = (int)v;
    return 1;
}

/* EASProtocolVersions 2.5,12.0,12.1,14.0,14.1,16.0,16.1
 * Versions offered in OPTIONS and accepted in requests. Default: all. */
static const char *set_versions(cmd_parms *cmd, void *dc, const char *arg)
{
    eas_dir_conf_t *c = dc;

    if (!eas_version_set_parse(arg, &c->eas.versions))
        return "EASProtocolVersions: a comma list of 2.5, 12.0, 12.1, 14.0, 14.1, 16.0, 16.1";
    c->set |= S_VERSIONS;
    return NULL;
}

/* EASVersionCap PATTERN VERSION
 * Devices whose DeviceType or User-Agent matches the case-insensitive
 * wildcard PATTERN are offered no version above VERSION (e.g. for clients
 * that misbehave on 16.x).  Repeatable; the lowest matching cap wins. */
static const char *set_cap(cmd_parms *cmd, void *dc, const char *pattern, const char *ver)
{
    eas_dir_conf_t *c = dc;
    eas_version_cap_t *cap;
    int v = eas_version_parse(ver);

    if (!v)
        return "EASVersionCap: the second argument must be an EAS version such as 14.1";
    if (!(c->set & S_CAPS))
        c->eas.caps = apr_array_make(cmd->pool, 2, sizeof(eas_version_cap_t));
    cap = apr_array_push((apr_array_header_t *)c->eas.caps);
    cap->pattern = pattern;
    cap->max_version = v;
    c->set |= S_CAPS;
    return NULL;
}

/* EASProvisioning none|allow|force
 * none: no policies; allow (default): devices that can provision must,
 * the others are let in; force: devices that have not provisioned may
 * only run Provision.  A per-user value in eas.users overrides it. */
static const char *set_provisioning(cmd_parms *cmd, void *dc, const char *arg)
{
    eas_dir_conf_t *c = dc;

    if (!strcasecmp(arg, "none"))
        c->eas.provisioning = EAS_PROVISION_NONE;
    else if (!strcasecmp(arg, "allow"))
        c->eas.provisioning = EAS_PROVISION_ALLOW;
    else if (!strcasecmp(arg, "force"))
        c->eas.provisioning = EAS_PROVISION_FORCE;
    else
        return "EASProvisioning: none, allow or force";
    c->set |= S_PROVISIONING;
    return NULL;
}

/* EASDefaultPolicy NAME
 * The eas.policies row served to users without a policy. Default: default. */
static const char *set_policy(cmd_parms *cmd, void *dc, const char *arg)
{
    eas_dir_conf_t *c = dc;

    c->eas.default_policy = arg;
    c->set |= S_POLICY;
    return NULL;
}

/* EASDefaultAccess allow|block|quarantine
 * Decision for devices that no rule in eas.access_rules matches. */
static const char *set_access(cmd_parms *cmd, void *dc, const char *arg)
{
    eas_dir_conf_t *c = dc;

    if (strcasecmp(arg, "allow") && strcasecmp(arg, "block") && strcasecmp(arg, "quarantine"))
        return "EASDefaultAccess: allow, block or quarantine";
    c->eas.default_access = apr_pstrdup(cmd->pool, arg);
    ap_str_tolower((char *)c->eas.default_access);
    c->set |= S_ACCESS;
    return NULL;
}

/* EASMailDomain DOMAIN
 * Users whose login has no '@' and no address in eas.users get
 * login@DOMAIN as their address. Default: none. */
static const char *set_maildomain(cmd_parms *cmd, void *dc, const char *arg)
{
    eas_dir_conf_t *c = dc;

    c->eas.mail_domain = arg;
    c->set |= S_MAILDOMAIN;
    return NULL;
}

/* EASServerName NAME
 * Name shown to users (Autodiscover, UserInformation). Default: none. */
static const char *set_servername(cmd_parms *cmd, void *dc, const char *arg)
{
    eas_dir_conf_t *c = dc;

    c->eas.server_name = arg;
    c->set |= S_SERVERNAME;
    return NULL;
}

/* EASHeartbeatBounds MIN MAX
 * Seconds a Ping or a waiting Sync may last. Defaults: 60 3540. A request
 * outside the bounds gets Status 5 with the limit (MS-ASCMD 2.2.3.79). */
static const char *set_heartbeat(cmd_parms *cmd, void *dc, const char *lo, const char *hi)
{
    eas_dir_conf_t *c = dc;

    if (!parse_int(lo, 1, 86400, &c->eas.heartbeat_min) ||
        !parse_int(hi, c->eas.heartbeat_min, 86400, &c->eas.heartbeat_max))
        return "EASHeartbeatBounds: two numbers of seconds, MIN <= MAX";
    c->set |= S_HEARTBEAT;
    return NULL;
}

/* EASMaxPingFolders N
 * Most folders one Ping may watch (Status 6 above). Default: 300. */
static const char *set_maxfolders(cmd_parms *cmd, void *dc, const char *arg)
{
    eas_dir_conf_t *c = dc;

    if (!parse_int(arg, 1, 100000, &c->eas.max_folders))
        return "EASMaxPingFolders: a positive number";
    c->set |= S_MAXFOLDERS;
    return NULL;
}

/* EASMaxWindowSize N
 * Most items one Sync response carries per request. Default: 512. */
static const char *set_maxwindow(cmd_parms *cmd, void *dc, const char *arg)
{
    eas_dir_conf_t *c = dc;

    if (!parse_int(arg, 1, 100000, &c->eas.max_window))
        return "EASMaxWindowSize: a positive number";
    c->set |= S_MAXWINDOW;
    return NULL;
}

/* EASMaxBodySize BYTES
 * Largest request body accepted (413 above). Default: 52428800 (50 MB,
 * room for a message with a 25 MB attachment encoded). */
static const char *set_maxbody(cmd_parms *cmd, void *dc, const char *arg)
{
    eas_dir_conf_t *c = dc;
    apr_off_t v;

    if (apr_strtoff(&v, arg, NULL, 10) != APR_SUCCESS || v < 1024)
        return "EASMaxBodySize: a number of bytes, at least 1024";
    c->eas.max_body = (apr_size_t)v;
    c->set |= S_MAXBODY;
    return NULL;
}

/* EASWbxmlLimits DEPTH ELEMENTS
 * Deepest nesting and most elements a request document may have (400
 * beyond). Defaults: 32 200000. */
static const char *set_wbxml(cmd_parms *cmd, void *dc, const char *depth, const char *nodes)
{
    eas_dir_conf_t *c = dc;
    int d, n;

    if (!parse_int(depth, 4, 1000, &d) || !parse_int(nodes, 16, 100000000, &n))
        return "EASWbxmlLimits: DEPTH (4..1000) and ELEMENTS (16..100000000)";
    c->eas.wbxml.max_depth = (apr_size_t)d;
    c->eas.wbxml.max_nodes = (apr_size_t)n;
    c->set |= S_WBXML;
    return NULL;
}

/* EASRequestBudget REQUESTS SECONDS [PENALTY]
 * A device may make REQUESTS requests per SECONDS window; beyond that it
 * gets 503 with Retry-After PENALTY seconds (default SECONDS) and
 * X-MS-Throttle (MS-ASHTTP).  0 disables. Default: 0 (off). */
static const char *set_budget(cmd_parms *cmd, void *dc, const char *args)
{
    eas_dir_conf_t *c = dc;
    const char *a = ap_getword_conf(cmd->pool, &args), *b = ap_getword_conf(cmd->pool, &args);
    const char *pen = ap_getword_conf(cmd->pool, &args);

    if (!parse_int(a, 0, 10000000, &c->eas.budget_requests) ||
        !parse_int(b, 1, 86400, &c->eas.budget_window))
        return "EASRequestBudget: REQUESTS SECONDS [PENALTY]";
    c->eas.budget_penalty = c->eas.budget_window;
    if (*pen && !parse_int(pen, 1, 86400, &c->eas.budget_penalty))
        return "EASRequestBudget: PENALTY must be a number of seconds";
    c->set |= S_BUDGET;
    return NULL;
}

/* EASUserRequestBudget REQUESTS
 * Requests per window for all devices of one user together (the window of
 * EASRequestBudget). 0 disables. Default: 0. */
static const char *set_userbudget(cmd_parms *cmd, void *dc, const char *arg)
{
    eas_dir_conf_t *c = dc;

    if (!parse_int(arg, 0, 10000000, &c->eas.user_budget_requests))
        return "EASUserRequestBudget: a number of requests";
    c->set |= S_USERBUDGET;
    return NULL;
}

/* EASImapURL URL
 * The site's IMAP server, e.g. imaps://mail.example.org or
 * imap://127.0.0.1:143. Default: imap://127.0.0.1:143. */
static const char *set_imap(cmd_parms *cmd, void *dc, const char *arg)
{
    eas_dir_conf_t *c = dc;

    if (strncasecmp(arg, "imap://", 7) && strncasecmp(arg, "imaps://", 8))
        return "EASImapURL: an imap:// or imaps:// URL";
    c->imap.url = arg;
    c->set |= S_IMAP;
    return NULL;
}

/* EASImapTLSVerify on|off
 * Verify the IMAP and SMTP servers' certificates. Default: on. */
static const char *set_tlsverify(cmd_parms *cmd, void *dc, int flag)
{
    eas_dir_conf_t *c = dc;

    c->imap.tls_verify = flag;
    c->smtp.tls_verify = flag;
    c->set |= S_TLSVERIFY;
    return NULL;
}

/* EASImapMasterUser USER PASSWORD [authzid|SEPARATOR]
 * Log in to IMAP as USER on behalf of every user (Dovecot master user), so
 * user passwords need not reach IMAP.  With "authzid" SASL PLAIN's
 * authorization identity is used; otherwise "user<SEPARATOR>USER" (default
 * separator "*"). Default: users log in with their own password. */
static const char *set_master(cmd_parms *cmd, void *dc, const char *args)
{
    eas_dir_conf_t *c = dc;
    const char *user = ap_getword_conf(cmd->pool, &args);
    const char *pw = ap_getword_conf(cmd->pool, &args);
    const char *mode = ap_getword_conf(cmd->pool, &args);

    if (!*user || !*pw || *args)
        return "EASImapMasterUser: USER PASSWORD [authzid|SEPARATOR]";
    c->imap.master_user = user;
    c->imap.master_password = pw;
    c->imap.master_authzid = !strcasecmp(mode, "authzid");
    c->imap.master_sep = *mode && !c->imap.master_authzid ? mode : NULL;
    c->set |= S_MASTER;
    return NULL;
}

/* EASImapDisable CAPABILITY...
 * IMAP extensions not to use even when the server offers them (a server's
 * broken extension): CONDSTORE QRESYNC MOVE SPECIAL-USE UIDPLUS ESEARCH
 * LIST-EXTENDED LIST-STATUS. Every operation has a path without them.
 * Default: none. */
static const char *set_imapcaps(cmd_parms *cmd, void *dc, const char *arg)
{
    static const struct {
        const char *name;
        unsigned bit;
    } caps[] = {
        {"CONDSTORE", EAS_IMAP_CAP_CONDSTORE}, {"QRESYNC", EAS_IMAP_CAP_QRESYNC},
        {"MOVE", EAS_IMAP_CAP_MOVE}, {"SPECIAL-USE", EAS_IMAP_CAP_SPECIAL_USE},
        {"UIDPLUS", EAS_IMAP_CAP_UIDPLUS}, {"ESEARCH", EAS_IMAP_CAP_ESEARCH},
        {"LIST-EXTENDED", EAS_IMAP_CAP_LIST_EXTENDED}, {"LIST-STATUS", EAS_IMAP_CAP_LIST_STATUS},
    };
    eas_dir_conf_t *c = dc;
    unsigned i;

    for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
        if (!strcasecmp(arg, caps[i].name)) {
            c->imap.disable_caps |= caps[i].bit;
            c->set |= S_IMAPCAPS;
            return NULL;
        }
    return apr_psprintf(cmd->pool, "EASImapDisable: unknown IMAP extension %s", arg);
}

/* EASAutodiscoverURL URL
 * The ActiveSync URL Autodiscover hands out, e.g.
 * https://mail.example.org/Microsoft-Server-ActiveSync.  Default: the
 * scheme and host of the Autodiscover request itself. */
static const char *set_easurl(cmd_parms *cmd, void *dc, const char *arg)
{
    eas_dir_conf_t *c = dc;

    if (strncasecmp(arg, "https://", 8) && strncasecmp(arg, "http://", 7))
        return "EASAutodiscoverURL: an http:// or https:// URL";
    c->eas_url = arg;
    c->set |= S_EASURL;
    return NULL;
}

/* EASSmtpURL URL
 * Where mail is submitted: smtp://host:port or smtps://. Default:
 * smtp://127.0.0.1:25. */
static const char *set_smtp(cmd_parms *cmd, void *dc, const char *arg)
{
    eas_dir_conf_t *c = dc;

    if (strncasecmp(arg, "smtp://", 7) && strncasecmp(arg, "smtps://", 8))
        return "EASSmtpURL: an smtp:// or smtps:// URL";
    c->smtp.url = arg;
    c->set |= S_SMTP;
    return NULL;
}

/* EASSmtpAuth on|off
 * Authenticate submissions as the user (the login and password the device
 * sent) when the SMTP server offers AUTH; off for a relay that trusts this
 * host.  The envelope sender is the user's address either way. Default: on. */
static const char *set_smtpauth(cmd_parms *cmd, void *dc, int flag)
{
    eas_dir_conf_t *c = dc;

    c->smtp_auth = flag;
    c->set |= S_SMTPAUTH;
    return NULL;
}

/* EASAuthCacheTTL SECONDS
 * How long the imap authn provider trusts a verified password (a salted
 * hash is kept, never the password). 0 disables. Default: 60. */
static const char *set_authttl(cmd_parms *cmd, void *dc, const char *arg)
{
    eas_dir_conf_t *c = dc;

    if (!parse_int(arg, 0, 3600, &c->auth_cache_ttl))
        return "EASAuthCacheTTL: seconds, 0..3600";
    c->set |= S_AUTHTTL;
    return NULL;
}

/* EASLoginStripDomain on|off
 * Also drop "@domain" from logins (DOMAIN\ prefixes are always dropped).
 * Default: off. See docs/authentication.md for the whole rule. */
static const char *set_strip(cmd_parms *cmd, void *dc, int flag)
{
    eas_dir_conf_t *c = dc;

    c->login_domain_strip = flag;
    c->set |= S_STRIP;
    return NULL;
}

/* EASPingMode auto|async|blocking   (server context)
 * How a Ping waits: async parks it without a thread (event MPM, HTTP/1.1),
 * blocking keeps a worker; auto picks async where it is safe. Default: auto. */
static const char *set_pingmode(cmd_parms *cmd, void *dc, const char *arg)
{
    eas_srv_conf_t *c = ap_get_module_config(cmd->server->module_config, &eas_module);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    if (err)
        return err;
    if (!strcasecmp(arg, "auto"))
        c->ping_mode = EAS_PING_AUTO;
    else if (!strcasecmp(arg, "async"))
        c->ping_mode = EAS_PING_ASYNC;
    else if (!strcasecmp(arg, "blocking"))
        c->ping_mode = EAS_PING_BLOCKING;
    else
        return "EASPingMode: auto, async or blocking";
    c->ping_mode_set = 1;
    return NULL;
}

/* EASMailPollInterval SECONDS   (server context)
 * How often a process polls IMAP STATUS of the mail folders its waiting
 * Pings watch (one watcher per user).  A notification from the mail server
 * (SetHandler eas-notify) wakes them at once; polling also catches what the
 * server does not announce (flags, expunges).  0: no polling. Default: 60.
 *
 * EASStatsInterval SECONDS   (server context)
 * How often each child adds its request counters to eas.command_stats
 * (at the end of the first request after the interval).  0: never.
 * Default: 60. */
static const char *set_srv_seconds(cmd_parms *cmd, void *dc, const char *arg)
{
    eas_srv_conf_t *c = ap_get_module_config(cmd->server->module_config, &eas_module);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    if (err)
        return err;
    if (!parse_int(arg, 0, 86400, (int *)((char *)c + (apr_size_t)cmd->info)))
        return apr_pstrcat(cmd->pool, cmd->cmd->name, ": seconds, 0..86400 (0: off)", NULL);
    return NULL;
}

int eas_srv_mail_poll(const eas_srv_conf_t *sc)
{
    return sc->mail_poll >= 0 ? sc->mail_poll : 60;
}

int eas_srv_stats_interval(const eas_srv_conf_t *sc)
{
    return sc->stats_interval >= 0 ? sc->stats_interval : 60;
}

const command_rec eas_cmds[] = {
    AP_INIT_TAKE1("EASProtocolVersions", set_versions, NULL, RSRC_CONF | ACCESS_CONF,
                  "EAS versions offered, e.g. 2.5,12.0,12.1,14.0,14.1,16.0,16.1"),
    AP_INIT_TAKE2("EASVersionCap", set_cap, NULL, RSRC_CONF | ACCESS_CONF,
                  "PATTERN VERSION: highest version for matching DeviceType/User-Agent"),
    AP_INIT_TAKE1("EASProvisioning", set_provisioning, NULL, RSRC_CONF | ACCESS_CONF,
                  "none, allow or force"),
    AP_INIT_TAKE1("EASDefaultPolicy", set_policy, NULL, RSRC_CONF | ACCESS_CONF,
                  "policy name for users without one"),
    AP_INIT_TAKE1("EASDefaultAccess", set_access, NULL, RSRC_CONF | ACCESS_CONF,
                  "allow, block or quarantine when no access rule matches"),
    AP_INIT_TAKE1("EASMailDomain", set_maildomain, NULL, RSRC_CONF | ACCESS_CONF,
                  "domain appended to logins without one to form addresses"),
    AP_INIT_TAKE1("EASServerName", set_servername, NULL, RSRC_CONF | ACCESS_CONF,
                  "name shown to users"),
    AP_INIT_TAKE2("EASHeartbeatBounds", set_heartbeat, NULL, RSRC_CONF | ACCESS_CONF,
                  "MIN MAX seconds for Ping and waiting Sync"),
    AP_INIT_TAKE1("EASMaxPingFolders", set_maxfolders, NULL, RSRC_CONF | ACCESS_CONF,
                  "most folders one Ping may watch"),
    AP_INIT_TAKE1("EASMaxWindowSize", set_maxwindow, NULL, RSRC_CONF | ACCESS_CONF,
                  "most items in one Sync response"),
    AP_INIT_TAKE1("EASMaxBodySize", set_maxbody, NULL, RSRC_CONF | ACCESS_CONF,
                  "largest request body in bytes"),
    AP_INIT_TAKE2("EASWbxmlLimits", set_wbxml, NULL, RSRC_CONF | ACCESS_CONF,
                  "DEPTH ELEMENTS limits for request documents"),
    AP_INIT_RAW_ARGS("EASRequestBudget", set_budget, NULL, RSRC_CONF | ACCESS_CONF,
                     "REQUESTS SECONDS [PENALTY]: per-device request budget"),
    AP_INIT_TAKE1("EASUserRequestBudget", set_userbudget, NULL, RSRC_CONF | ACCESS_CONF,
                  "REQUESTS per window for all devices of a user"),
    AP_INIT_TAKE1("EASImapURL", set_imap, NULL, RSRC_CONF | ACCESS_CONF,
                  "imap:// or imaps:// URL of the mail server"),
    AP_INIT_FLAG("EASImapTLSVerify", set_tlsverify, NULL, RSRC_CONF | ACCESS_CONF,
                 "verify IMAP/SMTP server certificates"),
    AP_INIT_RAW_ARGS("EASImapMasterUser", set_master, NULL, RSRC_CONF | ACCESS_CONF,
                     "USER PASSWORD [authzid|SEPARATOR]: IMAP master user"),
    AP_INIT_ITERATE("EASImapDisable", set_imapcaps, NULL, RSRC_CONF | ACCESS_CONF,
                    "IMAP extensions not to use: CONDSTORE QRESYNC MOVE ..."),
    AP_INIT_TAKE1("EASAutodiscoverURL", set_easurl, NULL, RSRC_CONF | ACCESS_CONF,
                  "ActiveSync URL handed out by Autodiscover"),
    AP_INIT_TAKE1("EASSmtpURL", set_smtp, NULL, RSRC_CONF | ACCESS_CONF,
                  "smtp:// or smtps:// URL for submission"),
    AP_INIT_FLAG("EASSmtpAuth", set_smtpauth, NULL, RSRC_CONF | ACCESS_CONF,
                 "submit as the user when the SMTP server offers AUTH"),
    AP_INIT_TAKE1("EASAuthCacheTTL", set_authttl, NULL, RSRC_CONF | ACCESS_CONF,
                  "seconds a verified password is trusted"),
    AP_INIT_FLAG("EASLoginStripDomain", set_strip, NULL, RSRC_CONF | ACCESS_CONF,
                 "drop @domain from logins"),
    AP_INIT_TAKE1("EASPingMode", set_pingmode, NULL, RSRC_CONF,
                  "auto, async or blocking"),
    AP_INIT_TAKE1("EASMailPollInterval", set_srv_seconds,
                  (void *)APR_OFFSETOF(eas_srv_conf_t, mail_poll), RSRC_CONF,
                  "seconds between IMAP STATUS polls for waiting Pings (0: off)"),
    AP_INIT_TAKE1("EASStatsInterval", set_srv_seconds,
                  (void *)APR_OFFSETOF(eas_srv_conf_t, stats_interval), RSRC_CONF,
                  "seconds between writes of request counters to eas.command_stats (0: off)"),
    {NULL}
};
