#!/bin/bash
# Every log message number (EASLOGNO) is used once, below the number in
# docs/log-message-tags/next-number; httpd's own AH numbers are never used.
top=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
n=0 fail=0
check() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
cd "$top" || exit 1
nums=$(grep -rhoE 'EASLOGNO\([0-9]{5}\)' libeas mod_eas tools fuzz bench 2>/dev/null | grep -oE '[0-9]{5}')
dups=$(echo "$nums" | sort | uniq -d)
[ -z "$dups" ]; check $? "no message number is used twice${dups:+ (duplicates: $(echo $dups))}"
next=$(cat docs/log-message-tags/next-number)
high=$(echo "$nums" | sort -n | tail -n1)
[ "$((10#$high))" -lt "$next" ]; check $? "every number is below next-number ($next; highest $high)"
grep -rnE 'APLOGNO\(|"AH[0-9]{5}' libeas mod_eas >/dev/null; [ $? = 1 ]; check $? "no httpd AH numbers in our code"
bad=$(grep -rnE 'ap_log_(r|c|)error\(APLOG_MARK, *APLOG_[A-Z]+, *[^,]+, *[^,]+, *"' mod_eas | grep -v EASLOGNO)
[ -z "$bad" ]; check $? "every ap_log_*error call carries an EASLOGNO${bad:+: $bad}"
echo "1..$n"
exit $fail
