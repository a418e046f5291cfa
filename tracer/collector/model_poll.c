/*
 * model_poll.c — the model's readiness waits (poll, ppoll, select,
 * pselect, epoll_wait, epoll_pwait): what each waits on, what each epoll
 * instance watches, and which fd a wait returned ready (event.h: the
 * BLOCK_BEGIN/END of reason POLL and EPOLL_CTL; schema: epoll_watch,
 * poll_ready).
 *
 * An epoll instance is an object of kind 'epoll', keyed by its process and
 * fd. EPOLL_CTL ADD records which fd was added with which data word in
 * epoll_data ((upid << 32 | epfd, data) -> fd + 1), so that the data word
 * an epoll wait returns names its fd again. A data word added again
 * replaces the fd it named; entries stay until the model is freed (a
 * server reuses its connection structures, so their number follows the
 * connections open at once, not how many there were). Single-threaded:
 * the collector's model calls everything.
 */
#include <errno.h>
#include <stdio.h>

#include "model_internal.h"
#include "table.h"
#include "tracedb.h"

#define EPOLL_KEY (UINT64_MAX - 2) /* beside model_ipc.c's pipe and socket keys */

static uint64_t epoll_key(const struct process *p, uint64_t epfd)
{
	return (uint64_t)p->upid << 32 | (epfd & 0xffffffffu);
}

/* The epoll object of epfd in p, made on first use. -1 on failure. */
static int64_t epoll_object(struct model *model, struct process *p, uint64_t epfd)
{
	uint64_t key = epoll_key(p, epfd);
	void *found = table_get(model->objects, EPOLL_KEY, key);
	if (found)
		return (int64_t)(intptr_t)found;
	int64_t id = model->next_object_id++;
	char label[48];
	snprintf(label, sizeof label, "epoll fd %llu", (unsigned long long)(epfd & 0xffffffffu));
	model_fail(model, tracedb_object_insert(model->db, id, "epoll", p->upid,
						(int64_t)(epfd & 0xffffffffu), label));
	model_fail(model, table_put(model->objects, EPOLL_KEY, key, (void *)(intptr_t)id));
	return id;
}

static bool fd_valid(uint64_t fd)
{
	return fd <= 0x7fffffffu;
}

int64_t model_poll_object(struct model *model, struct process *p, const struct weft_event *event)
{
	if (!fd_valid(event->a))
		return -1;
	if (event->call == WEFT_CALL_EPOLL_WAIT)
		return epoll_object(model, p, event->a);
	return model_ipc_fd_object(model, p, event->a);
}

void model_poll_ctl(struct model *model, struct process *p, const struct weft_event *event)
{
	uint64_t epfd = event->a >> 32, fd = event->a & 0xffffffffu;
	if (!fd_valid(epfd) || !fd_valid(fd) || (event->reason != 1 && event->reason != 2))
		return;
	int64_t epoll = epoll_object(model, p, epfd);
	int64_t watched = model_ipc_fd_object(model, p, fd);
	model_fail(model,
		   tracedb_epoll_watch(model->db, epoll, (int64_t)event->ts,
				       event->reason == 1 ? "add" : "del", (int64_t)fd, watched));
	if (event->reason == 1)
		model_fail(model, table_put(model->epoll_data, epoll_key(p, epfd), event->b,
					    (void *)(uintptr_t)(fd + 1)));
}

void model_poll_ready(struct model *model, struct process *p, struct thread *t,
		      const struct weft_event *event)
{
	uint64_t fd = event->a;
	if (event->call == WEFT_CALL_EPOLL_WAIT) {
		uintptr_t found = (uintptr_t)table_get(model->epoll_data,
						       epoll_key(p, t->call_address), event->a);
		fd = found ? found - 1 : UINT64_MAX;
	}
	int64_t object = fd_valid(fd) ? model_ipc_fd_object(model, p, fd) : -1;
	model_fail(model, tracedb_poll_ready(model->db, t->utid, (int64_t)event->ts, object,
					     (int64_t)event->b));
}
