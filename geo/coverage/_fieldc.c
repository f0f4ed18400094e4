/* The distance field of grid isochrones in one compiled pass (geo.coverage._grid).
 *
 * field(cx, cy, ids, ax, ay, dx, dy, il2, out, x0, y0, w, h, cell, ox, oy, cap)
 *
 * A grid of h rows and w columns of ``cell`` metre cells; grid node (i, j) lies at the
 * centre of cell (column j, row i): ((j + 0.5) cell + ox, (i + 0.5) cell + oy) in the frame of
 * the feature coordinates. Feature k (k < len(ids)) lies in cell (cx[k] - x0, cy[k] - y0) and
 * is the straight segment ids[k] of the global float32 columns: start (ax, ay), vector
 * (dx, dy), il2 = 1 / its squared length (0 for a point).
 *
 * out[i * w + j] (float64) = the distance from node (i, j) to the nearest of the segments of
 * the features in its nearest feature cell (Euclidean distance between cells: an exact
 * feature transform, Felzenszwalb & Huttenlocher's lower envelope of parabolas, one pass over
 * columns and one over rows). This is what scipy.ndimage's feature transform followed by one
 * segment per cell gives (geo.coverage._grid's NumPy path), except that every feature of
 * the cell counts, not one of them.
 *
 * Nodes whose nearest feature cell lies more than cap / cell + 2 cells away are far from
 * every segment: each cell a segment (or an access leg, sampled every half cell) passes
 * through holds a feature of it, so the nearest segment is at least (D - 2) cell away (D: the
 * distance in cells, coarse grids included). They get that lower bound, which is above cap,
 * instead of the distance: with cap >= width + 2 cell no node next to the contour at
 * ``width`` is one of them, so the contour is the same.
 *
 * Plain C on the buffer protocol (no NumPy headers); the GIL is released while it runs.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define FAR INT32_MAX

typedef struct {
    float ax, ay, dx, dy, il2;
} seg_t;

static int
run(const int64_t *cx, const int64_t *cy, const int64_t *ids, Py_ssize_t n, const float *ax,
    const float *ay, const float *dx, const float *dy, const float *il2, double *out,
    int64_t x0, int64_t y0, Py_ssize_t w, Py_ssize_t h, double cell, double ox, double oy,
    double cap)
{
    double far2 = cap / cell + 2.0;
    far2 = far2 * far2;
    Py_ssize_t size = w * h;
    int32_t *start = calloc((size_t)size + 1, sizeof(int32_t));
    int32_t *feat = malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
    seg_t *segs = malloc((size_t)(n > 0 ? n : 1) * sizeof(seg_t)); /* by cell, packed */
    int32_t *row = malloc((size_t)size * sizeof(int32_t));  /* nearest feature row in column */
    int64_t *g2 = malloc((size_t)size * sizeof(int64_t));    /* its squared distance (rows) */
    Py_ssize_t m = w > h ? w : h;
    int32_t *v = malloc((size_t)m * sizeof(int32_t));
    int32_t *last = malloc((size_t)w * sizeof(int32_t));
    double *z = malloc(((size_t)m + 1) * sizeof(double));
    int ok = start && feat && segs && row && g2 && v && z && last;
    if (ok) {
        /* features per cell (counting sort) */
        for (Py_ssize_t k = 0; k < n; k++)
            start[(cy[k] - y0) * w + (cx[k] - x0) + 1]++;
        for (Py_ssize_t c = 0; c < size; c++)
            start[c + 1] += start[c];
        for (Py_ssize_t k = 0; k < n; k++) {
            Py_ssize_t c = (cy[k] - y0) * w + (cx[k] - x0);
            feat[start[c]++] = (int32_t)k;
        }
        for (Py_ssize_t c = size; c > 0; c--)
            start[c] = start[c - 1];
        start[0] = 0;
        for (Py_ssize_t a = 0; a < n; a++) {
            int64_t q = ids[feat[a]];
            segs[a] = (seg_t){ax[q], ay[q], dx[q], dy[q], il2[q]};
        }
        /* columns: nearest occupied row above or below (row by row, all columns at once) */
        for (Py_ssize_t j = 0; j < w; j++)
            last[j] = FAR;
        for (Py_ssize_t i = 0; i < h; i++) {
            for (Py_ssize_t j = 0; j < w; j++) {
                Py_ssize_t c = i * w + j;
                if (start[c + 1] > start[c])
                    last[j] = (int32_t)i;
                row[c] = last[j];
            }
        }
        for (Py_ssize_t j = 0; j < w; j++)
            last[j] = FAR;
        for (Py_ssize_t i = h - 1; i >= 0; i--) {
            for (Py_ssize_t j = 0; j < w; j++) {
                Py_ssize_t c = i * w + j;
                if (start[c + 1] > start[c])
                    last[j] = (int32_t)i;
                int32_t r = row[c];
                if (last[j] != FAR && (r == FAR || last[j] - i < i - r))
                    r = row[c] = last[j];
                g2[c] = r == FAR ? -1 : (int64_t)(r - i) * (r - i);
            }
        }
        /* rows: lower envelope of the parabolas (x - q)^2 + g2[q] over columns q */
        for (Py_ssize_t i = 0; i < h; i++) {
            const int64_t *f = g2 + i * w;
            Py_ssize_t k = -1;
            for (Py_ssize_t q = 0; q < w; q++) {
                if (f[q] < 0)
                    continue;
                double s = -HUGE_VAL;
                while (k >= 0) {
                    Py_ssize_t p = v[k];
                    s = ((double)(f[q] + (int64_t)q * q) - (double)(f[p] + (int64_t)p * p)) /
                        (2.0 * (double)(q - p));
                    if (s > z[k])
                        break;
                    k--;
                }
                k++;
                v[k] = (int32_t)q;
                z[k] = k == 0 ? -HUGE_VAL : s;
                z[k + 1] = HUGE_VAL;
            }
            double py = (i + 0.5) * cell + oy;
            Py_ssize_t e = 0;
            for (Py_ssize_t j = 0; j < w; j++) {
                double best = HUGE_VAL;
                if (k >= 0) {
                    while (z[e + 1] < (double)j)
                        e++;
                    Py_ssize_t q = v[e];
                    int64_t d2 = (int64_t)(j - q) * (j - q) + g2[i * w + q];
                    if ((double)d2 > far2) { /* no segment within cap: a lower bound */
                        double lb = (sqrt((double)d2) - 2.0) * cell;
                        out[i * w + j] = lb;
                        continue;
                    }
                    Py_ssize_t c = (Py_ssize_t)row[i * w + q] * w + q;
                    double px = (j + 0.5) * cell + ox;
                    for (int32_t a = start[c]; a < start[c + 1]; a++) {
                        const seg_t *sg = segs + a;
                        double rx = px - sg->ax, ry = py - sg->ay;
                        double t = (rx * sg->dx + ry * sg->dy) * sg->il2;
                        t = fmin(fmax(t, 0.0), 1.0);
                        rx -= t * sg->dx;
                        ry -= t * sg->dy;
                        double d2 = rx * rx + ry * ry;
                        best = fmin(best, d2);
                    }
                }
                out[i * w + j] = sqrt(best);
            }
        }
    }
    free(start);
    free(feat);
    free(segs);
    free(row);
    free(g2);
    free(v);
    free(last);
    free(z);
    return ok;
}

