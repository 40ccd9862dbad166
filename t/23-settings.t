#!/bin/bash
# Settings (MS-ASCMD 2.2.1.18) and Autodiscover (MS-ASCMD 2.2.1.1, JSON v2).
. "${top_srcdir:-$(dirname "$0")/..}/t/lib/stack.sh"
. "$top_srcdir/t/lib/eas.sh"
stack_start
u1="user1:$(user_pass user1)"

eas Settings user1 devS <<'XML'
<Settings xmlns="Settings:"><DeviceInformation><Set><Model>SM-S918B</Model><IMEI>356938035643809</IMEI><FriendlyName>Galaxy</FriendlyName><OS>Android 14</OS><OSLanguage>German</OSLanguage><PhoneNumber>+4930123456</PhoneNumber><UserAgent>Android-SAMSUNG/1.0</UserAgent><EnableOutboundSMS>0</EnableOutboundSMS><MobileOperator>Telekom</MobileOperator></Set></DeviceInformation><UserInformation><Get/></UserInformation></Settings>
XML
is "$(xget Status 1)" 1 "Settings: Status 1"
is "$(xget Status 2)" 1 "DeviceInformation Set: Status 1"
is "$(sql "SELECT concat_ws('|', model, imei, friendly_name, os, os_language, phone_number, info_user_agent, enable_outbound_sms, mobile_operator) FROM eas.devices WHERE device_id = 'devS'")" \
    "SM-S918B|356938035643809|Galaxy|Android 14|German|+4930123456|Android-SAMSUNG/1.0|f|Telekom" \
    "every DeviceInformation field is stored"
is "$(xget Status 3)" 1 "UserInformation Get: Status 1"
is "$(xget SMTPAddress)" "user1@$EAS_DOMAIN" "14.1: the primary address"
is "$(xget PrimarySmtpAddress)" "user1@$EAS_DOMAIN" "14.1: PrimarySmtpAddress inside Account"
sql "UPDATE eas.users SET display_name = 'User One', aliases = '{u1@example.test,one@example.test}' WHERE login = 'user1'" >/dev/null
EAS_PROTOCOL_VERSION=14.0 eas Settings user1 devS <<<'<Settings xmlns="Settings:"><UserInformation><Get/></UserInformation></Settings>'
is "$(xcount SMTPAddress)" 3 "14.0: primary and alias addresses"
is "$(xcount Accounts)" 0 "14.0: no Accounts element"
eas Settings user1 devS <<<'<Settings xmlns="Settings:"><UserInformation><Get/></UserInformation></Settings>'
is "$(xget UserDisplayName)" "User One" "14.1: the display name"

# Out of office.
eas Settings user1 devS <<'XML'
<Settings xmlns="Settings:"><Oof><Set><OofState>2</OofState><StartTime>2026-12-20T08:00:00.000Z</StartTime><EndTime>2027-01-06T18:00:00.000Z</EndTime><OofMessage><AppliesToInternal/><Enabled>1</Enabled><ReplyMessage>On holiday until 6 January.</ReplyMessage><BodyType>TEXT</BodyType></OofMessage><OofMessage><AppliesToExternalUnknown/><Enabled>0</Enabled></OofMessage></Set></Oof></Settings>
XML
is "$(xget Status 2)" 1 "Oof Set: Status 1"
eas Settings user1 devS <<<'<Settings xmlns="Settings:"><Oof><Get><BodyType>Text</BodyType></Get></Oof></Settings>'
is "$(xget OofState)" 2 "Oof Get: the state"
is "$(xget StartTime)" "2026-12-20T08:00:00.000Z" "the start time"
is "$(xget EndTime)" "2027-01-06T18:00:00.000Z" "the end time"
is "$(xcount OofMessage)" 3 "one OofMessage per audience"
is "$(xget ReplyMessage)" "On holiday until 6 January." "the internal reply"
eas Settings user1 devS <<'XML'
<Settings xmlns="Settings:"><Oof><Set><OofState>2</OofState><StartTime>2026-12-20T08:00:00.000Z</StartTime></Set></Oof></Settings>
XML
is "$(xget Status 2)" 2 "a start time without an end time: Status 2"
eas Settings user1 devS <<<'<Settings xmlns="Settings:"><Oof><Get><BodyType>Text</BodyType></Get></Oof></Settings>'
is "$(xget EndTime)" "2027-01-06T18:00:00.000Z" "and nothing was changed by it"
eas Settings user1 devS <<'XML'
<Settings xmlns="Settings:"><DevicePassword><Set><Password>1234-recovery</Password></Set></DevicePassword><RightsManagementInformation><Get/></RightsManagementInformation></Settings>
XML
is "$(xget Status 2)" 1 "DevicePassword Set: Status 1"
is "$(xget Status 3)" 1 "RightsManagementInformation Get: Status 1"
is "$(xcount RightsManagementTemplates)" 1 "with an (empty) template list"
is "$(sql "SELECT recovery_password FROM eas.devices WHERE device_id = 'devS'")" "1234-recovery" \
    "the recovery password is kept for the administrator"
eas Settings user1 devS <<<'<Settings xmlns="Settings:"><Oof/></Settings>'
is "$(xget Status 2)" 2 "an Oof without Get or Set: Status 2"

# Autodiscover, POX and JSON.
base=${EAS_URL%/Microsoft-Server-ActiveSync}
req="<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006\"><Request><EMailAddress>user1@$EAS_DOMAIN</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006</AcceptableResponseSchema></Request></Autodiscover>"
out=$(curl -sk -u "$u1" -H 'Content-Type: text/xml' --data-binary "$req" "$base/Autodiscover/Autodiscover.xml")
like "$out" "<Url>$EAS_URL</Url>" "Autodiscover (any path case) answers the ActiveSync URL"
like "$out" "<DisplayName>User One</DisplayName>" "and the user's display name"
out=$(curl -sk -u "$u1" -H 'Content-Type: text/xml' --data-binary '<Autodiscover><Request>' "$base/autodiscover/autodiscover.xml")
like "$out" "<ErrorCode>600</ErrorCode>" "malformed Autodiscover: ErrorCode 600"
is "$(curl -sk -o /dev/null -w '%{http_code}' --data-binary "$req" "$base/autodiscover/autodiscover.xml")" 401 \
    "POX Autodiscover needs credentials"
out=$(curl -sk "$base/autodiscover/autodiscover.json/v1.0/user1@$EAS_DOMAIN?Protocol=ActiveSync")
like "$out" "\"Url\":\"$EAS_URL\"" "JSON autodiscover answers the URL"
is "$(curl -sk -o /dev/null -w '%{http_code}' "$base/autodiscover/autodiscover.json?Email=user1@$EAS_DOMAIN&Protocol=POP3")" 400 \
    "JSON autodiscover for another protocol: 400"
done_testing
