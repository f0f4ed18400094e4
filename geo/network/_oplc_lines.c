/* geo.network._oplc: one chunk of OPL way lines, counted (pass 1) and parsed (pass 2). */
#include "_oplc.h"

static const double POW10[FAST_DECIMALS + 1] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7};

static int
fail(state_t *st, Py_ssize_t line, const char *what, int code)
{
    st->err_line = line + 1;
    st->err_what = what;
    return code;
}

/* Pass 1: lines and vertices. The node list is each line's last field, so it starts after the
 * line's last space; its items are one more than its commas. */
int
oplc_count(state_t *st)
{
    const char *p = st->s, *end = st->end;
    Py_ssize_t lines = 0, verts = 0;
    while (p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (e == NULL)
            e = end;
        const char *q = e;
        Py_ssize_t commas = 0;
        while (q > p && q[-1] != ' ') {
            q--;
            commas += *q == ',';
        }
        if (q == p || q == e || *q != 'N') /* q == e: the line ends with a space */
            return fail(st, lines, "no node list (N) at the end of the line", E_SYNTAX);
        verts += q + 1 < e ? commas + 1 : 0;
        lines++;
        p = e + 1;
    }
    st->n_lines = lines;
    st->n_vert = verts;
    return E_OK;
}

/* An integer of at most 19 digits that fits int64; NULL if there is none at p. */
static const char *
parse_int(const char *p, const char *end, int64_t *out)
{
    int neg = p < end && *p == '-';
    p += neg;
    const char *d0 = p;
    uint64_t v = 0, limit = neg ? (UINT64_C(1) << 63) : (UINT64_C(1) << 63) - 1;
    while (p < end && *p >= '0' && *p <= '9') {
        unsigned digit = (unsigned)(*p - '0');
        if (v > (limit - digit) / 10)
            return NULL;
        v = v * 10 + digit;
        p++;
    }
    if (p == d0)
        return NULL;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return p;
}