static int
need(Py_buffer *b, Py_ssize_t count, Py_ssize_t item, const char *name)
{
    if (b->len != count * item) {
        PyErr_Format(PyExc_ValueError, "field(): %s must hold %zd items of %zd bytes (got %zd bytes)",
                     name, count, item, b->len);
        return 0;
    }
    return 1;
}

static PyObject *
field(PyObject *self, PyObject *args)
{
    (void)self;
    Py_buffer b[9];
    static const char *names[9] = {"cx", "cy", "ids", "ax", "ay", "dx", "dy", "il2", "out"};
    long long x0, y0;
    Py_ssize_t w, h;
    double cell, ox, oy, cap;
    for (int i = 0; i < 9; i++)
        b[i].obj = NULL;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*y*w*LLnndddd", &b[0], &b[1], &b[2], &b[3], &b[4],
                          &b[5], &b[6], &b[7], &b[8], &x0, &y0, &w, &h, &cell, &ox, &oy,
                          &cap))
        return NULL;
    PyObject *res = NULL;
    Py_ssize_t n = b[0].len / 8, n_seg = b[3].len / 4;
    int ok = w > 0 && h > 0 && w <= INT32_MAX / (h > 0 ? h : 1) && n < INT32_MAX;
    if (!ok)
        PyErr_Format(PyExc_ValueError, "field(): bad grid %zd x %zd", w, h);
    for (int i = 0; ok && i < 9; i++)
        ok = need(&b[i], i < 3 ? n : (i < 8 ? n_seg : w * h), i < 3 || i == 8 ? 8 : 4, names[i]);
    const int64_t *cx = b[0].buf, *cy = b[1].buf, *ids = b[2].buf;
    for (Py_ssize_t k = 0; ok && k < n; k++) {
        if (cx[k] < x0 || cx[k] >= x0 + w || cy[k] < y0 || cy[k] >= y0 + h || ids[k] < 0 ||
            ids[k] >= n_seg) {
            PyErr_Format(PyExc_ValueError,
                         "field(): feature %zd (cell %lld, %lld; segment %lld) is outside the "
                         "grid or the columns",
                         k, (long long)cx[k], (long long)cy[k], (long long)ids[k]);
            ok = 0;
        }
    }
    if (ok) {
        int done;
        Py_BEGIN_ALLOW_THREADS
        done = run(cx, cy, ids, n, b[3].buf, b[4].buf, b[5].buf, b[6].buf, b[7].buf, b[8].buf,
                   x0, y0, w, h, cell, ox, oy, cap);
        Py_END_ALLOW_THREADS
        if (done) {
            res = Py_None;
            Py_INCREF(res);
        } else
            PyErr_NoMemory();
    }
    for (int i = 0; i < 9; i++)
        if (b[i].obj != NULL)
            PyBuffer_Release(&b[i]);
    return res;
}

static PyMethodDef methods[] = {
    {"field", field, METH_VARARGS,
     "field(cx, cy, ids, ax, ay, dx, dy, il2, out, x0, y0, w, h, cell, ox, oy, cap): the "
     "distance "
     "field of grid isochrones into out (see geo/coverage/_fieldc.c)."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fieldc",
                                    "Compiled distance field of grid isochrones.", -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC
PyInit__fieldc(void)
{
    return PyModule_Create(&module);
}
