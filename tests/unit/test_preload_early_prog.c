/*
 * test_preload_early_prog.c — a program linked with test_preload_early_lib
 * (whose constructor runs threads before libweft.so's constructor). Exits
 * 0 when the constructor's thread ran, 2 when it ran but the constructor's
 * first call into libweft.so changed errno.
 */
extern int early_value;
extern int early_errno_kept;

int main(void)
{
	if (early_value != 1)
		return 1;
	return early_errno_kept ? 0 : 2;
}
