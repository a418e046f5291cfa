/*
 * test_preload_early_prog.c — a program linked with test_preload_early_lib
 * (whose constructor runs threads before libweft.so's constructor). Exits
 * 0 when the constructor's thread ran.
 */
extern int early_value;

int main(void)
{
	return early_value == 1 ? 0 : 1;
}
