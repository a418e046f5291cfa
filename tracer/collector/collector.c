/*
 * collector.c — weft/collector.h, over the ring file's format (ring.h).
 */
#include "weft/collector.h"

#include "ring.h"

bool collector_ring_ready(const char *shm_path)
{
	struct ring_map map;
	if (ring_file_attach(shm_path, &map) != 0)
		return false;
	ring_file_unmap(&map);
	return true;
}
