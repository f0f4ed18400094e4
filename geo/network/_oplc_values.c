/* geo.network._oplc: growable buffers, each key's distinct tag values, and unescaping. */
#include "_oplc.h"

int
oplc_grow(grow_t *g, const void *src, size_t n)
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
        if (t->n_values && !oplc_grow(&t->vals, "\n", 1))
            return -1;
        *s = (slot_t){h, t->vals.len, len, (int64_t)t->n_values++};
        if (!oplc_grow(&t->vals, val, len))
            return -1;
    }
    return s->code;
}

/* One tag of a key: its line and the code of its value. */
int
oplc_add_tag(tag_t *t, int64_t line, const char *val, size_t len)
{
    int64_t code = value_code(t, val, len);
    return code >= 0 && oplc_grow(&t->lines, &line, sizeof line) &&
           oplc_grow(&t->codes, &code, sizeof code);
}

/* The tags of a later chunk of the text appended to those of the earlier ones: its distinct
 * values (in code order) get the codes they have there, or new ones after them. */
int
oplc_merge_tags(tag_t *into, const tag_t *from, int64_t line_off)
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
    const int64_t *lines = (const int64_t *)from->lines.buf;
    const int64_t *codes = (const int64_t *)from->codes.buf;
    for (size_t i = 0; ok && i < from->lines.len / sizeof(int64_t); i++) {
        int64_t line = lines[i] + line_off;
        ok = oplc_grow(&into->lines, &line, sizeof line) &&
             oplc_grow(&into->codes, &map[codes[i]], sizeof(int64_t));
    }
    free(map);
    return ok;
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

PyObject *
oplc_unescape(PyObject *self, PyObject *args)
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
