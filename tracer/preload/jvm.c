/*
 * jvm.c — see jvm.h. The process-wide state (the JVMTI environment, the
 * tag counter) is written once by Agent_OnLoad, before the JVM starts any
 * Java thread, and read afterwards; tags are handed out under tag_lock, a
 * JVMTI raw monitor, only when a monitor is contended for the first time.
 * Every callback raises the thread's busy flag around its JVMTI calls, so
 * the waits the JVM makes inside them pass through unrecorded.
 */
#include "jvm.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <elf.h>
#include <jvmti.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elfsym.h"
#include "preload.h"

static struct {
	jvmtiEnv *ti;
	jrawMonitorID tag_lock;
	jlong next_tag;
	void *park; /* Unsafe.park's own implementation, once bound */
	/* looked up by the first park (jvm_park_fields), read-only after */
	int park_ready;
	jfieldID park_blocker;	  /* Thread.parkBlocker */
	jclass owned_class;	  /* AbstractOwnableSynchronizer (global ref) */
	jfieldID exclusive_owner; /* its exclusiveOwnerThread */
} jvm;

/* The next definition of name after this library (the real one), looked
 * up with the re-entry guard raised. */
static void *jvm_next(const char *name)
{
	preload_self.busy++;
	void *fn = dlsym(RTLD_NEXT, name);
	preload_self.busy--;
	return fn;
}

/* RUNTIME_NOTE from the calling thread, when it records. */
static void jvm_note(const char *text)
{
	struct preload_thread *t = preload_recorder();
	if (!t || !t->writer.slot)
		return;
	preload_write_begin(t);
	emit_record_string(&t->writer, WEFT_EV_RUNTIME_NOTE, 0, 0, emit_now(), 0, 0, text,
			   WEFT_PAYLOAD_MAX);
	preload_write_end(t);
}

/* --- the way in: one more launcher option ----------------------------- */

typedef int (*jli_launch_fn)(int, char **, int, const char **, int, const char **, const char *,
			     const char *, const char *, const char *, jboolean, jboolean, jboolean,
			     jint);

/* Fill option with the -agentpath option naming this library (prefixed
 * -J for launchers whose own arguments are not the JVM's). Returns 0, or
 * -ENOENT when the library's path is unknown or cannot be an agentpath. */
static int jvm_agent_option(int translated, char *option, size_t size)
{
	Dl_info info;
	if (!dladdr((void *)jvm_agent_option, &info) || !info.dli_fname ||
	    !strchr(info.dli_fname, '/') || strchr(info.dli_fname, '='))
		return -ENOENT;
	int n = snprintf(option, size, "%s-agentpath:%s", translated ? "-J" : "", info.dli_fname);
	return n > 0 && (size_t)n < size ? 0 : -ENOENT;
}

WEFT_EXPORT int JLI_Launch(int argc, char **argv, int jargc, const char **jargv, int appclassc,
			   const char **appclassv, const char *fullversion, const char *dotversion,
			   const char *pname, const char *lname, jboolean javaargs,
			   jboolean cpwildcard, jboolean javaw, jint ergo)
{
	static char option[PATH_MAX + 16];
	jli_launch_fn real = (jli_launch_fn)jvm_next("JLI_Launch");
	if (!real)
		abort(); /* the launcher was linked against it */
	char **args = argv;
	int count = argc;
	int present = 0;
	int unnamed = jvm_agent_option(javaargs && jargc > 0, option, sizeof option);
	if (preload_proc.attached && unnamed)
		jvm_note("jvm: libweft's path cannot be an -agentpath (no '/', or an '='); "
			 "Java threads recorded as native ones");
	if (preload_proc.attached && argc >= 1 && !unnamed) {
		for (int i = 1; i < argc; i++) /* a launcher that re-executed itself */
			present |= argv[i] && strcmp(argv[i], option) == 0;
		args = present ? argv : malloc(((size_t)argc + 2) * sizeof *args);
	}
	if (args && args != argv) {
		args[0] = argv[0];
		args[1] = option;
		memcpy(args + 2, argv + 1, (size_t)argc * sizeof *args); /* with argv's NULL */
		count = argc + 1;
	} else if (!args) {
		args = argv;
	}
	return real(count, args, jargc, jargv, appclassc, appclassv, fullversion, dotversion, pname,
		    lname, javaargs, cpwildcard, javaw, ergo);
}

