/* MS-ASHTTP query parsing: plain and base64 forms, and bad input. */
#include "tap.h"
#include "eas_query.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_base64.h>

int main(void)
{
    apr_pool_t *p;
    eas_query_t q, q2;
    const char *why, *b64;
    int i;

    apr_initialize();
    apr_pool_create(&p, NULL);

    is_int(eas_query_parse(p, "Cmd=Sync&User=jdoe%40example.test&DeviceId=ABC123&DeviceType=iPhone",
                           &q, &why), EAS_QUERY_OK, "plain query parses");
    is_int(q.cmd, EAS_CMD_SYNC, "plain: command");
    is_str(q.user, "jdoe@example.test", "plain: user is percent-decoded");
    is_str(q.device_id, "ABC123", "plain: device id");
    is_str(q.device_type, "iPhone", "plain: device type");
    ok(!q.base64 && q.version == 0, "plain: no version in the query");

    is_int(eas_query_parse(p, "Cmd=SmartReply&User=u&DeviceId=d&DeviceType=t&ItemId=5%3A7"
                              "&CollectionId=12&SaveInSent=T&Foo=bar", &q, &why),
           EAS_QUERY_OK, "plain: command parameters");
    ok(q.save_in_sent, "plain: SaveInSent=T");
    is_str(q.item_id, "5:7", "plain: ItemId decoded");
    is_str(q.collection_id, "12", "plain: CollectionId");

    is_int(eas_query_parse(p, "Cmd=Bogus&User=u&DeviceId=d&DeviceType=t", &q, &why),
           EAS_QUERY_OK, "unknown command parses");
    is_int(q.cmd, EAS_CMD_UNKNOWN, "unknown command is reported as such");
    is_str(q.cmd_name, "Bogus", "unknown command keeps its name");

    is_int(eas_query_parse(p, "Cmd=Sync&User=u&DeviceType=t", &q, &why), EAS_QUERY_E_MISSING,
           "missing DeviceId");
    is_int(eas_query_parse(p, NULL, &q, &why), EAS_QUERY_E_MISSING, "no query");
    is_int(eas_query_parse(p, "Cmd=Sync&User=u&DeviceId=a/b&DeviceType=t", &q, &why),
           EAS_QUERY_E_DEVICEID, "DeviceId with '/' refused");
    is_int(eas_query_parse(p, "Cmd=Sync&User=%zz&DeviceId=d&DeviceType=t", &q, &why),
           EAS_QUERY_E_SYNTAX, "bad percent-encoding");
    is_int(eas_query_parse(p, "Cmd=Sync&User=a%00b&DeviceId=d&DeviceType=t", &q, &why),
           EAS_QUERY_E_SYNTAX, "encoded NUL refused");
    is_int(eas_query_parse(p, "Cmd=Sync&User=u&DeviceId=d&DeviceType=t&User%", &q, &why),
           EAS_QUERY_E_SYNTAX, "parameter without value");

    /* MS-ASHTTP 2.2.1.1.1.1's example: 14.0, Sync, en-US, no policy key. */
    is_int(eas_query_parse(p, "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l", &q, &why),
           EAS_QUERY_E_MISSING, "spec example has no User parameter");
    is_int(q.version, 140, "base64: version byte");
    is_int(q.cmd, EAS_CMD_SYNC, "base64: command code");
    is_int(q.locale, 0x0409, "base64: locale");
    is_str(q.device_id, "v140Device", "base64: device id");
    is_str(q.device_type, "SmartPhone", "base64: device type");
    ok(!q.has_policy_key, "base64: no policy key");

    memset(&q2, 0, sizeof(q2));
    q2.version = 161;
    q2.cmd = EAS_CMD_SMARTFORWARD;
    q2.locale = 0x0407;
    q2.device_id = "Appl12345";
    q2.device_type = "iPad";
    q2.user = "user1";
    q2.has_policy_key = 1;
    q2.policy_key = 3942709124u;
    q2.item_id = "42";
    q2.collection_id = "7";
    q2.long_id = "RgAAAAD";
    q2.save_in_sent = 1;
    b64 = eas_query_encode_base64(p, &q2);
    is_int(eas_query_parse(p, b64, &q, &why), EAS_QUERY_OK, "base64 round trip parses");
    ok(q.base64 && q.version == 161 && q.cmd == EAS_CMD_SMARTFORWARD && q.locale == 0x0407,
       "base64: header fields round trip");
    ok(q.has_policy_key && q.policy_key == 3942709124u, "base64: policy key little-endian");
    ok(!strcmp(q.user, "user1") && !strcmp(q.item_id, "42") && !strcmp(q.collection_id, "7") &&
           !strcmp(q.long_id, "RgAAAAD") && q.save_in_sent && !q.accept_multipart,
       "base64: parameters round trip");
    is_int(eas_query_parse(p, apr_pstrcat(p, "", b64, NULL), &q, &why), EAS_QUERY_OK,
           "base64 parses again identically");

    {   /* percent-encoded base64 ('+', '/', '=' escaped by some clients) */
        char *esc = apr_pstrdup(p, "");
        for (i = 0; b64[i]; i++)
            esc = apr_psprintf(p, "%s%s", esc,
                               b64[i] == '+' ? "%2B" : b64[i] == '/' ? "%2F"
                               : b64[i] == '=' ? "%3D" : apr_pstrndup(p, b64 + i, 1));
        is_int(eas_query_parse(p, esc, &q, &why), EAS_QUERY_OK, "percent-encoded base64");
    }

    q2.device_id = "\x01\x02\xfe";
    q2.user = "u";
    b64 = eas_query_encode_base64(p, &q2);
    is_int(eas_query_parse(p, b64, &q, &why), EAS_QUERY_OK, "binary device id accepted");
    is_str(q.device_id, "0102fe", "binary device id is hex-encoded");

    /* Every truncation of a valid base64 query fails cleanly. */
    {
        unsigned char raw[64] = {141, 0, 9, 4, 3, 'd', 'e', 'v', 4, 1, 2, 3, 4, 2, 'S', 'P',
                                 8, 2, 'u', 'x'};
        int fails = 0, n;
        for (n = 1; n < 20; n++) {
            char enc[128];
            apr_base64_encode_binary(enc, raw, n);
            if (eas_query_parse(p, enc, &q, &why) == EAS_QUERY_OK)
                fails++;
        }
        is_int(fails, 0, "every truncated base64 query is refused");
        {
            char enc[128];
            apr_base64_encode_binary(enc, raw, 20);
            is_int(eas_query_parse(p, enc, &q, &why), EAS_QUERY_OK, "untruncated one parses");
        }
        raw[8] = 3; /* policy key length 3 */
        {
            char enc[128];
            apr_base64_encode_binary(enc, raw, 20);
            is_int(eas_query_parse(p, enc, &q, &why), EAS_QUERY_E_SYNTAX,
                   "policy key length 3 refused");
        }
    }
    is_int(eas_query_parse(p, "jA$AJ", &q, &why), EAS_QUERY_E_SYNTAX, "non-base64 characters");

    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
