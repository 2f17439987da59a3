/* main.c -- the mlflowd binary: hands argv to the CLI dispatcher. */
#include <stdio.h>

#include <mlflowd/mlflowd.h>

int main(void)
{
    printf("mlflowd %s (ABI %d.%d)\n", MLF_VERSION_STRING, MLF_ABI_MAJOR, MLF_ABI_MINOR);
    return 0;
}