typedef jint (*jvm_create_fn)(JavaVM **, void **, void *);

/* A program that starts its own JVM (linked against libjvm, calling
 * JNI_CreateJavaVM through its PLT): the same option, added to a copy of
 * its arguments. One that finds the function with dlsym on libjvm's
 * handle calls the JVM's own: its JVM runs without the Java view. */
WEFT_EXPORT jint JNICALL JNI_CreateJavaVM(JavaVM **vm, void **env, void *args)
{
	static char option[PATH_MAX + 16];
	jvm_create_fn real = (jvm_create_fn)jvm_next("JNI_CreateJavaVM");
	JavaVMInitArgs *given = args, copy;
	JavaVMOption *options = NULL;
	if (!real)
		return JNI_ERR; /* as a lookup that found no JVM */
	if (preload_proc.attached && given && given->version >= JNI_VERSION_1_2 &&
	    given->nOptions >= 0 && given->nOptions < 65536 &&
	    !jvm_agent_option(0, option, sizeof option))
		options = malloc(((size_t)given->nOptions + 1) * sizeof *options);
	for (jint i = 0; options && i < given->nOptions; i++)
		if (given->options[i].optionString &&
		    !strcmp(given->options[i].optionString, option)) {
			free(options); /* already there */
			options = NULL;
		}
	if (!options)
		return real(vm, env, args);
	if (given->nOptions)
		memcpy(options, given->options, (size_t)given->nOptions * sizeof *options);
	options[given->nOptions] = (JavaVMOption){.optionString = option};
	copy = *given;
	copy.options = options;
	copy.nOptions = given->nOptions + 1;
	jint rc = real(vm, env, &copy); /* the JVM keeps copies of the options */
	free(options);
	return rc;
}

/* --- threads: their tid in JVMTI's thread-local storage, their name ---- */

/* The calling thread was named as a Java thread: the JVM's later
 * attachment of it under another name (the launcher's main thread becomes
 * DestroyJavaVM at the end) keeps the first. */
static __thread uint8_t jvm_named __attribute__((tls_model("initial-exec")));

/* The calling Java thread (thread) starts: keep its tid, record its name. */
static void jvm_thread_named(jvmtiEnv *ti, jthread thread)
{
	struct preload_thread *t = preload_recorder();
	if (!t)
		return;
	uint32_t tid = preload_tid();
	jvmtiThreadInfo info = {0};
	t->busy++;
	(*ti)->SetThreadLocalStorage(ti, NULL, (const void *)(uintptr_t)tid);
	jvmtiError error = (*ti)->GetThreadInfo(ti, thread, &info);
	t->busy--;
	if (error != JVMTI_ERROR_NONE || !info.name)
		return;
	/* a process's main thread names the process: a JVM started by the
	 * program itself keeps the program's name */
	if (t->writer.slot && tid != preload_proc.pid && !jvm_named) {
		jvm_named = 1;
		preload_write_begin(t);
		emit_record_string(&t->writer, WEFT_EV_THREAD_NAME, 0, 0, emit_now(), tid, 0,
				   info.name, 64);
		preload_write_end(t);
	}
	(*ti)->Deallocate(ti, (unsigned char *)info.name);
}

/* The one thread of this process whose kernel name is the first 15
 * characters of name (/proc/self/task/<tid>/comm), or 0 (none, or more
 * than one). */
