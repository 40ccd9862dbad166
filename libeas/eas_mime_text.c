/*
 * Text for the Email class: charsets to UTF-8 (ICU), HTML to plain text
 * and back, format=flowed, previews, truncation on character boundaries.
 */
#include "eas_mime_private.h"
#include "eas_utf8.h"

#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <unicode/ucnv.h>
#include <unicode/ucsdet.h>

/* ---- buffers --------------------------------------------------------- */

void mime_buf_init(mime_buf_t *b, apr_pool_t *p, apr_size_t hint)
{
    b->p = p;
    b->n = 0;
    b->cap = hint < 64 ? 64 : hint;
    b->d = apr_palloc(p, b->cap);
}

void mime_buf_add(mime_buf_t *b, const char *s, apr_size_t n)
{
    if (b->n + n + 1 > b->cap) {
        apr_size_t cap = b->cap * 2;
        char *d;

        while (cap < b->n + n + 1)
            cap *= 2;
        d = apr_palloc(b->p, cap);
        memcpy(d, b->d, b->n);
        b->d = d;
        b->cap = cap;
    }
    if (n) {
        memcpy(b->d + b->n, s, n);
        b->n += n;
    }
}

void mime_buf_adds(mime_buf_t *b, const char *s)
{
    mime_buf_add(b, s, strlen(s));
}

void mime_buf_addc(mime_buf_t *b, char c)
{
    mime_buf_add(b, &c, 1);
}

char *mime_buf_str(mime_buf_t *b)
{
    mime_buf_add(b, "", 0);
    b->d[b->n] = '\0';
    return b->d;
}

void mime_buf_add_cp(mime_buf_t *b, apr_uint32_t cp)
{
    char u[4];

    if (cp < 0x80) {
        u[0] = (char)cp;
        mime_buf_add(b, u, 1);
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        mime_buf_add(b, u, 2);
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        mime_buf_add(b, u, 3);
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        mime_buf_add(b, u, 4);
    }
}

const char *mime_utf8_clean(apr_pool_t *p, const char *s, apr_size_t len, apr_size_t *out_len)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i = 0, n;
    apr_uint32_t cp;
    mime_buf_t b;

    while (i < len && u[i] && (n = eas_utf8_next(u + i, len - i, &cp)) != 0)
        i += n;
    if (i == len) {
        if (out_len)
            *out_len = len;
        return s;
    }
    mime_buf_init(&b, p, len + 16);
    mime_buf_add(&b, s, i);
    while (i < len) {
        if (!u[i]) {
            i++;
        } else if ((n = eas_utf8_next(u + i, len - i, &cp)) != 0) {
            mime_buf_add(&b, s + i, n);
            i += n;
        } else {
            mime_buf_add_cp(&b, 0xFFFD);
            i++;
        }
    }
    if (out_len)
        *out_len = b.n;
    return mime_buf_str(&b);
}

char *mime_crlf(apr_pool_t *p, const char *s, apr_size_t len, apr_size_t *out_len)
{
    mime_buf_t b;
    apr_size_t i;

    mime_buf_init(&b, p, len + len / 16 + 16);
    for (i = 0; i < len; i++) {
        if (s[i] == '\r') {
            mime_buf_add(&b, "\r\n", 2);
            if (i + 1 < len && s[i + 1] == '\n')
                i++;
        } else if (s[i] == '\n') {
            mime_buf_add(&b, "\r\n", 2);
        } else {
            mime_buf_addc(&b, s[i]);
        }
    }
    if (out_len)
        *out_len = b.n;
    return mime_buf_str(&b);
}

apr_size_t eas_mime_utf8_cut(const char *s, apr_size_t len, apr_size_t max)
{
    apr_size_t i;

    if (len <= max)
        return len;
    i = max;
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
        i--;
    return i;
}

/* ---- charsets -------------------------------------------------------- */

/* Lower case, without quotes and white space. */
static char *label_norm(apr_pool_t *p, const char *label)
{
    char *s = apr_palloc(p, strlen(label) + 1), *d = s;

    for (; *label; label++)
        if (!apr_isspace(*label) && *label != '"' && *label != '\'')
            *d++ = (char)apr_tolower(*label);
    *d = '\0';
    return s;
}

/* Labels read differently from what they say, as browsers do; NULL means
 * "unknown: detect". */
