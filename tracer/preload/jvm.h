/*
 * jvm.h — the Java view of a HotSpot JVM, recorded from inside it.
 *
 * The way in. JAVA_TOOL_OPTIONS would load an agent, but the JVM then
 * prints "Picked up JAVA_TOOL_OPTIONS" on stderr. Instead libweft
 * interposes the java launcher's JLI_Launch (the launcher binary calls it
 * through its PLT, so the preloaded definition wins) and adds one option
 * in front of the program's own: -agentpath:<this library> (-J-agentpath
 * for launchers with built-in arguments, as javac). The JVM then loads
 * this same, already mapped library as a JVMTI agent and calls its
 * Agent_OnLoad during start-up, before any Java code runs. Nothing is
 * printed. A JVMTI environment taken later, in the live phase
 * (JNI_GetCreatedJavaVMs + GetEnv), would get the same capabilities on
 * OpenJDK 17, but needs a thread in native state to call GetEnv from,
 * which a preloaded library does not get by itself; and it would miss the
 * threads already started.
 *
 * What is recorded (only where a thread waits; an uncontended monitor
 * costs nothing, as no JVMTI event is generated for it):
 *   MonitorContendedEnter/Entered  BLOCK_BEGIN/END reason MUTEX, call
 *       JAVA_MONITOR_ENTER, a = the monitor's key, b = its owner's tid
 *       (GetObjectMonitorUsage; the owner's tid is kept in the JVMTI
 *       thread-local storage of each Java thread when it starts);
 *   MonitorWait/Waited  reason COND, call JAVA_OBJECT_WAIT, b = the
 *       monitor given up;
 *   Thread.sleep  JVM_Sleep (JVM_SleepNanos from JDK 21), which libjava
 *       calls through its PLT, is interposed: reason SLEEP, call
 *       JAVA_SLEEP;
 *   LockSupport.park(blocker)  HotSpot's Unsafe_Park (found in libjvm's
 *       .symtab, elfsym.h) is replaced when the JVM binds it (JVMTI
 *       NativeMethodBind): a lock (AbstractOwnableSynchronizer, as
 *       ReentrantLock's) is a MUTEX wait with its exclusiveOwnerThread as
 *       owner, any other blocker a COND wait on it;
 *   ThreadStart/VMInit  THREAD_NAME with the full Java name (up to 63
 *       bytes);
 *   the first wait on a monitor  OBJECT_NAME "<class>#<n>" for it.
 * A monitor's key is bit 62 | its JVMTI tag (tags are given in order of
 * first contention, under a raw monitor: once per object). While a Java
 * wait is open the thread's wait_frame is UINTPTR_MAX: the pthread waits
 * HotSpot makes underneath (its per-thread park events) pass through
 * unrecorded, the Java wait explains them.
 *
 * A program that starts a JVM itself through JNI_CreateJavaVM (linked
 * against libjvm) gets the same option added to its arguments.
 *
 * Not recorded: a park with no blocker (it stays a wait on HotSpot's
 * per-thread condition), JVMs of programs that find JNI_CreateJavaVM with
 * dlsym on libjvm's handle (they run without the Java view). A JVM that refuses
 * the agent or its capabilities runs as untraced; RUNTIME_NOTE says so.
 */
#ifndef WEFT_PRELOAD_JVM_H
#define WEFT_PRELOAD_JVM_H

#include <stdint.h>

/* The bit that marks a monitor key (event.h WEFT_CALL_JAVA_*). */
#define JVM_MONITOR_KEY (UINT64_C(1) << 62)

#endif