static uint32_t jvm_tid_named(const char *name)
{
	char path[64], comm[32];
	uint32_t found = 0;
	int matches = 0;
	DIR *tasks = opendir("/proc/self/task");
	if (!tasks)
		return 0;
	for (struct dirent *entry; (entry = readdir(tasks)) && matches < 2;) {
		char *end;
		unsigned long tid = strtoul(entry->d_name, &end, 10);
		if (*end || !tid)
			continue;
		snprintf(path, sizeof path, "/proc/self/task/%lu/comm", tid);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, comm, sizeof comm - 1);
		if (fd >= 0)
			close(fd);
		if (n <= 0)
			continue;
		comm[n - (comm[n - 1] == '\n')] = '\0';
		if (!strncmp(comm, name, 15) &&
		    strlen(comm) == (strlen(name) < 15 ? strlen(name) : 15)) {
			found = (uint32_t)tid;
			matches++;
		}
	}
	closedir(tasks);
	return matches == 1 ? found : 0;
}

/* VMInit: the Java threads started before ThreadStart events were sent
 * (Reference Handler, Finalizer, ...) are found by their kernel name: they
 * get their tid in JVMTI's thread-local storage and their full name. */
static void jvm_early_threads(struct preload_thread *t, jvmtiEnv *ti)
{
	jint count = 0;
	jthread *threads = NULL;
	t->busy++;
	if ((*ti)->GetAllThreads(ti, &count, &threads) != JVMTI_ERROR_NONE)
		count = 0;
	for (jint i = 0; i < count; i++) {
		void *known = NULL;
		jvmtiThreadInfo info = {0};
		if ((*ti)->GetThreadLocalStorage(ti, threads[i], &known) != JVMTI_ERROR_NONE ||
		    known || (*ti)->GetThreadInfo(ti, threads[i], &info) != JVMTI_ERROR_NONE ||
		    !info.name)
			continue;
		uint32_t tid = jvm_tid_named(info.name);
		if (tid && tid != preload_proc.pid &&
		    (*ti)->SetThreadLocalStorage(ti, threads[i], (const void *)(uintptr_t)tid) ==
			JVMTI_ERROR_NONE &&
		    t->writer.slot) {
			preload_write_begin(t);
			emit_record_string(&t->writer, WEFT_EV_THREAD_NAME, 0, 0, emit_now(), tid,
					   0, info.name, 64);
			preload_write_end(t);
		}
		(*ti)->Deallocate(ti, (unsigned char *)info.name);
	}
	(*ti)->Deallocate(ti, (unsigned char *)threads);
	t->busy--;
}

static void JNICALL jvm_on_thread_start(jvmtiEnv *ti, JNIEnv *jni, jthread thread)
{
	(void)jni;
	jvm_thread_named(ti, thread);
}

/* --- monitors: their key, name and owner ------------------------------ */

/* "Ljava/lang/Object;" as "java.lang.Object#tag" into label (without
 * the package when the whole name does not fit). */
static void jvm_monitor_label(const char *signature, jlong tag, char *label, size_t size)
{
	size_t n = 0;
	const char *s = signature[0] == 'L' ? signature + 1 : signature;
	const char *end = strchr(s, ';');
	size_t length = end ? (size_t)(end - s) : strlen(s);
	if (length + 21 > size) { /* no room for it and its "#tag" */
		const char *simple = memrchr(s, '/', length);
		if (simple) {
			length -= (size_t)(simple + 1 - s);
			s = simple + 1;
		}
	}
	for (; n < length && n + 21 < size; s++)
		label[n++] = *s == '/' ? '.' : *s;
	snprintf(label + n, size - n, "#%lld", (long long)tag);
}