static const struct {
    const char *label, *use;
} relabel[] = {
    {"iso-8859-1", "windows-1252"}, {"iso8859-1", "windows-1252"},
    {"iso_8859-1", "windows-1252"}, {"latin1", "windows-1252"}, {"latin-1", "windows-1252"},
    {"l1", "windows-1252"}, {"cp819", "windows-1252"}, {"iso-ir-100", "windows-1252"},
    {"iso-8859-9", "windows-1254"}, {"latin5", "windows-1254"},
    {"tis-620", "windows-874"}, {"iso-8859-11", "windows-874"},
    {"gb2312", "GBK"}, {"x-gbk", "GBK"}, {"gb_2312-80", "GBK"}, {"chinese", "GBK"},
    {"euc-kr", "windows-949"}, {"ks_c_5601-1987", "windows-949"}, {"ks_c_5601", "windows-949"},
    {"x-sjis", "Shift_JIS"}, {"sjis", "Shift_JIS"}, {"shift-jis", "Shift_JIS"},
    {"ms_kanji", "Shift_JIS"}, {"csshiftjis", "Shift_JIS"},
    {"utf8", "UTF-8"}, {"x-utf-8", "UTF-8"},
    {"us-ascii", NULL}, {"ascii", NULL}, {"ansi_x3.4-1968", NULL}, {"us", NULL},
    {"unknown-8bit", NULL}, {"x-unknown", NULL}, {"unknown", NULL}, {"default", NULL},
    {"x-user-defined", NULL}, {"8bit", NULL}, {"binary", NULL}, {"charset", NULL},
};

/* Charsets the detector may pick; anything else it says is not trusted on
 * the short texts mail is made of. */
static const char *const detect_ok[] = {
    "UTF-8", "Shift_JIS", "ISO-2022-JP", "EUC-JP", "GB18030", "EUC-KR", "Big5",
    "KOI8-R", "windows-1251", "ISO-8859-5", "windows-1256", "windows-1253", "ISO-8859-7",
    "windows-1255", "windows-1250", "ISO-8859-2", "windows-1254", "windows-1252",
};

/* A sequence of at least two bytes that is valid UTF-8. */
static int has_utf8_multibyte(const char *s, apr_size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i, n;
    apr_uint32_t cp;

    for (i = 0; i < len; i++)
        if (u[i] >= 0xC2 && (n = eas_utf8_next(u + i, len - i, &cp)) > 1)
            return 1;
    return 0;
}

static int all_ascii(const char *s, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 0;
    return 1;
}

static const char *detect(const char *in, apr_size_t len)
{
    UErrorCode e = U_ZERO_ERROR;
    UCharsetDetector *d;
    const UCharsetMatch *m;
    const char *name = "windows-1252", *got;
    apr_size_t i;

    if (eas_utf8_valid(in, len))
        return "UTF-8";
    d = ucsdet_open(&e);
    if (U_FAILURE(e))
        return name;
    ucsdet_setText(d, in, len > 65536 ? 65536 : (int32_t)len, &e);
    m = ucsdet_detect(d, &e);
    if (U_SUCCESS(e) && m && ucsdet_getConfidence(m, &e) >= 20 && U_SUCCESS(e)) {
        got = ucsdet_getName(m, &e);
        if (U_SUCCESS(e) && got) {
            if (!strcmp(got, "ISO-8859-1"))
                got = "windows-1252";
            for (i = 0; i < sizeof(detect_ok) / sizeof(detect_ok[0]); i++)
                if (!strcmp(got, detect_ok[i])) {
                    name = detect_ok[i];
                    break;
                }
        }
    }
    ucsdet_close(d);
    return name;
}

/* Converts with ICU; NULL when ICU does not know the charset. */
static char *icu_convert(apr_pool_t *p, const char *from, const char *in, apr_size_t len,
                         apr_size_t *out_len)
{
    UErrorCode e = U_ZERO_ERROR;
    UConverter *cnv;
    int32_t cap, n;
    char *out;

    cnv = ucnv_open(from, &e);
    if (U_FAILURE(e))
        return NULL;
    ucnv_close(cnv);
    if (len > 0x7fffffff / 3 - 16)
        len = 0x7fffffff / 3 - 16;
    cap = (int32_t)len * 3 + 16;
    out = apr_palloc(p, cap);
    e = U_ZERO_ERROR;
    n = ucnv_convert("UTF-8", from, out, cap, in, (int32_t)len, &e);
    if (e == U_BUFFER_OVERFLOW_ERROR) {
        cap = n + 1;
        out = apr_palloc(p, cap);
        e = U_ZERO_ERROR;
        n = ucnv_convert("UTF-8", from, out, cap, in, (int32_t)len, &e);
    }
    if (U_FAILURE(e))
        return NULL;
    out[n] = '\0';
    *out_len = (apr_size_t)n;
    return out;
}

