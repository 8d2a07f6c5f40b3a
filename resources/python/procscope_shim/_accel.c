/* procscope's recorder in C: the hot path of Python mode, where a contended lock makes a million
 * operations a second and Python's own call overhead is most of what instrumenting one costs.
 *
 * Optional: the shim builds it once per interpreter with that interpreter's compiler settings
 * (_build_accel.py, run by the monitor as it prepares the shim) and runs without it, at about a
 * third of the speed on a lock, where it cannot be built. What it does is exactly what the Python
 * fallback does (_client.py, _patch.py): same records, same stamps (CLOCK_REALTIME, as
 * time.time_ns), same order of stamp and call.
 *
 * - Records: the process's buffer of compact records (int64: time_ns() - k, see _client.py).
 *   append() takes a Python int, as list.append does; take() hands the sender thread everything
 *   recorded so far as little-endian bytes. Every call runs holding the GIL, so an append and a
 *   take never interleave.
 * - LockMethods: a Lock's or Semaphore's acquire() and release() with no arguments (the common
 *   call, and what `with lock:` makes): a non-blocking attempt and one record, or a record and
 *   the release; a contended acquire records its request and waits its first WAIT_NS here.
 *   Anything else (arguments, a longer wait, a refused release, the profiler's deferred samples)
 *   calls the Python code that handles it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#if PY_VERSION_HEX < 0x03090000
#define PyObject_CallNoArgs(f) PyObject_CallObject((f), NULL)
#define PyObject_CallOneArg(f, a) PyObject_CallFunctionObjArgs((f), (a), NULL)
#define PyObject_Vectorcall _PyObject_Vectorcall
#endif

/* ---- Records ------------------------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    int64_t *buf;
    Py_ssize_t n;
    Py_ssize_t cap;
    /* Records that did not fit an int64 (a clock millennia off the run's start): counted, not
     * raised, so that the program's own call never fails for procscope's sake. */
    Py_ssize_t lost;
} Records;

