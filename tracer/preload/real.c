/*
 * real.c — resolving the real functions behind the wrappers (real.h).
 *
 * Runs in any thread, possibly before libweft.so's constructor. The
 * calling thread's re-entry flag is raised while dlsym runs, so anything
 * dlsym calls that libweft.so wraps goes straight to the real function
 * instead of recursing into a resolution.
 */
#include "real.h"

#include <dlfcn.h>
#include <errno.h>
#include <sys/syscall.h>

#include "preload.h"

void *real_table[REAL_COUNT];
int real_all_resolved;

static const char *const names[REAL_COUNT] = {
#define REAL_NAME(name, version) [REAL_ID_##name] = #name,
    REAL_SYMBOLS(REAL_NAME)
#undef REAL_NAME
};

static const char *const versions[REAL_COUNT] = {
#define REAL_VERSION(name, version) [REAL_ID_##name] = version,
    REAL_SYMBOLS(REAL_VERSION)
#undef REAL_VERSION
};

static void die(const char *name)
{
	static const char prefix[] = "libweft.so: cannot resolve ";
	syscall(SYS_write, 2, prefix, sizeof prefix - 1);
	syscall(SYS_write, 2, name, strlen(name));
	syscall(SYS_write, 2, "\n", 1);
	abort();
}

void *real_resolve(enum real_id id)
{
	struct preload_thread *self = &preload_self;
	void *fn = NULL;
	int saved = errno;
	self->busy++;
	if (versions[id])
		fn = dlvsym(RTLD_NEXT, names[id], versions[id]);
	if (!fn)
		fn = dlsym(RTLD_NEXT, names[id]);
	self->busy--;
	errno = saved;
	if (!fn)
		die(names[id]);
	__atomic_store_n(&real_table[id], fn, __ATOMIC_RELEASE);
	return fn;
}

void real_resolve_all(void)
{
	for (int id = 0; id < REAL_COUNT; id++)
		real_get((enum real_id)id);
	__atomic_store_n(&real_all_resolved, 1, __ATOMIC_RELEASE);
}