char *eas_mime_to_utf8(apr_pool_t *p, const char *charset, const char *in, apr_size_t len,
                       apr_size_t *out_len, const char **used)
{
    const char *use = NULL, *res;
    char *label = NULL, *out;
    int known = 0;
    apr_size_t i, n;

    if (charset && *charset) {
        label = label_norm(p, charset);
        use = label;
        for (i = 0; i < sizeof(relabel) / sizeof(relabel[0]); i++)
            if (!strcmp(label, relabel[i].label)) {
                use = relabel[i].use;
                break;
            }
        if (use && !strcmp(use, "utf-8"))
            use = "UTF-8";
    }
    /* Pure ASCII reads the same in every charset mail uses, except the
     * 7-bit ones (ISO-2022-*, UTF-7) that need their escapes decoded. */
    if (all_ascii(in, len) && !(use && (!strncmp(use, "iso-2022", 8) || !strcmp(use, "utf-7")
                                        || !strncmp(use, "unicode-1-1-utf-7", 17)))) {
        use = "UTF-8";
        known = 1;
    } else if (!use) {
        use = detect(in, len);
        known = 1;
    } else if (!strcmp(use, "UTF-8")) {
        /* Labelled UTF-8 but not a single multi-byte sequence: Latin-1 text
         * under a wrong label, far more common than a broken UTF-8 message. */
        if (!eas_utf8_valid(in, len) && !has_utf8_multibyte(in, len))
            use = "windows-1252";
        known = 1;
    } else if (!strcmp(use, "windows-1252") && eas_utf8_valid(in, len)) {
        /* UTF-8 sent under a Latin-1 label; Latin-1 text is practically never valid UTF-8. */
        use = "UTF-8";
        known = 1;
    }
    if (!strcmp(use, "UTF-8")) {
        res = mime_utf8_clean(p, in, len, &n);
        out = (char *)(res == in ? apr_pstrmemdup(p, in, len) : res);
        *out_len = n;
        if (used)
            *used = "UTF-8";
        return out;
    }
    out = icu_convert(p, use, in, len, out_len);
    if (!out && !known && !strncmp(use, "x-", 2))
        out = icu_convert(p, use + 2, in, len, out_len);
    if (!out) {
        use = detect(in, len);
        if (!strcmp(use, "UTF-8")) {
            if (used)
                *used = use;
            out = (char *)mime_utf8_clean(p, in, len, out_len);
            return out == in ? apr_pstrmemdup(p, in, len) : out;
        }
        out = icu_convert(p, use, in, len, out_len);
    }
    if (!out) {
        use = "windows-1252";
        out = icu_convert(p, use, in, len, out_len);
    }
    if (!out) {
        /* ICU without data: never leave the caller without text. */
        use = "UTF-8";
        out = (char *)mime_utf8_clean(p, in, len, out_len);
        if (out == in)
            out = apr_pstrmemdup(p, in, len);
    }
    if (used)
        *used = use;
    /* ICU output is UTF-8 already; this only drops NULs the input carried. */
    res = mime_utf8_clean(p, out, *out_len, out_len);
    return (char *)res;
}

/* Windows code pages (PidTagInternetCodepage) by charset label. */
static const struct {
    const char *label;
    int cp;
} cpids[] = {
    {"utf-8", 65001}, {"utf8", 65001}, {"utf-7", 65000}, {"utf-16", 1200}, {"utf-16le", 1200},
    {"utf-16be", 1201}, {"us-ascii", 20127}, {"ascii", 20127},
    {"iso-8859-1", 28591}, {"latin1", 28591}, {"iso-8859-2", 28592}, {"iso-8859-3", 28593},
    {"iso-8859-4", 28594}, {"iso-8859-5", 28595}, {"iso-8859-6", 28596},
    {"iso-8859-7", 28597}, {"iso-8859-8", 28598}, {"iso-8859-8-i", 38598},
    {"iso-8859-9", 28599}, {"iso-8859-13", 28603}, {"iso-8859-15", 28605},
    {"windows-1250", 1250}, {"windows-1251", 1251}, {"windows-1252", 1252},
    {"windows-1253", 1253}, {"windows-1254", 1254}, {"windows-1255", 1255},
    {"windows-1256", 1256}, {"windows-1257", 1257}, {"windows-1258", 1258},
    {"cp1250", 1250}, {"cp1251", 1251}, {"cp1252", 1252}, {"windows-874", 874},
    {"tis-620", 874}, {"koi8-r", 20866}, {"koi8-u", 21866}, {"ibm866", 866}, {"cp866", 866},
    {"shift_jis", 932}, {"shift-jis", 932}, {"x-sjis", 932}, {"sjis", 932},
    {"windows-31j", 932}, {"cp932", 932}, {"iso-2022-jp", 50220}, {"csiso2022jp", 50221},
    {"euc-jp", 51932}, {"gb2312", 936}, {"gbk", 936}, {"cp936", 936}, {"gb18030", 54936},
    {"hz-gb-2312", 52936}, {"big5", 950}, {"big5-hkscs", 950}, {"ks_c_5601-1987", 949},
    {"euc-kr", 51949}, {"iso-2022-kr", 50225}, {"windows-949", 949},
};

