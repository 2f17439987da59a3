/* main.c -- the mlflowd binary: hands argv to the CLI dispatcher. */
#include "cli/cli.h"

int main(int argc, char **argv)
{
    return mlf_cli_main(argc, argv);
}
