/*
 * title.c — see title.h. forked is set in a fork child (its image is its
 * parent's, argv area included) and read at its exit; an exec starts a new
 * image with it clear.
 */
#include "title.h"

#include "cmdline.h"
#include "preload.h"

static volatile int forked;

void title_note_fork(void)
{
	forked = 1;
}

void title_at_exit(struct preload_thread *t)
{
	if (!forked)
		return;
	char raw[WEFT_PAYLOAD_MAX], argv[WEFT_PAYLOAD_MAX];
	long n = cmdline_read_file("/proc/self/cmdline", raw, sizeof raw);
	size_t len = n > 0 ? cmdline_pack(raw, (size_t)n, argv, sizeof argv) : 0;
	if (!len || !t->writer.slot)
		return;
	preload_write_begin(t);
	emit_record_payload(&t->writer, WEFT_EV_PROC_TITLE, 0, 0, emit_now(), 0, 0, argv,
			    (uint32_t)len);
	preload_write_end(t);
}
