#!/bin/bash
# Sync of calendars (MS-ASCMD 2.2.1.21, MS-ASCAL): round trips of a
# recurring meeting with time zone, exceptions and attendees between 14.1
# and 16.1 devices (Location, InstanceId), 16.x instance edits, invalid
# Timezone / Recurrence refused per item, FilterType windows with series
# across the window edge, filter changes and items leaving the window.
. "${top_srcdir:-$(dirname "$0")/..}/t/lib/stack.sh"
. "$top_srcdir/t/lib/eas.sh"
. "$top_srcdir/t/lib/sync.sh"
stack_start

foldersync user1 devA 0 >/dev/null
K=$(sql "SELECT f.id FROM eas.folders f JOIN eas.users u ON u.id = f.user_id WHERE u.login = 'user1' AND f.type = 8")
like "$K" '^[0-9]+$' "the user's Calendar folder"
WEU="xP///1cALgAgAEUAdQByAG8AcABlACAAUwB0AGEAbgBkAGEAcgBkACAAVABpAG0AZQAAAAAAAAAAAAAAAAAAAAAAAAAAAAoAAAAFAAMAAAAAAAAAAAAAAFcALgAgAEUAdQByAG8AcABlACAARABhAHkAbABpAGcAaAB0ACAAVABpAG0AZQAAAAAAAAAAAAAAAAAAAAAAAAAAAAMAAAAFAAIAAAAAAAAAxP///w=="
dt() { date -u -d "$1" +%Y%m%dT%H%M%SZ; }   # a Compact DateTime

# ---- a recurring meeting, 14.1 -> 14.1 ----------------------------------
MEET="<ApplicationData><calendar:Timezone>$WEU</calendar:Timezone><calendar:AllDayEvent>0</calendar:AllDayEvent><calendar:BusyStatus>2</calendar:BusyStatus><calendar:DtStamp>20260301T120000Z</calendar:DtStamp><calendar:StartTime>20260302T080000Z</calendar:StartTime><calendar:EndTime>20260302T090000Z</calendar:EndTime><calendar:Location>Room 1</calendar:Location><calendar:MeetingStatus>1</calendar:MeetingStatus><calendar:OrganizerEmail>user1@example.test</calendar:OrganizerEmail><calendar:OrganizerName>User One</calendar:OrganizerName><calendar:Reminder>15</calendar:Reminder><calendar:Sensitivity>0</calendar:Sensitivity><calendar:Subject>Weekly planning</calendar:Subject><calendar:UID>MEETING-UID-0001</calendar:UID><calendar:Attendees><calendar:Attendee><calendar:Email>chris@example.test</calendar:Email><calendar:Name>Chris</calendar:Name><calendar:AttendeeStatus>3</calendar:AttendeeStatus><calendar:AttendeeType>1</calendar:AttendeeType></calendar:Attendee></calendar:Attendees><calendar:Categories><calendar:Category>Team</calendar:Category></calendar:Categories><calendar:Recurrence><calendar:Type>1</calendar:Type><calendar:Interval>1</calendar:Interval><calendar:Until>20260427T080000Z</calendar:Until><calendar:DayOfWeek>2</calendar:DayOfWeek></calendar:Recurrence><calendar:Exceptions><calendar:Exception><calendar:Deleted>1</calendar:Deleted><calendar:ExceptionStartTime>20260309T080000Z</calendar:ExceptionStartTime></calendar:Exception><calendar:Exception><calendar:ExceptionStartTime>20260316T080000Z</calendar:ExceptionStartTime><calendar:StartTime>20260317T100000Z</calendar:StartTime><calendar:EndTime>20260317T110000Z</calendar:EndTime><calendar:Subject>Moved planning</calendar:Subject></calendar:Exception></calendar:Exceptions><calendar:ResponseRequested>1</calendar:ResponseRequested><calendar:DisallowNewTimeProposal>0</calendar:DisallowNewTimeProposal><airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type><airsyncbase:Data>Agenda: everything</airsyncbase:Data></airsyncbase:Body></ApplicationData>"
kA=$(sync_start user1 devA "$K")
sync1 user1 devA "$K" "$kA" "<Commands><Add><ClientId>m1</ClientId>$MEET</Add><Add><ClientId>bad</ClientId><ApplicationData><calendar:Timezone>AAAA</calendar:Timezone><calendar:StartTime>20260302T080000Z</calendar:StartTime><calendar:Subject>Bad zone</calendar:Subject></ApplicationData></Add><Add><ClientId>bad2</ClientId><ApplicationData><calendar:StartTime>20260302T080000Z</calendar:StartTime><calendar:Subject>Bad rule</calendar:Subject><calendar:Recurrence><calendar:Type>4</calendar:Type></calendar:Recurrence></ApplicationData></Add><Add><ClientId>allday</ClientId><ApplicationData><calendar:Timezone>$WEU</calendar:Timezone><calendar:AllDayEvent>1</calendar:AllDayEvent><calendar:StartTime>20260304T230000Z</calendar:StartTime><calendar:EndTime>20260305T230000Z</calendar:EndTime><calendar:Subject>Holiday</calendar:Subject></ApplicationData></Add></Commands>"
is "$(response_status Add 1)/$(response_status Add 2)/$(response_status Add 3)/$(response_status Add 4)" 1/6/6/1 \
    "an invalid Timezone and an invalid Recurrence get Status 6, the others go through"
