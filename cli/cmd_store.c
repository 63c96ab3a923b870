/* Interim: replaced by the real commands in the next commits. */
#include "config.h"
#include "cli.h"
int
cmd_init(struct cli *cli, int argc, char **argv)
{
    (void)cli, (void)argc, (void)argv;
    cli_error("not built yet");
    return CLI_USAGE;
}
int
cmd_revoke(struct cli *cli, int argc, char **argv)
{
    (void)cli, (void)argc, (void)argv;
    cli_error("not built yet");
    return CLI_USAGE;
}
int
cmd_revoke_subject(struct cli *cli, int argc, char **argv)
{
    (void)cli, (void)argc, (void)argv;
    cli_error("not built yet");
    return CLI_USAGE;
}
int
cmd_revoke_key(struct cli *cli, int argc, char **argv)
{
    (void)cli, (void)argc, (void)argv;
    cli_error("not built yet");
    return CLI_USAGE;
}
int
cmd_unrevoke(struct cli *cli, int argc, char **argv)
{
    (void)cli, (void)argc, (void)argv;
    cli_error("not built yet");
    return CLI_USAGE;
}
int
cmd_status(struct cli *cli, int argc, char **argv)
{
    (void)cli, (void)argc, (void)argv;
    cli_error("not built yet");
    return CLI_USAGE;
}
int
cmd_list(struct cli *cli, int argc, char **argv)
{
    (void)cli, (void)argc, (void)argv;
    cli_error("not built yet");
    return CLI_USAGE;
}
int
cmd_stats(struct cli *cli, int argc, char **argv)
{
    (void)cli, (void)argc, (void)argv;
    cli_error("not built yet");
    return CLI_USAGE;
}
int
cmd_purge(struct cli *cli, int argc, char **argv)
{
    (void)cli, (void)argc, (void)argv;
    cli_error("not built yet");
    return CLI_USAGE;
}
int
cmd_compact(struct cli *cli, int argc, char **argv)
{
    (void)cli, (void)argc, (void)argv;
    cli_error("not built yet");
    return CLI_USAGE;
}
int
cmd_dump(struct cli *cli, int argc, char **argv)
{
    (void)cli, (void)argc, (void)argv;
    cli_error("not built yet");
    return CLI_USAGE;
}
int
cmd_load(struct cli *cli, int argc, char **argv)
{
    (void)cli, (void)argc, (void)argv;
    cli_error("not built yet");
    return CLI_USAGE;
}
