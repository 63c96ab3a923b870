/* Interim: replaced by the real command in the next commits. */
#include "config.h"
#include "cli.h"
int
cmd_verify(struct cli *cli, int argc, char **argv)
{
    (void)cli, (void)argc, (void)argv;
    cli_error("verify: not built yet");
    return CLI_USAGE;
}