int eas_mime_cpid(const char *charset)
{
    char buf[64], *d = buf;
    apr_size_t i;

    if (!charset)
        return 65001;
    for (; *charset && d < buf + sizeof(buf) - 1; charset++)
        if (!apr_isspace(*charset) && *charset != '"')
            *d++ = (char)apr_tolower(*charset);
    *d = '\0';
    for (i = 0; i < sizeof(cpids) / sizeof(cpids[0]); i++)
        if (!strcmp(buf, cpids[i].label))
            return cpids[i].cp;
    return 65001;
}

/* ---- HTML -> text ---------------------------------------------------- */

static const struct {
    const char *name;
    apr_uint32_t cp;
} entities[] = {
    {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}, {"nbsp", 0xA0},
    {"iexcl", 0xA1}, {"cent", 0xA2}, {"pound", 0xA3}, {"curren", 0xA4}, {"yen", 0xA5},
    {"brvbar", 0xA6}, {"sect", 0xA7}, {"uml", 0xA8}, {"copy", 0xA9}, {"ordf", 0xAA},
    {"laquo", 0xAB}, {"not", 0xAC}, {"shy", 0xAD}, {"reg", 0xAE}, {"macr", 0xAF},
    {"deg", 0xB0}, {"plusmn", 0xB1}, {"sup2", 0xB2}, {"sup3", 0xB3}, {"acute", 0xB4},
    {"micro", 0xB5}, {"para", 0xB6}, {"middot", 0xB7}, {"cedil", 0xB8}, {"sup1", 0xB9},
    {"ordm", 0xBA}, {"raquo", 0xBB}, {"frac14", 0xBC}, {"frac12", 0xBD}, {"frac34", 0xBE},
    {"iquest", 0xBF}, {"Agrave", 0xC0}, {"Aacute", 0xC1}, {"Acirc", 0xC2}, {"Atilde", 0xC3},
    {"Auml", 0xC4}, {"Aring", 0xC5}, {"AElig", 0xC6}, {"Ccedil", 0xC7}, {"Egrave", 0xC8},
    {"Eacute", 0xC9}, {"Ecirc", 0xCA}, {"Euml", 0xCB}, {"Igrave", 0xCC}, {"Iacute", 0xCD},
    {"Icirc", 0xCE}, {"Iuml", 0xCF}, {"ETH", 0xD0}, {"Ntilde", 0xD1}, {"Ograve", 0xD2},
    {"Oacute", 0xD3}, {"Ocirc", 0xD4}, {"Otilde", 0xD5}, {"Ouml", 0xD6}, {"times", 0xD7},
    {"Oslash", 0xD8}, {"Ugrave", 0xD9}, {"Uacute", 0xDA}, {"Ucirc", 0xDB}, {"Uuml", 0xDC},
    {"Yacute", 0xDD}, {"THORN", 0xDE}, {"szlig", 0xDF}, {"agrave", 0xE0}, {"aacute", 0xE1},
    {"acirc", 0xE2}, {"atilde", 0xE3}, {"auml", 0xE4}, {"aring", 0xE5}, {"aelig", 0xE6},
    {"ccedil", 0xE7}, {"egrave", 0xE8}, {"eacute", 0xE9}, {"ecirc", 0xEA}, {"euml", 0xEB},
    {"igrave", 0xEC}, {"iacute", 0xED}, {"icirc", 0xEE}, {"iuml", 0xEF}, {"eth", 0xF0},
    {"ntilde", 0xF1}, {"ograve", 0xF2}, {"oacute", 0xF3}, {"ocirc", 0xF4}, {"otilde", 0xF5},
    {"ouml", 0xF6}, {"divide", 0xF7}, {"oslash", 0xF8}, {"ugrave", 0xF9}, {"uacute", 0xFA},
    {"ucirc", 0xFB}, {"uuml", 0xFC}, {"yacute", 0xFD}, {"thorn", 0xFE}, {"yuml", 0xFF},
    {"OElig", 0x152}, {"oelig", 0x153}, {"Scaron", 0x160}, {"scaron", 0x161},
    {"Yuml", 0x178}, {"fnof", 0x192}, {"circ", 0x2C6}, {"tilde", 0x2DC},
    {"ensp", 0x2002}, {"emsp", 0x2003}, {"thinsp", 0x2009}, {"zwnj", 0x200C}, {"zwj", 0x200D},
    {"lrm", 0x200E}, {"rlm", 0x200F}, {"ndash", 0x2013}, {"mdash", 0x2014},
    {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"sbquo", 0x201A}, {"ldquo", 0x201C},
    {"rdquo", 0x201D}, {"bdquo", 0x201E}, {"dagger", 0x2020}, {"Dagger", 0x2021},
    {"bull", 0x2022}, {"hellip", 0x2026}, {"permil", 0x2030}, {"prime", 0x2032},
    {"lsaquo", 0x2039}, {"rsaquo", 0x203A}, {"euro", 0x20AC}, {"trade", 0x2122},
    {"larr", 0x2190}, {"uarr", 0x2191}, {"rarr", 0x2192}, {"darr", 0x2193},
    {"harr", 0x2194}, {"minus", 0x2212}, {"le", 0x2264}, {"ge", 0x2265}, {"ne", 0x2260},
    {"infin", 0x221E}, {"check", 0x2713}, {"hearts", 0x2665}, {"alpha", 0x3B1},
    {"beta", 0x3B2}, {"gamma", 0x3B3}, {"delta", 0x3B4}, {"pi", 0x3C0}, {"mu", 0x3BC},
    {"Omega", 0x3A9}, {"omega", 0x3C9}, {"sigma", 0x3C3}, {"Delta", 0x394},
};

