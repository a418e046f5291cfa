/*
 * model_retire.c — freeing the entries of threads that are gone, so that
 * the collector's memory follows what is live rather than how long it
 * has recorded (a server that starts a thread per request would otherwise
 * grow by an entry, and its span builder, per request).
 *
 * An ended thread (model_thread_finish_row) joins `retiring`, a FIFO in
 * the order threads ended. model_retire, called with the collector's
 * horizon (no record older than it is still to come), frees those that
 * ended MODEL_RETIRE_NS or more before it: their row is written and final,
 * their last span emitted, their lock waits over (model_lock_thread_end).
 * What may still name one: a late perf record or a join of its tid, which
 * then find no entry (a join that blocked ended within moments of the
 * thread, long before it is retired). Main threads are not retired: the
 * process's records find its main thread by pid until the process ends.
 *
 * Single-threaded, like the rest of the model.
 */
#include <stdlib.h>

#include "model_internal.h"
#include "span.h"
#include "table.h"

void model_retire_later(struct model *model, struct thread *t)
{
	if (t->is_main)
		return;
	t->retire_next = NULL;
	if (model->retiring_tail)
		model->retiring_tail->retire_next = t;
	else
		model->retiring = t;
	model->retiring_tail = t;
}

/* Unlink t from its process and the lookup table, and free it. */
static void release(struct model *model, struct thread *t)
{
	struct process *p = t->process;
	struct thread **link = &p->threads;
	while (*link && *link != t)
		link = &(*link)->next;
	if (*link)
		*link = t->next;
	/* a newer thread may have the tid now (and the table entry) */
	if (table_get(model->threads, p->token, t->tid) == t)
		table_remove(model->threads, p->token, t->tid);
	if (model->io_reader == t)
		model->io_reader = NULL;
	span_thread_release(t->spans);
	free(t);
	model->stats.threads_held--;
}

void model_retire(struct model *model, int64_t horizon)
{
	while (model->retiring && model->retiring->end_ts <= horizon - MODEL_RETIRE_NS) {
		struct thread *t = model->retiring;
		model->retiring = t->retire_next;
		if (!model->retiring)
			model->retiring_tail = NULL;
		release(model, t);
	}
}
