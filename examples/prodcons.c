/*
 * weft-demo-prodcons - shared memory: a bounded buffer guarded by one mutex
 * and two condition variables (not_full, not_empty).
 *
 *   weft-demo-prodcons [--producers 3] [--consumers 2] [--items 300] [--slots 4]
 *
 * Producers ("producer-N") put numbered items into a small ring buffer;
 * consumers ("consumer-N") take them out and do some CPU work on each.
 * Consumers are slower than producers, so the buffer is usually full.
 *
 * What to see in the timeline: producers Blocked with reason 'cond' (waiting
 * on not_full) for long stretches, woken by a consumer's signal (arrows
 * consumer -> producer); short Blocked 'mutex' spans when two threads reach
 * the buffer lock at once, with the holder named; the lock_contention view
 * lists the mutex and both condition variables. Each consumer may take a
 * different number of items from run to run; the program prints only what
 * does not depend on scheduling (the totals). Well under 1 s.
 */
#include "demo.h"

#include <pthread.h>

enum { MAX_THREADS = 32, MAX_SLOTS = 1024 };

struct buffer {
	pthread_mutex_t lock;
	pthread_cond_t not_full;
	pthread_cond_t not_empty;
	long slot[MAX_SLOTS];
	int slots, head, count;
	int producers_left; /* consumers stop when 0 and the buffer is empty */
};

static struct buffer buffer = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .not_full = PTHREAD_COND_INITIALIZER,
    .not_empty = PTHREAD_COND_INITIALIZER,
};
static int items_per_producer = 300;

struct worker {
	pthread_t thread;
	int index;
	long taken, sum; /* consumers: items taken and the sum of their values */
};

static void *producer_main(void *arg)
{
	struct worker *me = arg;
	char name[16];
	snprintf(name, sizeof name, "producer-%d", me->index);
	pthread_setname_np(pthread_self(), name);

	for (int k = 0; k < items_per_producer; k++) {
		long item = (long)me->index * 100000 + k;
		demo_spin((uint64_t)item + 1, 20000); /* making the item */
		pthread_mutex_lock(&buffer.lock);
		while (buffer.count == buffer.slots)
			pthread_cond_wait(&buffer.not_full, &buffer.lock);
		buffer.slot[(buffer.head + buffer.count) % buffer.slots] = item;
		buffer.count++;
		pthread_cond_signal(&buffer.not_empty);
		pthread_mutex_unlock(&buffer.lock);
	}

	pthread_mutex_lock(&buffer.lock);
	if (--buffer.producers_left == 0)
		pthread_cond_broadcast(&buffer.not_empty);
	pthread_mutex_unlock(&buffer.lock);
	return NULL;
}

static void *consumer_main(void *arg)
{
	struct worker *me = arg;
	char name[16];
	snprintf(name, sizeof name, "consumer-%d", me->index);
	pthread_setname_np(pthread_self(), name);

	for (;;) {
		pthread_mutex_lock(&buffer.lock);
		while (buffer.count == 0 && buffer.producers_left > 0)
			pthread_cond_wait(&buffer.not_empty, &buffer.lock);
		if (buffer.count == 0) { /* producers done, buffer drained */
			pthread_mutex_unlock(&buffer.lock);
			return NULL;
		}
		long item = buffer.slot[buffer.head];
		buffer.head = (buffer.head + 1) % buffer.slots;
		buffer.count--;
		pthread_cond_signal(&buffer.not_full);
		pthread_mutex_unlock(&buffer.lock);

		demo_spin((uint64_t)item + 7, 150000); /* using the item */
		me->taken++;
		me->sum += item;
	}
}

int main(int argc, char **argv)
{
	int producers = 3, consumers = 2, slots = 4;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--producers") == 0)
			producers = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--consumers") == 0)
			consumers = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--items") == 0)
			items_per_producer = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--slots") == 0)
			slots = atoi(argv[i + 1]);
	}
	if (producers < 1 || consumers < 1 || producers + consumers > MAX_THREADS || slots < 1 ||
	    slots > MAX_SLOTS || items_per_producer < 0) {
		fprintf(stderr, "usage: weft-demo-prodcons [--producers N] [--consumers N] "
				"[--items N] [--slots 1..1024]\n");
		return 2;
	}
	buffer.slots = slots;
	buffer.producers_left = producers;

	struct worker producer[MAX_THREADS] = {0}, consumer[MAX_THREADS] = {0};
	for (int i = 0; i < consumers; i++) {
		consumer[i].index = i;
		int err = pthread_create(&consumer[i].thread, NULL, consumer_main, &consumer[i]);
		if (err)
			demo_die("pthread_create", err);
	}
	for (int i = 0; i < producers; i++) {
		producer[i].index = i;
		int err = pthread_create(&producer[i].thread, NULL, producer_main, &producer[i]);
		if (err)
			demo_die("pthread_create", err);
	}
	for (int i = 0; i < producers; i++)
		pthread_join(producer[i].thread, NULL);
	long taken = 0, sum = 0;
	for (int i = 0; i < consumers; i++) {
		pthread_join(consumer[i].thread, NULL);
		taken += consumer[i].taken;
		sum += consumer[i].sum;
	}
	printf("%d producers made %ld items, %d consumers took %ld, sum %ld\n", producers,
	       (long)producers * items_per_producer, consumers, taken, sum);
	return taken == (long)producers * items_per_producer ? 0 : 1;
}