/* Name the monitor of tag (OBJECT_NAME, as a mutex and as a condition). */
static void jvm_monitor_name(struct preload_thread *t, jvmtiEnv *ti, JNIEnv *jni, jobject object,
			     jlong tag)
{
	char *signature = NULL;
	char label[64];
	t->busy++;
	jclass class = (*jni)->GetObjectClass(jni, object);
	if (class && (*ti)->GetClassSignature(ti, class, &signature, NULL) != JVMTI_ERROR_NONE)
		signature = NULL;
	if (class)
		(*jni)->DeleteLocalRef(jni, class);
	t->busy--;
	jvm_monitor_label(signature ? signature : "?", tag, label, sizeof label);
	if (signature)
		(*ti)->Deallocate(ti, (unsigned char *)signature);
	if (!t->writer.slot)
		return;
	uint64_t ts = emit_now();
	preload_write_begin(t);
	emit_record_string(&t->writer, WEFT_EV_OBJECT_NAME, WEFT_REASON_MUTEX, 0, ts,
			   JVM_MONITOR_KEY | (uint64_t)tag, 0, label, sizeof label);
	emit_record_string(&t->writer, WEFT_EV_OBJECT_NAME, WEFT_REASON_COND, 0, ts,
			   JVM_MONITOR_KEY | (uint64_t)tag, 0, label, sizeof label);
	preload_write_end(t);
}

/* The key of object's monitor (0: none could be given); a monitor seen
 * for the first time gets its tag and its name. */
static uint64_t jvm_monitor_key(struct preload_thread *t, jvmtiEnv *ti, JNIEnv *jni, jobject object)
{
	jlong tag = 0;
	int fresh = 0;
	t->busy++;
	if ((*ti)->GetTag(ti, object, &tag) == JVMTI_ERROR_NONE && !tag &&
	    (*ti)->RawMonitorEnter(ti, jvm.tag_lock) == JVMTI_ERROR_NONE) {
		if ((*ti)->GetTag(ti, object, &tag) == JVMTI_ERROR_NONE && !tag) {
			tag = ++jvm.next_tag;
			fresh = (*ti)->SetTag(ti, object, tag) == JVMTI_ERROR_NONE;
			if (!fresh)
				tag = 0;
		}
		(*ti)->RawMonitorExit(ti, jvm.tag_lock);
	}
	t->busy--;
	if (fresh)
		jvm_monitor_name(t, ti, jni, object, tag);
	return tag > 0 ? JVM_MONITOR_KEY | (uint64_t)tag : 0;
}

/* The tid of the Java thread that owns object's monitor, 0 if unknown. */
static uint32_t jvm_monitor_owner(struct preload_thread *t, jvmtiEnv *ti, jobject object)
{
	jvmtiMonitorUsage usage = {0};
	void *tid = NULL;
	t->busy++;
	if ((*ti)->GetObjectMonitorUsage(ti, object, &usage) == JVMTI_ERROR_NONE) {
		if (usage.owner)
			(*ti)->GetThreadLocalStorage(ti, usage.owner, &tid);
		(*ti)->Deallocate(ti, (unsigned char *)usage.waiters);
		(*ti)->Deallocate(ti, (unsigned char *)usage.notify_waiters);
	}
	t->busy--;
	return (uint32_t)(uintptr_t)tid;
}

/* A Java wait begins: BLOCK_BEGIN, and the thread's wait stays open (the
 * JVM's own waits under it pass through) until jvm_wait_end. */
static void jvm_wait_begin(struct preload_thread *t, uint8_t reason, uint8_t call, uint64_t key,
			   uint64_t extra)
{
	if (!key || !preload_wait_enter(t, UINTPTR_MAX, reason, call, key))
		return;
	preload_emit(t, WEFT_EV_BLOCK_BEGIN, reason, call, key, extra);
}

static void jvm_wait_end(uint8_t call, int64_t result)
{
	struct preload_thread *t = preload_recorder();
	if (!t || t->wait_frame != UINTPTR_MAX || t->wait_call != call)
		return;
	preload_emit(t, WEFT_EV_BLOCK_END, t->wait_reason, call, t->wait_object, (uint64_t)result);
	t->wait_frame = 0;
}