static int records_push(Records *r, int64_t v) {
    if (r->n == r->cap) {
        Py_ssize_t cap = r->cap ? r->cap * 2 : 4096;
        int64_t *buf = PyMem_Realloc(r->buf, (size_t)cap * sizeof(int64_t));
        if (buf == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        r->buf = buf;
        r->cap = cap;
    }
    r->buf[r->n++] = v;
    return 0;
}

static void records_dealloc(Records *r) {
    PyMem_Free(r->buf);
    Py_TYPE(r)->tp_free((PyObject *)r);
}

static PyObject *records_append(Records *r, PyObject *v) {
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (x == -1 && PyErr_Occurred()) return NULL;
    if (overflow) {
        r->lost++;
        Py_RETURN_NONE;
    }
    if (records_push(r, (int64_t)x) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *records_take(Records *r, PyObject *unused) {
    Py_ssize_t n = r->n;
    PyObject *out = PyBytes_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(int64_t));
    if (out == NULL) return NULL;
    char *dst = PyBytes_AS_STRING(out);
#if PY_BIG_ENDIAN
    for (Py_ssize_t i = 0; i < n; i++) {
        uint64_t v = (uint64_t)r->buf[i];
        for (int b = 0; b < 8; b++) dst[i * 8 + b] = (char)(v >> (8 * b));
    }
#else
    memcpy(dst, r->buf, (size_t)n * sizeof(int64_t));
#endif
    r->n = 0;
    /* A burst must not keep its memory for the rest of the run. */
    if (r->cap > (1 << 16)) {
        PyMem_Free(r->buf);
        r->buf = NULL;
        r->cap = 0;
    }
    return out;
}

static PyObject *records_clear(Records *r, PyObject *unused) {
    r->n = 0;
    Py_RETURN_NONE;
}

static PyObject *records_lost(Records *r, PyObject *unused) {
    Py_ssize_t lost = r->lost;
    r->lost = 0;
    return PyLong_FromSsize_t(lost);
}

static Py_ssize_t records_len(Records *r) { return r->n; }

static PyMethodDef records_methods[] = {
    {"append", (PyCFunction)records_append, METH_O, "Appends one record (an int that fits an int64)."},
    {"take", (PyCFunction)records_take, METH_NOARGS, "Every record so far, as little-endian int64 bytes; empties the buffer."},
    {"clear", (PyCFunction)records_clear, METH_NOARGS, "Drops every record."},
    {"lost", (PyCFunction)records_lost, METH_NOARGS, "How many records did not fit an int64 since the last call."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods records_as_sequence = {
    .sq_length = (lenfunc)records_len,
};

static PyTypeObject RecordsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "procscope_shim._accel.Records",
    .tp_basicsize = sizeof(Records),
    .tp_dealloc = (destructor)records_dealloc,
    .tp_as_sequence = &records_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A process's compact records, not sent yet.",
    .tp_methods = records_methods,
    .tp_new = PyType_GenericNew,
};

/* ---- the clock ------------------------------------------------------------------------------ */

/* time.time_ns(): the clock every other record and report of the process is stamped with. */
static int now_ns(int64_t *out) {
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    *out = (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
    return 0;
}

/* ---- LockMethods ---------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    Records *records;
    PyObject *raw_acquire;  /* the SemLock's own acquire(block, timeout) */
    PyObject *raw_release;
    PyObject *slow_acquire; /* Python: acquire(block=True, timeout=None), the whole logic */
    PyObject *slow_release; /* Python: release(), the whole logic */
    PyObject *contended;    /* Python: a blocking acquire whose attempt failed, all of it */
    PyObject *waiting;      /* Python: waiting(t), the rest of a wait begun at t past its first WAIT_NS */
    PyObject *spent;        /* Python: spent(t, now), a wait of WAIT_NS or more that ended */
    PyObject *client_dict;  /* the client's __dict__: `nudge` asks the hot path to attend() */
    PyObject *attend;
    PyObject *first_wait;   /* WAIT_NS, in seconds (a float): how long a wait stays in C */
    int64_t k_at_once;
    int64_t k_release;
    int64_t k_request;
    int64_t k_acquire;
    int64_t wait_ns;
} LockMethods;

static PyObject *str_nudge;
static PyObject *str_deferred;

/* Every object a LockMethods holds, listed once: traversed and cleared from this list. */
#define LM_OBJECTS(X) X(records) X(raw_acquire) X(raw_release) X(slow_acquire) X(slow_release) \
    X(contended) X(waiting) X(spent) X(client_dict) X(attend) X(first_wait)

static int lm_traverse(LockMethods *m, visitproc visit, void *arg) {
#define VISIT(f) Py_VISIT(m->f);
    LM_OBJECTS(VISIT)
#undef VISIT
    return 0;
}

static int lm_clear(LockMethods *m) {
#define CLEAR(f) Py_CLEAR(m->f);
    LM_OBJECTS(CLEAR)
#undef CLEAR
    return 0;
}

static void lm_dealloc(LockMethods *m) {
    PyObject_GC_UnTrack(m);
    lm_clear(m);
    Py_TYPE(m)->tp_free((PyObject *)m);
}

static int lm_init(LockMethods *m, PyObject *args, PyObject *kwds) {
    Records *records;
    PyObject *raw_acquire, *raw_release, *slow_acquire, *slow_release, *contended, *waiting, *spent, *client_dict, *attend;
    long long k_at_once, k_release, k_request, k_acquire, wait_ns;
    if (!PyArg_ParseTuple(args, "O!OOOOOOOO!OLLLLL", &RecordsType, &records, &raw_acquire, &raw_release, &slow_acquire, &slow_release, &contended,
                          &waiting, &spent, &PyDict_Type, &client_dict, &attend, &k_at_once, &k_release, &k_request, &k_acquire, &wait_ns))
        return -1;
    if (wait_ns <= 0) {
        PyErr_SetString(PyExc_ValueError, "wait_ns must be positive");
        return -1;
    }
    PyObject *first_wait = PyFloat_FromDouble((double)wait_ns / 1e9);
    if (first_wait == NULL) return -1;
    lm_clear(m);
    Py_INCREF(records);
    m->records = records;
#define KEEP(f) Py_INCREF(f); m->f = f;
    KEEP(raw_acquire)
    KEEP(raw_release)
    KEEP(slow_acquire)
    KEEP(slow_release)
    KEEP(contended)
    KEEP(waiting)
    KEEP(spent)
    KEEP(client_dict)
    KEEP(attend)
#undef KEEP
    m->first_wait = first_wait;
    m->k_at_once = (int64_t)k_at_once;
    m->k_release = (int64_t)k_release;
    m->k_request = (int64_t)k_request;
    m->k_acquire = (int64_t)k_acquire;
    m->wait_ns = (int64_t)wait_ns;
    return 0;
}

/* After a record: the client's `nudge` set means its thread is idle (or too much is unsent). */
static int lm_after_record(LockMethods *m) {
    PyObject *nudge = PyDict_GetItemWithError(m->client_dict, str_nudge);
    if (nudge == NULL) return PyErr_Occurred() ? -1 : 0;
    if (nudge == Py_False) return 0;
    PyObject *r = PyObject_CallNoArgs(m->attend);
    if (r == NULL) return -1;
    Py_DECREF(r);
    return 0;
}

/* The lock was taken but the acquire fails (out of memory, say): the caller will not know it
 * holds it, so it is given back before the error is raised. */
static PyObject *lm_give_back(LockMethods *m) {
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    PyObject *r = PyObject_CallNoArgs(m->raw_release);
    Py_XDECREF(r);
    PyErr_Clear();
    PyErr_Restore(et, ev, tb);
    return NULL;
}

static PyObject *lm_acquire(LockMethods *m, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    if (nargs != 0 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0))
        return PyObject_Vectorcall(m->slow_acquire, args, nargs, kwnames);
    if (m->raw_acquire == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "procscope: lock methods not initialised");
        return NULL;
    }
    PyObject *got = PyObject_CallOneArg(m->raw_acquire, Py_False);
    if (got == NULL) return NULL;
    int ok = PyObject_IsTrue(got);
    Py_DECREF(got);
    if (ok < 0) return NULL;
    int64_t t;
    if (ok) {
        /* Uncontended: taken at once, one stamp (after the taking) for request and acquire. */
        if (now_ns(&t) < 0 || records_push(m->records, t - m->k_at_once) < 0 || lm_after_record(m) < 0) return lm_give_back(m);
        Py_RETURN_TRUE;
    }
    /* While the profiler's signal handler samples (the client's `deferred`), a wait must wake
     * procscope's thread: the Python path does that. */
    PyObject *deferred = PyDict_GetItemWithError(m->client_dict, str_deferred);
    if (deferred == NULL && PyErr_Occurred()) return NULL;
    if (deferred != NULL && deferred != Py_False) return PyObject_CallNoArgs(m->contended);
    /* A wait: its request first (it may be a deadlock: attend() sends it now if the thread is
     * idle), then its first WAIT_NS here; a longer one goes on in Python, in a frame that
     * _waits.scan finds and reports with its call site while it lasts. */
    if (now_ns(&t) < 0 || records_push(m->records, t - m->k_request) < 0 || lm_after_record(m) < 0) return NULL;
    got = PyObject_CallFunctionObjArgs(m->raw_acquire, Py_True, m->first_wait, NULL);
    if (got == NULL) return NULL;
    ok = PyObject_IsTrue(got);
    Py_DECREF(got);
    if (ok < 0) return NULL;
    if (!ok) {
        PyObject *start = PyLong_FromLongLong((long long)t);
        if (start == NULL) return NULL;
        PyObject *r = PyObject_CallOneArg(m->waiting, start);
        Py_DECREF(start);
        return r;
    }
    int64_t now;
    if (now_ns(&now) < 0 || records_push(m->records, now - m->k_acquire) < 0) return lm_give_back(m);
    if (now - t >= m->wait_ns) {
        /* Taken just as its first WAIT_NS ran out: reported as a wait, with its call site. */
        PyObject *a = PyLong_FromLongLong((long long)t), *b = PyLong_FromLongLong((long long)now);
        PyObject *r = (a && b) ? PyObject_CallFunctionObjArgs(m->spent, a, b, NULL) : NULL;
        Py_XDECREF(a);
        Py_XDECREF(b);
        if (r == NULL) return lm_give_back(m);
        Py_DECREF(r);
    }
    if (lm_after_record(m) < 0) return lm_give_back(m);
    Py_RETURN_TRUE;
}

static PyObject *lm_release(LockMethods *m, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    if (nargs != 0 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0) || m->raw_release == NULL)
        return PyObject_Vectorcall(m->slow_release, args, nargs, kwnames);
    /* Stamped before the release (the next holder's acquire sorts after it), recorded after. */
    int64_t t;
    if (now_ns(&t) < 0) return NULL;
    PyObject *r = PyObject_CallNoArgs(m->raw_release);
    if (r == NULL) {
        /* Refused (a BoundedSemaphore past its value, a free Lock): the Python release reports
         * it and raises it again, as it would have without us. */
        PyErr_Clear();
        return PyObject_CallNoArgs(m->slow_release);
    }
    Py_DECREF(r);
    if (records_push(m->records, t - m->k_release) < 0 || lm_after_record(m) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef lm_methods[] = {
    {"acquire", (PyCFunction)(void (*)(void))lm_acquire, METH_FASTCALL | METH_KEYWORDS, "acquire(block=True, timeout=None), recorded."},
    {"release", (PyCFunction)(void (*)(void))lm_release, METH_FASTCALL | METH_KEYWORDS, "release(), recorded."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject LockMethodsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "procscope_shim._accel.LockMethods",
    .tp_basicsize = sizeof(LockMethods),
    .tp_dealloc = (destructor)lm_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "A lock's recorded acquire and release.",
    .tp_traverse = (traverseproc)lm_traverse,
    .tp_clear = (inquiry)lm_clear,
    .tp_methods = lm_methods,
    .tp_init = (initproc)lm_init,
    .tp_new = PyType_GenericNew,
};

/* ---- module --------------------------------------------------------------------------------- */

static struct PyModuleDef accel_module = {
    PyModuleDef_HEAD_INIT,
    "procscope_shim._accel",
    "procscope's recorder in C (optional).",
    -1,
    NULL,
};

PyMODINIT_FUNC PyInit__accel(void) {
    str_nudge = PyUnicode_InternFromString("nudge");
    str_deferred = PyUnicode_InternFromString("deferred");
    if (str_nudge == NULL || str_deferred == NULL) return NULL;
    if (PyType_Ready(&RecordsType) < 0 || PyType_Ready(&LockMethodsType) < 0) return NULL;
    PyObject *m = PyModule_Create(&accel_module);
    if (m == NULL) return NULL;
    Py_INCREF(&RecordsType);
    if (PyModule_AddObject(m, "Records", (PyObject *)&RecordsType) < 0) {
        Py_DECREF(&RecordsType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&LockMethodsType);
    if (PyModule_AddObject(m, "LockMethods", (PyObject *)&LockMethodsType) < 0) {
        Py_DECREF(&LockMethodsType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
