/* libosmium's OPL way lines in one compiled pass (geo.network._opl).
 *
 * parse(data, keys, threads=1) -> (osmid, counts, ref, lon, lat, tags, slow)
 *
 * ``data`` holds lines ``w<id> [<field> ...] T<tags> N<nodes>`` as libosmium writes them
 * (``opl,locations_on_ways=true``): fields separated by one space, the node list last, each
 * line ending with "\n" (the last one may omit it). ``<nodes>`` is ``n<id>x<lon>y<lat>``
 * items joined by ",", ``n<id>xy`` for a vertex without a location; ``<tags>`` is
 * ``key=value`` items joined by ",". libosmium escapes (``%<hex>%``) every character of a
 * key or value outside a fixed list of printable ones; space, ",", "=", "%", "@" and all
 * control characters (so "\n") are always escaped (io/detail/string_util.hpp,
 * append_utf8_encoded_string). A value therefore ends at the next ",", " " or "\n".
 *
 * Returns bytearrays of int64 way ids and vertices per way (one per line), of int64 node ids
 * and float64 lon/lat (one per vertex; 1e9 for both where the location is missing), and for
 * each key in ``keys`` (a tuple of bytes): the int64 line indices of the tags with exactly that
 * key, in order, the int64 code of each tag's value, the distinct raw (still escaped) values
 * in order of first appearance (code order) joined by "\n", and their number. ``slow`` counts
 * the coordinates that needed the general parser (see below).
 *
 * unescape(values) -> list[str]: values joined by "\n", each decoded from UTF-8 and with its
 * escapes undone (re.sub of "%<hex>%" by chr(int(hex, 16)), as geo.network._opl does).
 *
 * Coordinates of the form -?<digits>[.<digits>] with at most 15 digits, at most 7 of them
 * decimals (all libosmium writes) are D / 10^k: D and 10^k are exact doubles and IEEE division
 * rounds correctly, so this is the double nearest to the decimal, as float() gives. Any other
 * token of digits, signs, "." and "e"/"E" goes to PyOS_string_to_double (Python's own
 * correctly rounded parser); anything else is an error.
 *
 * Errors: ValueError("line N: ...") for text of another form, OverflowError for node ids of
 * 2**53 or more in absolute value (the first error in the text). Plain C on the buffer
 * protocol; the GIL is released for both passes over the text. With threads > 1 (at most 16)
 * the text is cut into that many chunks of whole lines, parsed in parallel threads (POSIX;
 * one after the other elsewhere) into their parts of the arrays; each chunk's distinct tag
 * values are then merged into the first chunk's, in order, so the result is the same.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <pthread.h>
#endif

#define MAX_KEYS 32
#define NO_LOCATION 1e9
#define ID_LIMIT (UINT64_C(1) << 53)
#define FAST_DIGITS 15
#define FAST_DECIMALS 7
#define MAX_THREADS 16

static const double POW10[FAST_DECIMALS + 1] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7};

enum { E_OK = 0, E_SYNTAX, E_BIG_ID, E_MEMORY };

typedef struct { /* a growable buffer */
    char *buf;
    size_t len, cap;
} grow_t;

typedef struct { /* a distinct value of one key: where it is in vals, and its hash */
    uint64_t hash;
    size_t off, len;
    int64_t code; /* -1: empty slot */
} slot_t;

typedef struct { /* one key's tags: line and value code of each, distinct values by code */
    grow_t lines, codes, vals;
    slot_t *slots;
    size_t cap, n_values;
} tag_t;

typedef struct { /* a coordinate left to PyOS_string_to_double */
    size_t off, len, dest; /* dest: 2 * vertex + (0 lon, 1 lat) */
} slow_t;

typedef struct {
    const char *s, *end;
    Py_ssize_t n_keys;
    const char *key[MAX_KEYS];
    size_t key_len[MAX_KEYS];
    /* out */
    int64_t *osmid, *counts, *ref;
    double *lon, *lat;
    Py_ssize_t n_lines, n_vert;
    tag_t tags[MAX_KEYS];
    grow_t slow;
    /* the pass's result; the line of its error, within this chunk of the text */
    int code;
    Py_ssize_t err_line, line_off;
    const char *err_what;
} state_t;

