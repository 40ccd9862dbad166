/*
 * EAS commands and protocol versions (MS-ASHTTP 2.2.1.1.1.1.2,
 * 2.2.1.1.2.6, 2.2.4).  Versions are kept as integers: 2.5 -> 25,
 * 14.1 -> 141, 16.1 -> 161, which is also the byte the base64 query uses.
 */
#ifndef EAS_PROTOCOL_H
#define EAS_PROTOCOL_H

#include <apr_pools.h>

typedef enum {
    EAS_CMD_UNKNOWN = -1,
    EAS_CMD_SYNC = 0,
    EAS_CMD_SENDMAIL = 1,
    EAS_CMD_SMARTFORWARD = 2,
    EAS_CMD_SMARTREPLY = 3,
    EAS_CMD_GETATTACHMENT = 4,
    EAS_CMD_FOLDERSYNC = 9,
    EAS_CMD_FOLDERCREATE = 10,
    EAS_CMD_FOLDERDELETE = 11,
    EAS_CMD_FOLDERUPDATE = 12,
    EAS_CMD_MOVEITEMS = 13,
    EAS_CMD_GETITEMESTIMATE = 14,
    EAS_CMD_MEETINGRESPONSE = 15,
    EAS_CMD_SEARCH = 16,
    EAS_CMD_SETTINGS = 17,
    EAS_CMD_PING = 18,
    EAS_CMD_ITEMOPERATIONS = 19,
    EAS_CMD_PROVISION = 20,
    EAS_CMD_RESOLVERECIPIENTS = 21,
    EAS_CMD_VALIDATECERT = 22,
    EAS_CMD_FIND = 23,
    EAS_CMD_MAX = 24
} eas_cmd_e;

/* "Sync" for EAS_CMD_SYNC; NULL for codes that name no command. */
const char *eas_cmd_name(eas_cmd_e cmd);
/* Case-sensitive, as devices send them; EAS_CMD_UNKNOWN if not a command. */
eas_cmd_e eas_cmd_by_name(const char *name);
/* Lowest protocol version that has the command (e.g. Find: 161). */
int eas_cmd_min_version(eas_cmd_e cmd);
/* Highest version that still has it (GetAttachment: 121), 0 if none. */
int eas_cmd_max_version(eas_cmd_e cmd);

/* Every version this code base speaks, ascending. */
extern const int eas_versions_all[];
#define EAS_VERSION_COUNT 7
#define EAS_VERSION_MAX 161

/* "14.1" -> 141; 0 for anything that is not an EAS version. */
int eas_version_parse(const char *s);
/* 141 -> "14.1" (static string); NULL if not an EAS version. */
const char *eas_version_str(int v);
/* Bit set of versions: bit i for eas_versions_all[i]. */
typedef unsigned eas_version_set_t;
#define EAS_VERSIONS_ALL ((eas_version_set_t)((1u << EAS_VERSION_COUNT) - 1))
int eas_version_in_set(eas_version_set_t set, int v);
/* Parses "2.5,12.0,14.1" (spaces allowed); returns 0 on a bad token. */
int eas_version_set_parse(const char *list, eas_version_set_t *set);
/* The set with every version above max removed. */
eas_version_set_t eas_version_set_cap(eas_version_set_t set, int max);
/* "2.5,12.0,..." for the MS-ASProtocolVersions header. */
const char *eas_version_set_str(apr_pool_t *p, eas_version_set_t set);
/* Highest version in the set, 0 if empty. */
int eas_version_set_max(eas_version_set_t set);

#endif
