/* Interim: replaced by the real command in the next commits. */
#include "config.h"
#include "cli.h"
int
cmd_sign(struct cli *cli, int argc, char **argv)
{
    (void)cli, (void)argc, (void)argv;
    cli_error("sign: not built yet");
    return CLI_USAGE;
}