static int
is_number_char(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* The coordinate from p up to the first of stop, ',', ' ', '\n' or end: 1 when parsed (or left
 * to the slow parser with *slow set), 0 when empty, -1 when malformed. *next: where it ends. */
static int
parse_coord(const char *p, const char *end, char stop, double *out, int *slow,
            const char **next)
{
    const char *t = p;
    int neg = p < end && *p == '-';
    p += neg;
    uint64_t d = 0;
    int n_int = 0, n_dec = 0, dot = 0;
    while (p < end && *p >= '0' && *p <= '9' && n_int <= FAST_DIGITS) {
        d = d * 10 + (uint64_t)(*p++ - '0');
        n_int++;
    }
    if (p < end && *p == '.') {
        dot = 1;
        p++;
        while (p < end && *p >= '0' && *p <= '9' && n_int + n_dec <= FAST_DIGITS) {
            d = d * 10 + (uint64_t)(*p++ - '0');
            n_dec++;
        }
    }
    int at_stop = p == end || *p == stop || *p == ',' || *p == ' ' || *p == '\n';
    if (at_stop && n_int > 0 && (!dot || n_dec > 0) && n_int + n_dec <= FAST_DIGITS &&
        n_dec <= FAST_DECIMALS) {
        double v = (double)d / POW10[n_dec];
        *out = neg ? -v : v;
        *slow = 0;
        *next = p;
        return 1;
    }
    p = t;
    while (p < end && *p != stop && *p != ',' && *p != ' ' && *p != '\n') {
        if (!is_number_char(*p))
            return -1;
        p++;
    }
    *next = p;
    *slow = 1;
    return p > t ? 1 : 0;
}

static int
slow_coord(state_t *st, const char *t, const char *e, Py_ssize_t v, int which)
{
    slow_t item = {(size_t)(t - st->s), (size_t)(e - t), (size_t)(2 * v + which)};
    return oplc_grow(&st->slow, &item, sizeof item);
}

/* The node list of one line, from p (just after 'N'); returns where it ends (at "\n" or the
 * end of the text) or NULL with the error set. */
static const char *
parse_nodes(state_t *st, const char *p, Py_ssize_t line, Py_ssize_t *v, int *code)
{
    const char *end = st->end;
    Py_ssize_t start = *v;
    while (p < end && *p != '\n') {
        if (*v >= st->n_vert || *p != 'n') {
            *code = fail(st, line, "a node list item does not start with n", E_SYNTAX);
            return NULL;
        }
        int64_t id;
        p = parse_int(p + 1, end, &id);
        if (p == NULL || p == end || *p != 'x') {
            *code = fail(st, line, "bad node id", E_SYNTAX);
            return NULL;
        }
        if ((id < 0 ? (uint64_t)0 - (uint64_t)id : (uint64_t)id) >= ID_LIMIT) {
            *code = fail(st, line, "node id beyond 2**53", E_BIG_ID);
            return NULL;
        }
        const char *t0 = p + 1, *t1, *e1;
        double x = NO_LOCATION, y = NO_LOCATION;
        int slow_x, slow_y;
        int got_x = parse_coord(t0, end, 'y', &x, &slow_x, &t1);
        if (got_x < 0 || t1 == end || *t1 != 'y') {
            *code = fail(st, line, "bad longitude", E_SYNTAX);
            return NULL;
        }
        int got_y = parse_coord(t1 + 1, end, ',', &y, &slow_y, &e1);
        if (got_y < 0 || got_x != got_y) {
            *code = fail(st, line, "bad latitude", E_SYNTAX);
            return NULL;
        }
        if ((got_x && slow_x && !slow_coord(st, t0, t1, *v, 0)) ||
            (got_y && slow_y && !slow_coord(st, t1 + 1, e1, *v, 1))) {
            *code = E_MEMORY;
            return NULL;
        }
        st->ref[*v] = id;
        st->lon[*v] = x;
        st->lat[*v] = y;
        (*v)++;
        p = e1;
        if (p < end && *p == ',' && p + 1 < end && p[1] != '\n' && p[1] != ' ')
            p++;
        else if (p < end && *p != '\n') {
            *code = fail(st, line, "text after the node list", E_SYNTAX);
            return NULL;
        }
    }
    st->counts[line] = *v - start;
    return p;
}

/* The tags of one line, from p (just after 'T'); returns where they end, or NULL. */
static const char *
parse_tags(state_t *st, const char *p, Py_ssize_t line, int *code)
{
    const char *end = st->end;
    while (p < end && *p != ' ' && *p != '\n') {
        const char *k = p;
        while (p < end && *p != '=' && *p != ',' && *p != ' ' && *p != '\n')
            p++;
        if (p < end && *p == '=') {
            size_t klen = (size_t)(p - k);
            const char *val = ++p;
            while (p < end && *p != ',' && *p != ' ' && *p != '\n')
                p++;
            for (Py_ssize_t j = 0; j < st->n_keys; j++) {
                if (st->key_len[j] != klen || memcmp(st->key[j], k, klen) != 0)
                    continue;
                if (!oplc_add_tag(&st->tags[j], (int64_t)line, val, (size_t)(p - val))) {
                    *code = E_MEMORY;
                    return NULL;
                }
            }
        }
        if (p < end && *p == ',')
            p++;
    }
    return p;
}

/* Pass 2: everything, into the arrays sized by pass 1. */
int
oplc_parse_all(state_t *st)
{
    const char *p = st->s, *end = st->end;
    Py_ssize_t v = 0;
    int code = E_OK;
    for (Py_ssize_t line = 0; p < end; line++) {
        if (line >= st->n_lines || *p != 'w')
            return fail(st, line, "not a way line", E_SYNTAX);
        p = parse_int(p + 1, end, &st->osmid[line]);
        if (p == NULL || p == end || *p != ' ')
            return fail(st, line, "bad way id", E_SYNTAX);
        int nodes = 0;
        while (!nodes && p < end && *p == ' ') {
            char field = p + 1 < end ? p[1] : '\n';
            if (field == '\n' || field == ' ')
                return fail(st, line, "empty field", E_SYNTAX);
            p += 2;
            if (field == 'N') {
                p = parse_nodes(st, p, line, &v, &code);
                nodes = 1;
            } else if (field == 'T')
                p = parse_tags(st, p, line, &code);
            else
                while (p < end && *p != ' ' && *p != '\n')
                    p++;
            if (p == NULL)
                return code;
        }
        if (!nodes)
            return fail(st, line, "no node list (N) at the end of the line", E_SYNTAX);
        if (p < end)
            p++; /* the "\n" */
    }
    if (v != st->n_vert)
        return fail(st, st->n_lines - 1, "vertex count", E_SYNTAX);
    return E_OK;
}
