/* Shared by the parts of geo.network._oplc (see _oplc.c): types and the functions of
 * _oplc_lines.c (one chunk of OPL text) and _oplc_values.c (buffers, tag values, unescaping). */
#ifndef GEO_OPLC_H
#define GEO_OPLC_H

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

/* _oplc_values.c */
int oplc_grow(grow_t *g, const void *src, size_t n);
int oplc_add_tag(tag_t *t, int64_t line, const char *val, size_t len);
int oplc_merge_tags(tag_t *into, const tag_t *from, int64_t line_off);
PyObject *oplc_unescape(PyObject *self, PyObject *args);

/* _oplc_lines.c */
int oplc_count(state_t *st);
int oplc_parse_all(state_t *st);

#endif
