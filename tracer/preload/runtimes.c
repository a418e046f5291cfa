/*
 * runtimes.c — see runtimes.h. runtime_objects is filled once, by the
 * constructor's thread before the program runs (runtimes_find), and read
 * afterwards only (fork children); nothing else touches it.
 */
#include "runtimes.h"

#include <dlfcn.h>
#include <elf.h>
#include <stddef.h>
#include <string.h>

#include "elfsym.h"
#include "emit.h"
#include "event.h"

#define RUNTIME_OBJECTS_MAX 6

struct runtime_object {
	uintptr_t address;
	uint8_t reason; /* enum weft_reason: the object's kind */
	const char *name;
};

static struct {
	struct runtime_object objects[RUNTIME_OBJECTS_MAX];
	int count;
} runtime_objects;

/* CPython 3.11: struct _gil_runtime_state inside _PyRuntime.ceval. */
static const struct {
	size_t offset;
	uint8_t reason;
	const char *name;
} cpython311_gil[] = {
    {0x188, WEFT_REASON_COND, "CPython GIL"},
    {0x1b8, WEFT_REASON_MUTEX, "CPython GIL (mutex)"},
    {0x1e0, WEFT_REASON_COND, "CPython GIL switch"},
    {0x210, WEFT_REASON_MUTEX, "CPython GIL switch (mutex)"},
};

static void find_cpython(void)
{
	const unsigned long *version = dlsym(RTLD_DEFAULT, "Py_Version");
	char *runtime = dlsym(RTLD_DEFAULT, "_PyRuntime");
	if (!version || !runtime || (*version >> 16) != 0x030b)
		return;
	for (size_t i = 0; i < sizeof cpython311_gil / sizeof cpython311_gil[0]; i++)
		runtime_objects.objects[runtime_objects.count++] =
		    (struct runtime_object){(uintptr_t)(runtime + cpython311_gil[i].offset),
					    cpython311_gil[i].reason, cpython311_gil[i].name};
}

/* libuv (node links it in): the thread pool's queue condition and mutex,
 * static in threadpool.c, found in the .symtab of the object that defines
 * uv_version (the node binary keeps it; a stripped libuv.so does not). */
static void find_libuv(void)
{
	Dl_info info;
	void *uv_version = dlsym(RTLD_DEFAULT, "uv_version");
	struct elfsym_query pool[] = {
	    {.file = "threadpool.c", .name = "cond", .type = STT_OBJECT},
	    {.file = "threadpool.c", .name = "mutex", .type = STT_OBJECT},
	};
	if (!uv_version || !dladdr(uv_version, &info) || !info.dli_fname || !info.dli_fbase)
		return;
	/* the program itself is named as it was run, not by a path */
	const char *path = strchr(info.dli_fname, '/') ? info.dli_fname : "/proc/self/exe";
	if (elfsym_find(path, (uintptr_t)info.dli_fbase, pool, 2) != 2)
		return;
	runtime_objects.objects[runtime_objects.count++] =
	    (struct runtime_object){pool[0].address, WEFT_REASON_COND, "libuv thread pool"};
	runtime_objects.objects[runtime_objects.count++] = (struct runtime_object){
	    pool[1].address, WEFT_REASON_MUTEX, "libuv thread pool (mutex)"};
}

void runtimes_rename(struct ring_writer *w, uint64_t ts)
{
	for (int i = 0; i < runtime_objects.count; i++) {
		const struct runtime_object *o = &runtime_objects.objects[i];
		emit_record_payload(w, WEFT_EV_OBJECT_NAME, o->reason, 0, ts, o->address, 0,
				    o->name, (uint32_t)strlen(o->name) + 1);
	}
}

void runtimes_find(struct ring_writer *w, uint64_t ts)
{
	runtime_objects.count = 0;
	find_cpython();
	find_libuv();
	runtimes_rename(w, ts);
}