static void JNICALL jvm_on_contended_enter(jvmtiEnv *ti, JNIEnv *jni, jthread thread,
					   jobject object)
{
	(void)thread;
	struct preload_thread *t = preload_recorder();
	if (!t)
		return;
	uint64_t key = jvm_monitor_key(t, ti, jni, object);
	uint32_t owner = key ? jvm_monitor_owner(t, ti, object) : 0;
	jvm_wait_begin(t, WEFT_REASON_MUTEX, WEFT_CALL_JAVA_MONITOR_ENTER, key, owner);
}

static void JNICALL jvm_on_contended_entered(jvmtiEnv *ti, JNIEnv *jni, jthread thread,
					     jobject object)
{
	(void)ti, (void)jni, (void)thread, (void)object;
	jvm_wait_end(WEFT_CALL_JAVA_MONITOR_ENTER, 0);
}

static void JNICALL jvm_on_wait(jvmtiEnv *ti, JNIEnv *jni, jthread thread, jobject object,
				jlong timeout)
{
	(void)thread, (void)timeout;
	struct preload_thread *t = preload_recorder();
	if (!t)
		return;
	uint64_t key = jvm_monitor_key(t, ti, jni, object);
	jvm_wait_begin(t, WEFT_REASON_COND, WEFT_CALL_JAVA_OBJECT_WAIT, key, key);
}

static void JNICALL jvm_on_waited(jvmtiEnv *ti, JNIEnv *jni, jthread thread, jobject object,
				  jboolean timed_out)
{
	(void)ti, (void)jni, (void)thread, (void)object;
	jvm_wait_end(WEFT_CALL_JAVA_OBJECT_WAIT, timed_out ? -ETIMEDOUT : 0);
}

/* --- Thread.sleep ----------------------------------------------------- */

typedef void (*jvm_sleep_fn)(JNIEnv *, jclass, jlong);

/* The real function named name, resolved once into *slot. */
static jvm_sleep_fn jvm_sleep_real(jvm_sleep_fn *slot, const char *name)
{
	jvm_sleep_fn fn = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (!fn) {
		fn = (jvm_sleep_fn)jvm_next(name);
		if (!fn)
			abort(); /* libjava was linked against libjvm's */
		__atomic_store_n(slot, fn, __ATOMIC_RELEASE);
	}
	return fn;
}

/* Thread.sleep for ns (the JVM's time argument is time): a sleep. */
static void jvm_sleep(jvm_sleep_fn fn, JNIEnv *env, jclass class, jlong time, jlong ns)
{
	struct preload_thread *t = preload_recorder();
	if (!t || time < 0) {
		fn(env, class, time);
		return;
	}
	PRELOAD_BLOCKING(t, WEFT_REASON_SLEEP, WEFT_CALL_JAVA_SLEEP, 0, ns, int,
			 (fn(env, class, time), 0), 0);
}

/* JDK 17 to 20: Thread.sleep(millis). */
WEFT_EXPORT void JVM_Sleep(JNIEnv *env, jclass class, jlong millis)
{
	static jvm_sleep_fn real;
	jvm_sleep(jvm_sleep_real(&real, "JVM_Sleep"), env, class, millis,
		  millis > INT64_MAX / 1000000 ? INT64_MAX : millis * 1000000);
}

/* JDK 21 on: Thread.sleep's nanoseconds. */
WEFT_EXPORT void JVM_SleepNanos(JNIEnv *env, jclass class, jlong nanos)
{
	static jvm_sleep_fn real;
	jvm_sleep(jvm_sleep_real(&real, "JVM_SleepNanos"), env, class, nanos, nanos);
}

/* --- LockSupport.park --------------------------------------------------- */

typedef void (*jvm_park_fn)(JNIEnv *, jobject, jboolean, jlong);

