/*
 * fuzz_replay.c - a main for a libFuzzer target of fuzz/ in the normal
 * build (SECURITY 35): every file of the directories named on the
 * command line is passed once to LLVMFuzzerTestOneInput, as libFuzzer
 * does with files it is given.  A target aborts when an invariant breaks;
 * in ./dev sanitize, ASan and UBSan watch each run.  Prints "N inputs".
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Only some targets have one. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* The whole file at path in a buffer of exactly its size (ASan sees any
 * read past the end); NULL when it cannot be read. */
static uint8_t *
slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc(n ? (size_t)n : 1)) &&
        fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf != NULL)
        *size = (size_t)n;
    fclose(f);
    return buf;
}

/* Replay every regular file of dir; -1 when something cannot be read. */
static long
replay_dir(const char *dir)
{
    char path[4096];
    struct dirent *de;
    DIR *d = opendir(dir);
    uint8_t *data;
    size_t size;
    long n = 0;

    if (d == NULL)
        return -1;
    while (n >= 0 && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if ((data = slurp(path, &size)) == NULL) {
            n = -1;
            break;
        }
        LLVMFuzzerTestOneInput(data, size);
        free(data);
        n++;
    }
    closedir(d);
    return n;
}

int
main(int argc, char **argv)
{
    long total = 0, n;
    int i;

    if (LLVMFuzzerInitialize != NULL)
        LLVMFuzzerInitialize(&argc, &argv);
    for (i = 1; i < argc; i++) {
        if ((n = replay_dir(argv[i])) < 0) {
            fprintf(stderr, "fuzz_replay: cannot read %s\n", argv[i]);
            return 2;
        }
        total += n;
    }
    printf("%ld inputs\n", total);
    return 0;
}
