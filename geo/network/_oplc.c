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
 *
 * Parts: this file (the module, threads and results), _oplc_lines.c (counting and parsing one
 * chunk of lines), _oplc_values.c (buffers, each key's distinct values, unescaping), _oplc.h.
 */
#include "_oplc.h"

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
    st->code = oplc_count(st);
    return NULL;
}

static void *
run_parse(void *arg)
{
    state_t *st = arg;
    st->code = oplc_parse_all(st);
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
            if (!oplc_merge_tags(&ch[0].tags[j], &ch[i].tags[j], ch[i].line_off)) {
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

static PyMethodDef methods[] = {
    {"parse", parse, METH_VARARGS,
     "parse(data, keys, threads=1) -> (osmid, counts, ref, lon, lat, tags, slow): libosmium's "
     "OPL way lines in one compiled pass (see geo/network/_oplc.c)."},
    {"unescape", oplc_unescape, METH_VARARGS,
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