/* Look the fields park reads up, once. Returns 1 when they are known. */
static int jvm_park_fields(JNIEnv *jni)
{
	if (__atomic_load_n(&jvm.park_ready, __ATOMIC_ACQUIRE))
		return jvm.park_ready > 0;
	int ready = -1;
	jclass thread = (*jni)->FindClass(jni, "java/lang/Thread");
	jclass owned =
	    (*jni)->FindClass(jni, "java/util/concurrent/locks/AbstractOwnableSynchronizer");
	if (thread && owned) {
		jvm.park_blocker =
		    (*jni)->GetFieldID(jni, thread, "parkBlocker", "Ljava/lang/Object;");
		jvm.exclusive_owner =
		    (*jni)->GetFieldID(jni, owned, "exclusiveOwnerThread", "Ljava/lang/Thread;");
		if (jvm.park_blocker && jvm.exclusive_owner &&
		    (jvm.owned_class = (*jni)->NewGlobalRef(jni, owned)))
			ready = 1;
	}
	if ((*jni)->ExceptionCheck(jni))
		(*jni)->ExceptionClear(jni); /* a JDK without these fields */
	__atomic_store_n(&jvm.park_ready, ready, __ATOMIC_RELEASE);
	return ready > 0;
}

/* The object the calling thread parks for (LockSupport.park(blocker)) and,
 * for a lock (an AbstractOwnableSynchronizer), its owner's tid: the wait's
 * reason, key and extra. Returns 0 when it parks for nothing known. */
static int jvm_park_blocker(struct preload_thread *t, JNIEnv *jni, uint8_t *reason, uint64_t *key,
			    uint64_t *owner)
{
	jvmtiEnv *ti = jvm.ti;
	jthread self = NULL;
	jobject blocker = NULL;
	void *tid = NULL;
	t->busy++;
	if (jvm_park_fields(jni) && (*ti)->GetCurrentThread(ti, &self) == JVMTI_ERROR_NONE && self)
		blocker = (*jni)->GetObjectField(jni, self, jvm.park_blocker);
	*reason = WEFT_REASON_COND;
	if (blocker && (*jni)->IsInstanceOf(jni, blocker, jvm.owned_class)) {
		jobject holder = (*jni)->GetObjectField(jni, blocker, jvm.exclusive_owner);
		if (holder)
			(*ti)->GetThreadLocalStorage(ti, holder, &tid);
		*reason = WEFT_REASON_MUTEX;
	}
	t->busy--;
	*key = blocker ? jvm_monitor_key(t, ti, jni, blocker) : 0;
	*owner = (uint32_t)(uintptr_t)tid;
	return *key != 0;
}

/* Unsafe.park, bound in place of the JVM's own (jvm_on_bind). */
static void JNICALL jvm_park(JNIEnv *jni, jobject unsafe, jboolean absolute, jlong time)
{
	jvm_park_fn fn = (jvm_park_fn)jvm.park;
	struct preload_thread *t = preload_recorder();
	uint8_t reason;
	uint64_t key, owner;
	if (!t || !jvm_park_blocker(t, jni, &reason, &key, &owner)) {
		fn(jni, unsafe, absolute, time);
		return;
	}
	PRELOAD_BLOCKING(t, reason, WEFT_CALL_JAVA_PARK, key,
			 reason == WEFT_REASON_MUTEX ? owner : 0, int,
			 (fn(jni, unsafe, absolute, time), 0), 0);
}

/* HotSpot's own Unsafe_Park (elfsym.h), looked up at the first bind
 * from the library that bound it: 0 while unknown, 1 when not found. */
static uintptr_t jvm_park_target;

static void jvm_find_park(void *address)
{
	Dl_info info;
	struct elfsym_query park = {.name = "Unsafe_Park", .type = STT_FUNC};
	preload_self.busy++;
	if (dladdr(address, &info) && info.dli_fname && info.dli_fbase)
		elfsym_find(info.dli_fname, (uintptr_t)info.dli_fbase, &park, 1);
	preload_self.busy--;
	jvm_park_target = park.address ? park.address : 1;
	if (!park.address)
		jvm_note("jvm: no Unsafe_Park in libjvm's symbols; LockSupport.park recorded as "
			 "native waits");
}

/* A native method is bound (RegisterNatives included, in every phase):
 * HotSpot's Unsafe.park, known by its address (JVMTI cannot name methods
 * in the primordial phase, when Unsafe's natives are registered), is
 * taken over by jvm_park. Natives are bound by one thread at a time. */