/* HTML 5 reads &#128;..&#159; as windows-1252. */
static const apr_uint16_t c1_1252[32] = {
    0x20AC, 0x81, 0x201A, 0x192, 0x201E, 0x2026, 0x2020, 0x2021, 0x2C6, 0x2030, 0x160,
    0x2039, 0x152, 0x8D, 0x17D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x2DC, 0x2122, 0x161, 0x203A, 0x153, 0x9D, 0x17E, 0x178,
};

/* Reads an entity at s (s[0] == '&'); returns its length and the code
 * point, or 0 when it is not one. */
static apr_size_t entity(const char *s, apr_size_t len, apr_uint32_t *cp)
{
    apr_size_t i, n;
    apr_uint64_t v = 0;

    if (len < 3)
        return 0;
    if (s[1] == '#') {
        int hex = (s[2] == 'x' || s[2] == 'X');
        i = hex ? 3 : 2;
        n = i;
        for (; i < len && i < n + 8; i++) {
            if (hex && apr_isxdigit(s[i]))
                v = v * 16 + (apr_isdigit(s[i]) ? s[i] - '0' : (apr_tolower(s[i]) - 'a' + 10));
            else if (!hex && apr_isdigit(s[i]))
                v = v * 10 + (s[i] - '0');
            else
                break;
        }
        if (i == n)
            return 0;
        if (i < len && s[i] == ';')
            i++;
        if (v >= 128 && v < 160)
            v = c1_1252[v - 128];
        if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            v = 0xFFFD;
        *cp = (apr_uint32_t)v;
        return i;
    }
    for (i = 1; i < len && i < 12 && apr_isalnum(s[i]); i++)
        ;
    if (i == 1)
        return 0;
    for (n = 0; n < sizeof(entities) / sizeof(entities[0]); n++) {
        if (strlen(entities[n].name) == i - 1 && !strncmp(entities[n].name, s + 1, i - 1)) {
            /* Only the old entities work without ';' (as in browsers). */
            if (i < len && s[i] == ';')
                i++;
            else if (entities[n].cp > 0xFF)
                return 0;
            *cp = entities[n].cp;
            return i;
        }
    }
    return 0;
}

typedef struct {
    mime_buf_t b;
    int nl;                     /* line breaks owed before the next text (max 2) */
    int space;                  /* a space is owed */
    int pre;                    /* inside <pre> */
} h2t_t;

/* Line breaks already at the end of the output (0..2). */
static int h2t_trailing(const h2t_t *h)
{
    int t = 0;

    while (t < 2 && (apr_size_t)t < h->b.n && h->b.d[h->b.n - 1 - t] == '\n')
        t++;
    return t;
}