meet=$(response_sid m1)
allday=$(response_sid allday)
kA=$(newkey "$kA")

kB=$(sync_start user1 devB "$K")
sync1 user1 devB "$K" "$kB"
kB=$(newkey "$kB")
is "$(xcount Add)" 2 "device B gets the two good items"
is "$(appdata "$meet" | sed 's|<airsyncbase:EstimatedDataSize>[0-9]*</airsyncbase:EstimatedDataSize>||')" "$MEET" \
    "14.1 -> 14.1: the meeting comes back exactly (zone, recurrence, exceptions, attendees, body)"
like "$(appdata "$allday")" '<calendar:AllDayEvent>1</calendar:AllDayEvent>' "the all-day event"
like "$(appdata "$allday")" '<calendar:UID>[0-9A-F]{32}</calendar:UID>' "gets a UID from the server"

# ---- the same meeting for a 16.1 device ---------------------------------
export EAS_PROTOCOL_VERSION=16.1
kC=$(sync_start user1 devC "$K")
sync1 user1 devC "$K" "$kC"
kC=$(newkey "$kC")
m16=$(appdata "$meet")
like "$m16" '<airsyncbase:Location><airsyncbase:DisplayName>Room 1</airsyncbase:DisplayName></airsyncbase:Location>' \
    "16.1: Location is the airsyncbase:Location container"
like "$m16" '<calendar:Exception><calendar:Deleted>1</calendar:Deleted><airsyncbase:InstanceId>20260309T080000Z</airsyncbase:InstanceId></calendar:Exception>' \
    "16.1: an exception is named by airsyncbase:InstanceId"
unlike() { ! printf '%s' "$1" | grep -q -- "$2"; }
unlike "$m16" 'ExceptionStartTime'; ok $? "16.1: no ExceptionStartTime"

