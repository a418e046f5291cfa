/*
 * weft-itest-static - a statically linked program: LD_PRELOAD cannot load
 * anything into it, so the recorder knows only its life cycle (start, end,
 * exit status; traced = 0). Prints a line and exits 4.
 */
#include <stdio.h>

int main(void)
{
	printf("static hello\n");
	return 4;
}