/* Writes what is owed before the next text: line breaks or one space. */
static void h2t_flush(h2t_t *h)
{
    if (h->nl) {
        int t = h2t_trailing(h);

        if (h->b.n && h->nl > t)
            mime_buf_add(&h->b, "\n\n", (apr_size_t)(h->nl - t));
        h->nl = 0;
        h->space = 0;
    } else if (h->space) {
        if (h->b.n && h->b.d[h->b.n - 1] != '\n')
            mime_buf_addc(&h->b, ' ');
        h->space = 0;
    }
}

static void h2t_break(h2t_t *h, int n)
{
    /* Strip spaces left at the end of the line. */
    while (h->b.n && h->b.d[h->b.n - 1] == ' ')
        h->b.n--;
    if (n > h->nl)
        h->nl = n;
    h->space = 0;
}

static void h2t_text(h2t_t *h, const char *s, apr_size_t len)
{
    apr_size_t i = 0, n;
    apr_uint32_t cp;

    while (i < len) {
        unsigned char c = (unsigned char)s[i];

        if (c == '&' && (n = entity(s + i, len - i, &cp)) != 0) {
            h2t_flush(h);
            mime_buf_add_cp(&h->b, cp == 0xA0 ? ' ' : cp);
            i += n;
        } else if (h->pre) {
            /* Inside <pre> white space and line breaks are written as they are. */
            if (c == '\n') {
                h->nl = 0;
                h->space = 0;
                mime_buf_addc(&h->b, '\n');
            } else if (c != '\r') {
                h2t_flush(h);
                mime_buf_addc(&h->b, (char)c);
            }
            i++;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f') {
            h->space = 1;
            i++;
        } else {
            h2t_flush(h);
            mime_buf_addc(&h->b, (char)c);
            i++;
        }
    }
}

/* Case-insensitive search for needle in s. */
static const char *find_ci(const char *s, apr_size_t len, const char *needle)
{
    apr_size_t n = strlen(needle), i;

    for (i = 0; i + n <= len; i++)
        if (!strncasecmp(s + i, needle, n))
            return s + i;
    return NULL;
}

/* Tag names and what they do to the text. */
enum { T_NONE, T_BR, T_LINE, T_PARA, T_LI, T_CELL, T_SKIP, T_PRE };

static int tag_kind(const char *name, apr_size_t n)
{
    static const char *const para[] = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table",
                                       "ul", "ol", "blockquote", "hr", "dl", NULL};
    static const char *const line[] = {"div", "tr", "dt", "dd", "section", "article",
                                       "header", "footer", "address", "center", "form",
                                       "fieldset", "nav", "aside", "figure", "caption",
                                       "body", "html", "tbody", "thead", "tfoot", NULL};
    static const char *const skip[] = {"script", "style", "head", "title", "template",
                                       "noscript", "xml", "object", "svg", NULL};
    int i;

#define IS(t) (strlen(t) == n && !strncasecmp(name, t, n))
    if (IS("br"))
        return T_BR;
    if (IS("li"))
        return T_LI;
    if (IS("td") || IS("th"))
        return T_CELL;
    if (IS("pre"))
        return T_PRE;
    for (i = 0; para[i]; i++)
        if (IS(para[i]))
            return T_PARA;
    for (i = 0; line[i]; i++)
        if (IS(line[i]))
            return T_LINE;
    for (i = 0; skip[i]; i++)
        if (IS(skip[i]))
            return T_SKIP;
#undef IS
    return T_NONE;
}