static int
grow(grow_t *g, const void *src, size_t n)
{
    if (n == 0)
        return 1;
    if (g->len + n > g->cap) {
        size_t cap = g->cap ? g->cap : 4096;
        while (cap < g->len + n)
            cap *= 2;
        char *b = realloc(g->buf, cap);
        if (b == NULL)
            return 0;
        g->buf = b;
        g->cap = cap;
    }
    memcpy(g->buf + g->len, src, n);
    g->len += n;
    return 1;
}

static int
fail(state_t *st, Py_ssize_t line, const char *what, int code)
{
    st->err_line = line + 1;
    st->err_what = what;
    return code;
}

/* Pass 1: lines and vertices. The node list is each line's last field, so it starts after the
 * line's last space; its items are one more than its commas. */
static int
count(state_t *st)
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
    return grow(&st->slow, &item, sizeof item);
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

static uint64_t
hash_bytes(const char *s, size_t n)
{
    uint64_t h = UINT64_C(14695981039346656037); /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * UINT64_C(1099511628211);
    return h;
}

static int
rehash(tag_t *t)
{
    size_t cap = t->cap ? 2 * t->cap : 64;
    slot_t *slots = malloc(cap * sizeof(slot_t));
    if (slots == NULL)
        return 0;
    for (size_t i = 0; i < cap; i++)
        slots[i].code = -1;
    for (size_t i = 0; i < t->cap; i++) {
        if (t->slots[i].code < 0)
            continue;
        size_t k = (size_t)t->slots[i].hash & (cap - 1);
        while (slots[k].code >= 0)
            k = (k + 1) & (cap - 1);
        slots[k] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 1;
}

/* The code of a value (a new value is appended to the distinct values, joined by "\n", which
 * OPL escapes inside values); -1 when out of memory. */
static int64_t
value_code(tag_t *t, const char *val, size_t len)
{
    if (2 * (t->n_values + 1) > t->cap && !rehash(t))
        return -1;
    uint64_t h = hash_bytes(val, len);
    size_t k = (size_t)h & (t->cap - 1);
    while (t->slots[k].code >= 0) {
        slot_t *s = &t->slots[k];
        if (s->hash == h && s->len == len &&
            (len == 0 || memcmp(t->vals.buf + s->off, val, len) == 0))
            break;
        k = (k + 1) & (t->cap - 1);
    }
    slot_t *s = &t->slots[k];
    if (s->code < 0) {
        if (t->n_values && !grow(&t->vals, "\n", 1))
            return -1;
        *s = (slot_t){h, t->vals.len, len, (int64_t)t->n_values++};
        if (!grow(&t->vals, val, len))
            return -1;
    }
    return s->code;
}

/* One tag of a key: its line and the code of its value. */
static int
add_tag(tag_t *t, int64_t line, const char *val, size_t len)
{
    int64_t code = value_code(t, val, len);
    return code >= 0 && grow(&t->lines, &line, sizeof line) && grow(&t->codes, &code, sizeof code);
}

/* The tags of a later chunk of the text appended to those of the earlier ones: its distinct
 * values (in code order) get the codes they have there, or new ones after them. */
static int
merge_tags(tag_t *into, const tag_t *from, int64_t line_off)
{
    int64_t *map = malloc((from->n_values ? from->n_values : 1) * sizeof(int64_t));
    int ok = map != NULL;
    const char *p = from->vals.buf ? from->vals.buf : "", *end = p + from->vals.len;
    for (size_t i = 0; ok && i < from->n_values; i++) {
        const char *e = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
        e = e ? e : end;
        map[i] = value_code(into, p, (size_t)(e - p));
        ok = map[i] >= 0;
        p = e + 1;
    }
    const int64_t *lines = (const int64_t *)from->lines.buf, *codes = (const int64_t *)from->codes.buf;
    for (size_t i = 0; ok && i < from->lines.len / sizeof(int64_t); i++) {
        int64_t line = lines[i] + line_off;
        ok = grow(&into->lines, &line, sizeof line) && grow(&into->codes, &map[codes[i]], 8);
    }
    free(map);
    return ok;
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
                if (!add_tag(&st->tags[j], (int64_t)line, val, (size_t)(p - val))) {
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
static int
parse_all(state_t *st)
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

/* The slow coordinates, with the GIL held. */
static int
finish_slow(state_t *st)
{
    slow_t *items = (slow_t *)st->slow.buf;
    size_t n = st->slow.len / sizeof(slow_t);
    for (size_t i = 0; i < n; i++) {
        char buf[64];
        if (items[i].len >= sizeof buf) {
            PyErr_SetString(PyExc_ValueError, "coordinate of more than 63 characters");
            return 0;
        }
        memcpy(buf, st->s + items[i].off, items[i].len);
        buf[items[i].len] = '\0';
        char *stop;
        double x = PyOS_string_to_double(buf, &stop, NULL);
        if (x == -1.0 && PyErr_Occurred())
            return 0;
        if (*stop != '\0') {
            PyErr_Format(PyExc_ValueError, "coordinate %s is not a number", buf);
            return 0;
        }
        size_t d = items[i].dest;
        (d % 2 ? st->lat : st->lon)[d / 2] = x;
    }
    return 1;
}

static PyObject *
new_array(Py_ssize_t n, void **data)
{
    PyObject *a = PyByteArray_FromStringAndSize(NULL, n * 8);
    if (a != NULL)
        *data = PyByteArray_AS_STRING(a);
    return a;
}

static PyObject *
tag_results(state_t *st)
{
    PyObject *out = PyTuple_New(st->n_keys);
    for (Py_ssize_t j = 0; out != NULL && j < st->n_keys; j++) {
        tag_t *t = &st->tags[j];
        PyObject *pair = Py_BuildValue(
            "(y#y#y#n)", t->lines.buf ? t->lines.buf : "", (Py_ssize_t)t->lines.len,
            t->codes.buf ? t->codes.buf : "", (Py_ssize_t)t->codes.len,
            t->vals.buf ? t->vals.buf : "", (Py_ssize_t)t->vals.len, (Py_ssize_t)t->n_values);
        if (pair == NULL)
            Py_CLEAR(out);
        else
            PyTuple_SET_ITEM(out, j, pair);
    }
    return out;
}

/* The error of the first chunk that has one, if any, as a Python exception. */
static int
set_error(state_t *ch, int n)
{
    for (int i = 0; i < n; i++) {
        state_t *st = &ch[i];
        Py_ssize_t line = st->err_line + st->line_off;
        if (st->code == E_MEMORY)
            PyErr_NoMemory();
        else if (st->code == E_BIG_ID)
            PyErr_Format(PyExc_OverflowError, "line %zd: %s", line, st->err_what);
        else if (st->code != E_OK)
            PyErr_Format(PyExc_ValueError, "line %zd: %s", line, st->err_what);
        if (st->code != E_OK)
            return 0;
    }
    return 1;
}

static void *
run_count(void *arg)
{
    state_t *st = arg;
    st->code = count(st);
    return NULL;
}

static void *
run_parse(void *arg)
{
    state_t *st = arg;
    st->code = parse_all(st);
    return NULL;
}

/* fn on every chunk, each in its own thread (the first in this one). */
static void
run_chunks(state_t *ch, int n, void *(*fn)(void *))
{
#ifndef _WIN32
    pthread_t tid[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    for (int i = 1; i < n; i++)
        started[i] = pthread_create(&tid[i], NULL, fn, &ch[i]) == 0;
    fn(&ch[0]);
    for (int i = 1; i < n; i++) {
        if (started[i])
            pthread_join(tid[i], NULL);
        else
            fn(&ch[i]);
    }
#else
    for (int i = 0; i < n; i++)
        fn(&ch[i]);
#endif
}

/* n chunks of whole lines, about equally long (some may be empty). */
static void
split_chunks(state_t *ch, int n, const char *s, Py_ssize_t len)
{
    const char *at = s;
    for (int i = 0; i < n; i++) {
        const char *end = s + len;
        if (i + 1 < n) {
            const char *q = s + len / n * (i + 1);
            q = q > at ? q : at;
            const char *nl = q > s ? memchr(q - 1, '\n', (size_t)(s + len - (q - 1))) : q - 1;
            end = q == s ? s : (nl ? nl + 1 : s + len);
        }
        ch[i].s = at;
        ch[i].end = end;
        at = end;
    }
}

/* The chunks' arrays are parts of the whole arrays; line and vertex offsets from pass 1. */
static void
place_chunks(state_t *ch, int n, void **ptr)
{
    Py_ssize_t lines = 0, verts = 0;
    for (int i = 0; i < n; i++) {
        ch[i].line_off = lines;
        ch[i].osmid = (int64_t *)ptr[0] + lines;
        ch[i].counts = (int64_t *)ptr[1] + lines;
        ch[i].ref = (int64_t *)ptr[2] + verts;
        ch[i].lon = (double *)ptr[3] + verts;
        ch[i].lat = (double *)ptr[4] + verts;
        lines += ch[i].n_lines;
        verts += ch[i].n_vert;
    }
}

static int
merge_chunks(state_t *ch, int n)
{
    for (int i = 1; i < n; i++)
        for (Py_ssize_t j = 0; j < ch[0].n_keys; j++)
            if (!merge_tags(&ch[0].tags[j], &ch[i].tags[j], ch[i].line_off)) {
                ch[0].code = E_MEMORY;
                return 0;
            }
    return 1;
}

static void
free_chunks(state_t *ch, int n)
{
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < MAX_KEYS; j++) {
            free(ch[i].tags[j].lines.buf);
            free(ch[i].tags[j].codes.buf);
            free(ch[i].tags[j].vals.buf);
            free(ch[i].tags[j].slots);
        }
        free(ch[i].slow.buf);
    }
    free(ch);
}

static int
read_keys(state_t *st, PyObject *keys)
{
    if (!PyTuple_Check(keys) || PyTuple_GET_SIZE(keys) > MAX_KEYS) {
        PyErr_Format(PyExc_TypeError, "parse(): keys must be a tuple of at most %d bytes",
                     MAX_KEYS);
        return 0;
    }
    st->n_keys = PyTuple_GET_SIZE(keys);
    for (Py_ssize_t j = 0; j < st->n_keys; j++) {
        PyObject *k = PyTuple_GET_ITEM(keys, j);
        if (!PyBytes_Check(k)) {
            PyErr_SetString(PyExc_TypeError, "parse(): keys must be bytes");
            return 0;
        }
        st->key[j] = PyBytes_AS_STRING(k);
        st->key_len[j] = (size_t)PyBytes_GET_SIZE(k);
    }
    return 1;
}

static PyObject *
results(state_t *ch, int n, PyObject **arr)
{
    Py_ssize_t slow = 0;
    for (int i = 0; i < n; i++) {
        if (!finish_slow(&ch[i]))
            return NULL;
        slow += (Py_ssize_t)(ch[i].slow.len / sizeof(slow_t));
    }
    PyObject *tags = tag_results(&ch[0]);
    if (tags == NULL)
        return NULL;
    return Py_BuildValue("(OOOOONn)", arr[0], arr[1], arr[2], arr[3], arr[4], tags, slow);
}

static PyObject *
parse(PyObject *self, PyObject *args)
{
    (void)self;
    Py_buffer data;
    PyObject *keys, *res = NULL, *arr[5] = {NULL, NULL, NULL, NULL, NULL};
    int n = 1;
    if (!PyArg_ParseTuple(args, "y*O|i", &data, &keys, &n))
        return NULL;
    n = n < 1 ? 1 : (n > MAX_THREADS ? MAX_THREADS : n);
    state_t *ch = calloc((size_t)n, sizeof(state_t));
    if (ch == NULL) {
        PyBuffer_Release(&data);
        return PyErr_NoMemory();
    }
    if (read_keys(&ch[0], keys)) {
        for (int i = 1; i < n; i++)
            memcpy(&ch[i], &ch[0], sizeof(state_t));
        split_chunks(ch, n, data.buf, data.len);
        Py_BEGIN_ALLOW_THREADS
        run_chunks(ch, n, run_count);
        Py_END_ALLOW_THREADS
        Py_ssize_t lines = 0, verts = 0;
        for (int i = 0; i < n; i++) {
            ch[i].line_off = lines;
            lines += ch[i].n_lines;
            verts += ch[i].n_vert;
        }
        if (set_error(ch, n)) {
            void *ptr[5];
            int ok = 1;
            for (int i = 0; i < 5; i++) {
                arr[i] = new_array(i < 2 ? lines : verts, &ptr[i]);
                ok = ok && arr[i] != NULL;
            }
            if (ok) {
                place_chunks(ch, n, ptr);
                Py_BEGIN_ALLOW_THREADS
                run_chunks(ch, n, run_parse);
                int failed = 0;
                for (int i = 0; i < n; i++)
                    failed = failed || ch[i].code != E_OK;
                if (!failed)
                    merge_chunks(ch, n);
                Py_END_ALLOW_THREADS
                if (set_error(ch, n))
                    res = results(ch, n, arr);
            }
        }
    }
    for (int i = 0; i < 5; i++)
        Py_XDECREF(arr[i]);
    free_chunks(ch, n);
    PyBuffer_Release(&data);
    return res;
}

static int
hex_value(Py_UCS4 c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return (int)(c - 'A' + 10);
    return -1;
}

/* One value: UTF-8, then every "%<hex digits>%" replaced by that code point, left to right,
 * as re.sub("%([0-9a-fA-F]+)%", chr(int(hex, 16)), text) does. */
static PyObject *
unescape_one(const char *s, Py_ssize_t n)
{
    PyObject *text = PyUnicode_DecodeUTF8(s, n, "strict");
    if (text == NULL || memchr(s, '%', (size_t)n) == NULL)
        return text;
    Py_ssize_t len = PyUnicode_GET_LENGTH(text), o = 0;
    Py_UCS4 *u = PyUnicode_AsUCS4Copy(text);
    Py_DECREF(text);
    if (u == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < len;) {
        if (u[i] == '%') {
            Py_ssize_t j = i + 1;
            uint32_t v = 0;
            int big = 0;
            for (int h; j < len && (h = hex_value(u[j])) >= 0; j++) {
                big = big || v > 0x10ffff;
                v = big ? v : v * 16 + (uint32_t)h;
            }
            if (j > i + 1 && j < len && u[j] == '%') {
                if (big || v > 0x10ffff) {
                    PyMem_Free(u);
                    PyErr_SetString(PyExc_ValueError, "escape beyond U+10FFFF");
                    return NULL;
                }
                u[o++] = v;
                i = j + 1;
                continue;
            }
        }
        u[o++] = u[i++];
    }
    text = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, u, o);
    PyMem_Free(u);
    return text;
}

static PyObject *
unescape(PyObject *self, PyObject *args)
{
    (void)self;
    Py_buffer data;
    if (!PyArg_ParseTuple(args, "y*", &data))
        return NULL;
    PyObject *out = PyList_New(0);
    const char *p = data.buf, *end = p + data.len;
    while (out != NULL) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        PyObject *item = unescape_one(p, (e ? e : end) - p);
        if (item == NULL || PyList_Append(out, item) < 0)
            Py_CLEAR(out);
        Py_XDECREF(item);
        if (e == NULL)
            break;
        p = e + 1;
    }
    PyBuffer_Release(&data);
    return out;
}

static PyMethodDef methods[] = {
    {"parse", parse, METH_VARARGS,
     "parse(data, keys, threads=1) -> (osmid, counts, ref, lon, lat, tags, slow): libosmium's "
     "OPL way lines in one compiled pass (see geo/network/_oplc.c)."},
    {"unescape", unescape, METH_VARARGS,
     "unescape(values) -> list[str]: OPL values joined by \"\\n\", each decoded and "
     "unescaped."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_oplc",
                                    "Compiled parser of libosmium's OPL way lines.", -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC
PyInit__oplc(void)
{
    return PyModule_Create(&module);
}