# A 16.1 client edits one occurrence (MS-ASAIRS 2.2.2.25 InstanceId).
sync1 user1 devC "$K" "$kC" "<Commands><Change><ServerId>$meet</ServerId><airsyncbase:InstanceId>20260323T080000Z</airsyncbase:InstanceId><ApplicationData><calendar:Subject>Planning with guests</calendar:Subject><calendar:StartTime>20260323T090000Z</calendar:StartTime><calendar:EndTime>20260323T100000Z</calendar:EndTime></ApplicationData></Change><Delete><ServerId>$meet</ServerId><airsyncbase:InstanceId>20260330T070000Z</airsyncbase:InstanceId></Delete><Change><ServerId>$meet</ServerId><airsyncbase:InstanceId>20260324T080000Z</airsyncbase:InstanceId><ApplicationData><calendar:Subject>No such occurrence</calendar:Subject></ApplicationData></Change></Commands>"
is "$(response_status Change 1)" 8 "an InstanceId that is no occurrence: Status 8"
is "$(xmllint --xpath "string(//*[local-name()='Responses']/*[local-name()='Change']/*[local-name()='InstanceId'])" "$STACK_T/last.xml")" 20260324T080000Z "with the InstanceId echoed"
is "$(xcount Delete)" 0 "deleting the occurrence after the change to summer time (07:00Z, wall clock kept) succeeds"
kC=$(newkey "$kC")
unset EAS_PROTOCOL_VERSION
sync1 user1 devB "$K" "$kB"
kB=$(newkey "$kB")
mB=$(appdata "$meet" Change)
like "$mB" '<calendar:Exception><calendar:ExceptionStartTime>20260323T080000Z</calendar:ExceptionStartTime><calendar:Subject>Planning with guests</calendar:Subject><calendar:StartTime>20260323T090000Z</calendar:StartTime>' \
    "a 14.1 device sees the instance edit as an exception"
like "$mB" '<calendar:Exception><calendar:ExceptionStartTime>20260330T070000Z</calendar:ExceptionStartTime><calendar:Deleted>1</calendar:Deleted></calendar:Exception>' \
    "and the instance delete as a deleted exception"
like "$mB" '<calendar:Location>Room 1</calendar:Location>' "14.1: Location is a string"
like "$mB" 'Moved planning' "the exceptions it sent itself are still there"

# A 16.1 client moves the series: the exceptions go (MS-ASCAL 2.2.2.22).
export EAS_PROTOCOL_VERSION=16.1
sync1 user1 devC "$K" "$kC" "<Commands><Change><ServerId>$meet</ServerId><ApplicationData><calendar:Timezone>$WEU</calendar:Timezone><calendar:Subject>Weekly planning</calendar:Subject><calendar:StartTime>20260302T090000Z</calendar:StartTime><calendar:EndTime>20260302T100000Z</calendar:EndTime><calendar:Recurrence><calendar:Type>1</calendar:Type><calendar:Interval>1</calendar:Interval><calendar:Until>20260427T080000Z</calendar:Until><calendar:DayOfWeek>2</calendar:DayOfWeek></calendar:Recurrence></ApplicationData></Change></Commands>"
kC=$(newkey "$kC")
# ... a 16.1 Add with ClientUid and airsyncbase:Location
sync1 user1 devC "$K" "$kC" "<Commands><Add><ClientId>n16</ClientId><ApplicationData><calendar:StartTime>20260402T080000Z</calendar:StartTime><calendar:EndTime>20260402T090000Z</calendar:EndTime><calendar:Subject>From 16.1</calendar:Subject><calendar:ClientUid>client-uid-16</calendar:ClientUid><airsyncbase:Location><airsyncbase:DisplayName>Cafe</airsyncbase:DisplayName><airsyncbase:City>Berlin</airsyncbase:City></airsyncbase:Location></ApplicationData></Add></Commands>"
n16=$(response_sid n16)
kC=$(newkey "$kC")
sync1 user1 devC "$K" "$kC" "<Commands><Add><ClientId>n16-again</ClientId><ApplicationData><calendar:StartTime>20260402T080000Z</calendar:StartTime><calendar:EndTime>20260402T093000Z</calendar:EndTime><calendar:Subject>From 16.1</calendar:Subject><calendar:ClientUid>client-uid-16</calendar:ClientUid><airsyncbase:Location><airsyncbase:DisplayName>Cafe</airsyncbase:DisplayName><airsyncbase:City>Berlin</airsyncbase:City></airsyncbase:Location></ApplicationData></Add></Commands>"
is "$(response_sid n16-again)" "$n16" "16.1: an Add with a ClientUid already in the calendar is that event again (MS-ASCAL 2.2.2.13)"
is "$(sql "SELECT count(*) FROM eas.items WHERE folder_id = $K AND uid = 'client-uid-16' AND NOT deleted")" 1 "no second event"
kC=$(newkey "$kC")
unset EAS_PROTOCOL_VERSION
sync1 user1 devB "$K" "$kB"
kB=$(newkey "$kB")
unlike "$(appdata "$meet" Change)" 'Exception'; ok $? "a new series time from a 16.1 client drops the exceptions"
a16=$(appdata "$n16")
like "$a16" '<calendar:Location>Cafe</calendar:Location>' "14.1 gets a 16.1 location as a string"
unlike "$a16" 'ClientUid'; ok $? "and no ClientUid (16.0+ only)"
like "$a16" '<calendar:UID>client-uid-16</calendar:UID>' "the ClientUid became the UID"

# ---- FilterType ---------------------------------------------------------
now=$(date -u +%s)
ev() { # ev CLIENTID START END [RECURRENCE]
    echo "<Add><ClientId>$1</ClientId><ApplicationData><calendar:Timezone>$WEU</calendar:Timezone><calendar:StartTime>$2</calendar:StartTime><calendar:EndTime>$3</calendar:EndTime><calendar:Subject>$1</calendar:Subject>${4:-}</ApplicationData></Add>"
}
FOLD=$(sql "INSERT INTO eas.folders (user_id, class, type, display_name, created_seq, changed_seq) SELECT id, 'Calendar', 13, 'Window', eas.next_hierarchy_seq(id), hierarchy_seq FROM eas.users WHERE login = 'user1' RETURNING id")
kA=$(sync_start user1 devA "$FOLD")
reqs="$(ev past "$(dt '30 days ago')" "$(dt '30 days ago + 1 hour')")"
reqs="$reqs$(ev open "$(dt '60 days ago')" "$(dt '60 days ago + 1 hour')" '<calendar:Recurrence><calendar:Type>0</calendar:Type></calendar:Recurrence>')"
reqs="$reqs$(ev ended "$(dt '60 days ago')" "$(dt '60 days ago + 1 hour')" "<calendar:Recurrence><calendar:Type>0</calendar:Type><calendar:Until>$(dt '20 days ago')</calendar:Until></calendar:Recurrence>")"
reqs="$reqs$(ev edge "$(dt '60 days ago')" "$(dt '60 days ago + 1 hour')" "<calendar:Recurrence><calendar:Type>0</calendar:Type><calendar:Until>$(dt '5 days ago')</calendar:Until></calendar:Recurrence>")"
reqs="$reqs$(ev future "$(dt '3 days')" "$(dt '3 days + 1 hour')")"
reqs="$reqs$(ev counted "$(dt '50 days ago')" "$(dt '50 days ago + 1 hour')" '<calendar:Recurrence><calendar:Type>1</calendar:Type><calendar:Occurrences>3</calendar:Occurrences></calendar:Recurrence>')"
sync1 user1 devA "$FOLD" "$kA" "<Commands>$reqs</Commands>"
is "$(xcount Add)" 6 "six events with various ends"
kA=$(newkey "$kA")

kF=$(sync_start user1 devF "$FOLD" "<Options><FilterType>4</FilterType></Options>")
: >"$STACK_T/seen"
kF=$(sync_drain user1 devF "$FOLD" "$kF")
subjects() { sql "SELECT string_agg(subject, ',' ORDER BY subject) FROM eas.items i JOIN eas.sync_items s ON s.item = i.id JOIN eas.devices d ON d.id = s.device_id WHERE d.device_id = '$1' AND s.folder_id = $FOLD"; }
is "$(subjects devF)" "edge,future,open" \
    "two weeks: an open series, a series whose last occurrence is in the window, a future event"
sync1 user1 devF "$FOLD" "$kF" "<Options><FilterType>0</FilterType></Options>"
kF=$(newkey "$kF")
is "$(xcount Add)" 3 "widening the filter adds what is now in"
is "$(subjects devF)" "counted,edge,ended,future,open,past" "everything"
sync1 user1 devF "$FOLD" "$kF" "<Options><FilterType>4</FilterType></Options>"
kF=$(newkey "$kF")
is "$(xcount SoftDelete)" 3 "narrowing it soft-deletes what is out"
is "$(xcount Add)$(xcount Delete)" 00 "and sends nothing else"
is "$(subjects devF)" "edge,future,open" "the view follows"

# Time passes: the window start moves past the "edge" series.
sql "UPDATE eas.collections c SET filter_cutoff = now() - interval '30 days' FROM eas.devices d WHERE d.id = c.device_id AND d.device_id = 'devF' AND c.folder_id = $FOLD" >/dev/null
# (the item itself does not change: no new seq)
sql "ALTER TABLE eas.items DISABLE TRIGGER items_stamp; UPDATE eas.items SET end_time = now() - interval '20 days' WHERE folder_id = $FOLD AND subject = 'edge'; ALTER TABLE eas.items ENABLE TRIGGER items_stamp" >/dev/null
sync1 user1 devF "$FOLD" "$kF"
kF=$(newkey "$kF")
is "$(xcount SoftDelete)" 1 "an item that left the window since the last Sync is soft-deleted"
is "$(subjects devF)" "future,open" "and leaves the view"

# A change to an item outside the window is not sent; into it, it is.
past=$(sql "SELECT '$FOLD:' || id FROM eas.items WHERE folder_id = $FOLD AND subject = 'past'")
sync1 user1 devA "$FOLD" "$kA" "<Commands><Change><ServerId>$past</ServerId><ApplicationData><calendar:Timezone>$WEU</calendar:Timezone><calendar:StartTime>$(dt '2 days')</calendar:StartTime><calendar:EndTime>$(dt '2 days + 1 hour')</calendar:EndTime><calendar:Subject>past</calendar:Subject></ApplicationData></Change></Commands>"
sync1 user1 devF "$FOLD" "$kF"
kF=$(newkey "$kF")
is "$(server_ids Add)" "$past" "an event moved into the window arrives as an Add"

done_testing