char *eas_mime_html_to_text(apr_pool_t *p, const char *html, apr_size_t len, apr_size_t *out_len)
{
    h2t_t h;
    apr_size_t i = 0, start;

    memset(&h, 0, sizeof(h));
    mime_buf_init(&h.b, p, len / 2 + 16);
    while (i < len) {
        const char *lt = memchr(html + i, '<', len - i);
        apr_size_t stop = lt ? (apr_size_t)(lt - html) : len;
        const char *name;
        apr_size_t nlen;
        int closing = 0, kind;
        char q = 0;

        h2t_text(&h, html + i, stop - i);
        if (!lt)
            break;
        i = stop;
        if (i + 4 <= len && !strncmp(html + i, "<!--", 4)) {
            const char *end = find_ci(html + i + 4, len - i - 4, "-->");
            i = end ? (apr_size_t)(end - html) + 3 : len;
            continue;
        }
        start = i + 1;
        if (start < len && (html[start] == '!' || html[start] == '?')) {
            const char *gt = memchr(html + start, '>', len - start);
            i = gt ? (apr_size_t)(gt - html) + 1 : len;
            continue;
        }
        if (start < len && html[start] == '/') {
            closing = 1;
            start++;
        }
        name = html + start;
        for (nlen = 0; start + nlen < len
             && (apr_isalnum(name[nlen]) || name[nlen] == ':' || name[nlen] == '-'); nlen++)
            ;
        if (nlen == 0 || !apr_isalpha(name[0])) {
            /* A lone '<' is text. */
            h2t_text(&h, "<", 1);
            i++;
            continue;
        }
        /* The end of the tag, quotes respected. */
        for (i = start + nlen; i < len; i++) {
            if (q) {
                if (html[i] == q)
                    q = 0;
            } else if (html[i] == '"' || html[i] == '\'') {
                q = html[i];
            } else if (html[i] == '>') {
                break;
            }
        }
        i = i < len ? i + 1 : len;
        kind = tag_kind(name, nlen);
        switch (kind) {
        case T_BR:
            h2t_break(&h, 0);
            if (h.b.n) {
                h2t_flush(&h);
                if (h2t_trailing(&h) < 2)
                    mime_buf_addc(&h.b, '\n');
            }
            break;
        case T_LINE:
            h2t_break(&h, 1);
            break;
        case T_PARA:
            h2t_break(&h, 2);
            break;
        case T_PRE:
            h2t_break(&h, 2);
            h.pre = !closing;
            break;
        case T_LI:
            h2t_break(&h, 1);
            if (!closing) {
                h2t_flush(&h);
                mime_buf_adds(&h.b, "- ");
            }
            break;
        case T_CELL:
            if (!closing)
                h.space = 1;
            break;
        case T_SKIP:
            if (!closing) {
                char endtag[16];
                const char *end;

                apr_snprintf(endtag, sizeof(endtag), "</%.*s", (int)nlen, name);
                end = find_ci(html + i, len - i, endtag);
                if (end) {
                    const char *gt = memchr(end, '>', len - (apr_size_t)(end - html));
                    i = gt ? (apr_size_t)(gt - html) + 1 : len;
                } else if (strncasecmp(name, "head", 4)) {
                    /* An unclosed script or style hides the rest; an
                     * unclosed head does not (some mailers never close it). */
                    i = len;
                }
            }
            break;
        default:
            break;
        }
    }
    /* No trailing white space or line breaks. */
    while (h.b.n && (h.b.d[h.b.n - 1] == ' ' || h.b.d[h.b.n - 1] == '\n'))
        h.b.n--;
    mime_buf_str(&h.b);
    return mime_crlf(p, h.b.d, h.b.n, out_len);
}

const char *mime_html_inner(apr_pool_t *p, const char *html, apr_size_t len, apr_size_t *out_len)
{
    const char *b = find_ci(html, len, "<body"), *gt, *e;

    if (!b || !(gt = memchr(b, '>', len - (apr_size_t)(b - html)))) {
        *out_len = len;
        return html;
    }
    gt++;
    e = find_ci(gt, len - (apr_size_t)(gt - html), "</body");
    *out_len = e ? (apr_size_t)(e - gt) : len - (apr_size_t)(gt - html);
    return apr_pstrmemdup(p, gt, *out_len);
}

const char *mime_html_escape(apr_pool_t *p, const char *s)
{
    mime_buf_t b;

    mime_buf_init(&b, p, strlen(s) + 16);
    for (; *s; s++) {
        switch (*s) {
        case '&': mime_buf_adds(&b, "&amp;"); break;
        case '<': mime_buf_adds(&b, "&lt;"); break;
        case '>': mime_buf_adds(&b, "&gt;"); break;
        case '"': mime_buf_adds(&b, "&quot;"); break;
        default: mime_buf_addc(&b, *s);
        }
    }
    return mime_buf_str(&b);
}

/* ---- text -> HTML ---------------------------------------------------- */

static void html_escape_n(mime_buf_t *b, const char *s, apr_size_t n)
{
    apr_size_t i;

    for (i = 0; i < n; i++) {
        switch (s[i]) {
        case '&': mime_buf_adds(b, "&amp;"); break;
        case '<': mime_buf_adds(b, "&lt;"); break;
        case '>': mime_buf_adds(b, "&gt;"); break;
        case '"': mime_buf_adds(b, "&quot;"); break;
        default: mime_buf_addc(b, s[i]);
        }
    }
}

/* Length of a URL starting at s (http://, https://, www.), 0 if none;
 * punctuation that ends a sentence is not part of it. */
static apr_size_t url_len(const char *s, apr_size_t len)
{
    apr_size_t n;

    if (!((len > 7 && !strncasecmp(s, "http://", 7)) || (len > 8 && !strncasecmp(s, "https://", 8))
          || (len > 4 && !strncasecmp(s, "www.", 4))))
        return 0;
    for (n = 0; n < len && (unsigned char)s[n] > ' ' && !strchr("<>\"", s[n]); n++)
        ;
    while (n && strchr(".,;:!?')]}", s[n - 1]))
        n--;
    return n > 8 ? n : 0;
}

