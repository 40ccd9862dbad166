#include "eas_protocol.h"

#include <string.h>
#include <apr_strings.h>

typedef struct {
    const char *name;
    short min_version, max_version;
} cmd_info_t;

/* MS-ASCMD 2.2.1: which versions carry each command. */
static const cmd_info_t cmds[EAS_CMD_MAX] = {
    [EAS_CMD_SYNC] = {"Sync", 25, 161},
    [EAS_CMD_SENDMAIL] = {"SendMail", 25, 161},
    [EAS_CMD_SMARTFORWARD] = {"SmartForward", 25, 161},
    [EAS_CMD_SMARTREPLY] = {"SmartReply", 25, 161},
    [EAS_CMD_GETATTACHMENT] = {"GetAttachment", 25, 121},
    [EAS_CMD_FOLDERSYNC] = {"FolderSync", 25, 161},
    [EAS_CMD_FOLDERCREATE] = {"FolderCreate", 25, 161},
    [EAS_CMD_FOLDERDELETE] = {"FolderDelete", 25, 161},
    [EAS_CMD_FOLDERUPDATE] = {"FolderUpdate", 25, 161},
    [EAS_CMD_MOVEITEMS] = {"MoveItems", 25, 161},
    [EAS_CMD_GETITEMESTIMATE] = {"GetItemEstimate", 25, 161},
    [EAS_CMD_MEETINGRESPONSE] = {"MeetingResponse", 25, 161},
    [EAS_CMD_SEARCH] = {"Search", 25, 161},
    [EAS_CMD_SETTINGS] = {"Settings", 120, 161},
    [EAS_CMD_PING] = {"Ping", 25, 161},
    [EAS_CMD_ITEMOPERATIONS] = {"ItemOperations", 120, 161},
    [EAS_CMD_PROVISION] = {"Provision", 25, 161},
    [EAS_CMD_RESOLVERECIPIENTS] = {"ResolveRecipients", 25, 161},
    [EAS_CMD_VALIDATECERT] = {"ValidateCert", 25, 161},
    [EAS_CMD_FIND] = {"Find", 161, 161},
};

const int eas_versions_all[EAS_VERSION_COUNT] = {25, 120, 121, 140, 141, 160, 161};
static const char *const version_strs[EAS_VERSION_COUNT] = {
    "2.5", "12.0", "12.1", "14.0", "14.1", "16.0", "16.1"};

const char *eas_cmd_name(eas_cmd_e cmd)
{
    return cmd >= 0 && cmd < EAS_CMD_MAX ? cmds[cmd].name : NULL;
}

eas_cmd_e eas_cmd_by_name(const char *name)
{
    int i;

    if (name)
        for (i = 0; i < EAS_CMD_MAX; i++)
            if (cmds[i].name && !strcmp(cmds[i].name, name))
                return (eas_cmd_e)i;
    return EAS_CMD_UNKNOWN;
}

int eas_cmd_min_version(eas_cmd_e cmd)
{
    return eas_cmd_name(cmd) ? cmds[cmd].min_version : 0;
}

int eas_cmd_max_version(eas_cmd_e cmd)
{
    return eas_cmd_name(cmd) ? cmds[cmd].max_version : 0;
}

static int version_index(int v)
{
    int i;

    for (i = 0; i < EAS_VERSION_COUNT; i++)
        if (eas_versions_all[i] == v)
            return i;
    return -1;
}

int eas_version_parse(const char *s)
{
    int i;

    if (s)
        for (i = 0; i < EAS_VERSION_COUNT; i++)
            if (!strcmp(s, version_strs[i]))
                return eas_versions_all[i];
    return 0;
}

const char *eas_version_str(int v)
{
    int i = version_index(v);

    return i < 0 ? NULL : version_strs[i];
}

int eas_version_in_set(eas_version_set_t set, int v)
{
    int i = version_index(v);

    return i >= 0 && (set & (1u << i));
}

int eas_version_set_parse(const char *list, eas_version_set_t *set)
{
    char buf[16];
    const char *p = list;

    *set = 0;
    while (*p) {
        const char *e;
        apr_size_t n;
        int v;

        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        for (e = p; *e && *e != ',' && *e != ' '; e++)
            ;
        n = (apr_size_t)(e - p);
        if (n >= sizeof(buf))
            return 0;
        memcpy(buf, p, n);
        buf[n] = '\0';
        if (!(v = eas_version_parse(buf)))
            return 0;
        *set |= 1u << version_index(v);
        p = e;
    }
    return *set != 0;
}

eas_version_set_t eas_version_set_cap(eas_version_set_t set, int max)
{
    int i;

    for (i = 0; i < EAS_VERSION_COUNT; i++)
        if (eas_versions_all[i] > max)
            set &= ~(1u << i);
    return set;
}

const char *eas_version_set_str(apr_pool_t *p, eas_version_set_t set)
{
    const char *s = NULL;
    int i;

    for (i = 0; i < EAS_VERSION_COUNT; i++)
        if (set & (1u << i))
            s = s ? apr_pstrcat(p, s, ",", version_strs[i], NULL) : version_strs[i];
    return s ? s : "";
}

int eas_version_set_max(eas_version_set_t set)
{
    int i;

    for (i = EAS_VERSION_COUNT - 1; i >= 0; i--)
        if (set & (1u << i))
            return eas_versions_all[i];
    return 0;
}