static void JNICALL jvm_on_bind(jvmtiEnv *ti, JNIEnv *jni, jthread thread, jmethodID method,
				void *address, void **new_address)
{
	(void)ti, (void)jni, (void)thread, (void)method;
	if (jvm.park)
		return;
	if (!jvm_park_target)
		jvm_find_park(address);
	if ((uintptr_t)address == jvm_park_target) {
		jvm.park = address;
		*new_address = (void *)jvm_park;
	}
}

/* --- the agent -------------------------------------------------------- */

static void JNICALL jvm_on_init(jvmtiEnv *ti, JNIEnv *jni, jthread thread)
{
	(void)jni;
	jvm_thread_named(ti, thread); /* the thread that runs main() */
	struct preload_thread *t = preload_recorder();
	if (t)
		jvm_early_threads(t, ti);
}

/* Ask for the events of jvm.h. Returns 0, or the JVMTI error. */
static jvmtiError jvm_enable(jvmtiEnv *ti)
{
	jvmtiCapabilities capabilities = {0};
	capabilities.can_generate_monitor_events = 1;
	capabilities.can_get_monitor_info = 1;
	capabilities.can_tag_objects = 1;
	capabilities.can_generate_native_method_bind_events = 1;
	jvmtiError error = (*ti)->AddCapabilities(ti, &capabilities);
	if (error == JVMTI_ERROR_NONE)
		error = (*ti)->CreateRawMonitor(ti, "weft tags", &jvm.tag_lock);
	jvmtiEventCallbacks callbacks = {
	    .VMInit = jvm_on_init,
	    .ThreadStart = jvm_on_thread_start,
	    .MonitorContendedEnter = jvm_on_contended_enter,
	    .MonitorContendedEntered = jvm_on_contended_entered,
	    .MonitorWait = jvm_on_wait,
	    .MonitorWaited = jvm_on_waited,
	    .NativeMethodBind = jvm_on_bind,
	};
	if (error == JVMTI_ERROR_NONE)
		error = (*ti)->SetEventCallbacks(ti, &callbacks, (jint)sizeof callbacks);
	static const jvmtiEvent events[] = {
	    JVMTI_EVENT_VM_INIT,
	    JVMTI_EVENT_THREAD_START,
	    JVMTI_EVENT_MONITOR_CONTENDED_ENTER,
	    JVMTI_EVENT_MONITOR_CONTENDED_ENTERED,
	    JVMTI_EVENT_MONITOR_WAIT,
	    JVMTI_EVENT_MONITOR_WAITED,
	    JVMTI_EVENT_NATIVE_METHOD_BIND,
	};
	for (size_t i = 0; error == JVMTI_ERROR_NONE && i < sizeof events / sizeof events[0]; i++)
		error = (*ti)->SetEventNotificationMode(ti, JVMTI_ENABLE, events[i], NULL);
	return error;
}

WEFT_EXPORT jint JNICALL Agent_OnLoad(JavaVM *vm, char *options, void *reserved)
{
	(void)options, (void)reserved;
	char note[128];
	jvmtiEnv *ti = NULL;
	if (jvm.ti)
		return JNI_OK; /* loaded twice: the first one records */
	if ((*vm)->GetEnv(vm, (void **)&ti, JVMTI_VERSION_1_2) != JNI_OK || !ti) {
		jvm_note("jvm: no JVMTI environment; Java threads recorded as native ones");
		return JNI_OK;
	}
	jvmtiError error = jvm_enable(ti);
	if (error != JVMTI_ERROR_NONE) {
		snprintf(note, sizeof note,
			 "jvm: JVMTI refused the monitor events (error %d); Java threads "
			 "recorded as native ones",
			 (int)error);
		jvm_note(note);
		(*ti)->DisposeEnvironment(ti);
		return JNI_OK;
	}
	jvm.ti = ti;
	return JNI_OK;
}