char *eas_mime_text_to_html(apr_pool_t *p, const char *text, apr_size_t len, apr_size_t *out_len)
{
    mime_buf_t b;
    apr_size_t i = 0, n;
    int line_start = 1;

    mime_buf_init(&b, p, len + len / 4 + 256);
    mime_buf_adds(&b, "<html><head><meta http-equiv=\"Content-Type\" "
                      "content=\"text/html; charset=utf-8\"></head><body>");
    while (i < len) {
        char c = text[i];

        if ((line_start || !apr_isalnum(text[i - 1])) && (n = url_len(text + i, len - i))) {
            mime_buf_adds(&b, "<a href=\"");
            if (!strncasecmp(text + i, "www.", 4))
                mime_buf_adds(&b, "http://");
            html_escape_n(&b, text + i, n);
            mime_buf_adds(&b, "\">");
            html_escape_n(&b, text + i, n);
            mime_buf_adds(&b, "</a>");
            i += n;
            line_start = 0;
            continue;
        }
        if (c == '\r' || c == '\n') {
            mime_buf_adds(&b, "<br>\r\n");
            i += (c == '\r' && i + 1 < len && text[i + 1] == '\n') ? 2 : 1;
            line_start = 1;
            continue;
        }
        /* Indentation and runs of spaces survive HTML's white space folding. */
        if (c == ' ' && (line_start || text[i - 1] == ' '))
            mime_buf_adds(&b, "&nbsp;");
        else if (c == '\t')
            mime_buf_adds(&b, "&nbsp;&nbsp;&nbsp;&nbsp;");
        else
            html_escape_n(&b, &c, 1);
        line_start = 0;
        i++;
    }
    mime_buf_adds(&b, "</body></html>");
    if (out_len)
        *out_len = b.n;
    return mime_buf_str(&b);
}

/* ---- format=flowed (RFC 3676) ---------------------------------------- */

char *eas_mime_unflow(apr_pool_t *p, const char *text, apr_size_t len, int delsp,
                      apr_size_t *out_len)
{
    mime_buf_t b;
    apr_size_t i = 0;
    int prev_soft = 0, prev_depth = -1;

    mime_buf_init(&b, p, len + 16);
    while (i < len) {
        const char *line = text + i, *nl = memchr(line, '\n', len - i);
        apr_size_t ll = nl ? (apr_size_t)(nl - line) : len - i;
        int depth = 0, soft;

        i += ll + (nl ? 1 : 0);
        if (ll && line[ll - 1] == '\r')
            ll--;
        while (depth < (int)ll && line[depth] == '>')
            depth++;
        line += depth;
        ll -= depth;
        if (ll && line[0] == ' ') {
            line++;
            ll--;
        }
        soft = ll && line[ll - 1] == ' ' && !(ll == 3 && !strncmp(line, "-- ", 3));
        if (soft && delsp)
            ll--;
        if (!(prev_soft && depth == prev_depth)) {
            if (prev_depth >= 0)
                mime_buf_addc(&b, '\n');
            if (depth) {
                int k;
                for (k = 0; k < depth; k++)
                    mime_buf_addc(&b, '>');
                mime_buf_addc(&b, ' ');
            }
        }
        mime_buf_add(&b, line, ll);
        prev_soft = soft;
        prev_depth = depth;
    }
    mime_buf_str(&b);
    return mime_crlf(p, b.d, b.n, out_len);
}

/* ---- previews -------------------------------------------------------- */

char *eas_mime_preview(apr_pool_t *p, const char *text, apr_size_t len, int n)
{
    mime_buf_t b;
    apr_size_t i = 0, k;
    apr_uint32_t cp;
    int chars = 0, space = 0;

    mime_buf_init(&b, p, (apr_size_t)n * 4 + 8);
    while (i < len && chars < n) {
        unsigned char c = (unsigned char)text[i];

        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
            space = b.n > 0;
            i++;
            continue;
        }
        if (space) {
            /* A space only between two characters that both fit. */
            if (chars + 2 > n)
                break;
            mime_buf_addc(&b, ' ');
            space = 0;
            chars++;
        }
        k = eas_utf8_next((const unsigned char *)text + i, len - i, &cp);
        if (!k) {
            mime_buf_add_cp(&b, 0xFFFD);
            k = 1;
        } else {
            mime_buf_add(&b, text + i, k);
        }
        i += k;
        chars++;
    }
    return mime_buf_str(&b);
}
