# Sourced after t/lib/stack.sh: helpers for EAS protocol tests.
# Responses of eas_post are kept in $STACK_T/last.xml for xget.

# eas CMD USER DEVICE: POSTs the XML on stdin, keeps the decoded answer.
eas() {
    eas_post "$1" "$2" "$3" - >"$STACK_T/last.xml"
    local rc=$?
    cp "$STACK_T/eas.headers" "$STACK_T/last.headers" 2>/dev/null
    return $rc
}
# xget NAME [N]: text of the Nth (default 1st) element NAME in the last answer.
xget() {
    xmllint --xpath "string((//*[local-name()='$1'])[${2:-1}])" "$STACK_T/last.xml" 2>/dev/null
}
# xcount NAME: how many elements NAME the last answer has.
xcount() {
    xmllint --xpath "count(//*[local-name()='$1'])" "$STACK_T/last.xml" 2>/dev/null
}
# header NAME: a header of the last answer.
header() {
    sed -n "s/^$1: *//Ip" "$STACK_T/last.headers" | tr -d '\r' | head -n 1
}
last_xml() { cat "$STACK_T/last.xml"; }

# raw_post QUERY [curl options]: POST with a hand-made query string (base64
# forms, bad input); prints the HTTP status.
raw_post() {
    local q=$1
    shift
    curl -sk --max-time 60 -o "$STACK_T/raw.resp" -D "$STACK_T/raw.headers" -w '%{http_code}' \
        -u "user1:$(user_pass user1)" "$@" "$EAS_URL?$q"
}

foldersync() { # foldersync USER DEVICE KEY
    eas FolderSync "$1" "$2" <<<"<FolderSync xmlns=\"FolderHierarchy:\"><SyncKey>$3</SyncKey></FolderSync>"
}

# provision USER DEVICE: runs both phases; prints the final policy key.
provision() {
    local temp
    EAS_POLICY_KEY=0 eas Provision "$1" "$2" <<'XML' || return 1
<Provision xmlns="Provision:" xmlns:s="Settings:"><s:DeviceInformation><s:Set><s:Model>TestModel</s:Model><s:OS>TestOS 1.0</s:OS></s:Set></s:DeviceInformation><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>
XML
    temp=$(xget PolicyKey)
    EAS_POLICY_KEY=$temp eas Provision "$1" "$2" <<XML || return 1
<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><PolicyKey>$temp</PolicyKey><Status>1</Status></Policy></Policies></Provision>
XML
    xget PolicyKey
}

# stack_config "DIRECTIVE..." ...: replaces the extra httpd configuration of
# the stack (one line per argument) and reloads httpd.
stack_config() {
    printf '%s\n' "$@" >"$STACK_DIR/conf/eas-extra.conf"
    chmod 644 "$STACK_DIR/conf/eas-extra.conf"
    "$EAS_STACK" reload --dir "$STACK_DIR" --quiet
}

# stack_ctl COMPONENT ACTION: stop/start/restart postgres, dovecot or postfix.
stack_ctl() { "$EAS_STACK" ctl "$1" "$2" --dir "$STACK_DIR" --quiet; }
