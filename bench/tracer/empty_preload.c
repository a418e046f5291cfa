/*
 * An empty shared library: preloaded (LD_PRELOAD) it measures what loading
 * any preloaded library costs a program, the floor under libweft.so.
 */
void weft_bench_empty_preload(void);
void weft_bench_empty_preload(void)
{
}
