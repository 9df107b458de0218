/*-------------------------------------------------------------------------
 *
 * replay_main.c
 *	  A main() for the fuzz targets without libFuzzer: runs
 *	  LLVMFuzzerTestOneInput once on every file named on the command line,
 *	  and on every file of every directory named there (not recursively).
 *	  Built with gcc and ASan/UBSan it replays the seed corpus and the
 *	  regression inputs as part of the normal tests.
 *
 *	  usage: replay_TARGET FILE|DIR...
 *
 *-------------------------------------------------------------------------
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int	nfiles = 0;

static int
run_file(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	uint8_t    *buf;
	long		len;

	if (f == NULL)
	{
		perror(path);
		return 1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
	{
		perror(path);
		fclose(f);
		return 1;
	}
	/* exactly len bytes, so that ASan sees a read past the input */
	buf = malloc(len > 0 ? (size_t) len : 1);
	if (len > 0 && fread(buf, 1, (size_t) len, f) != (size_t) len)
	{
		perror(path);
		free(buf);
		fclose(f);
		return 1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t) len);
	free(buf);
	nfiles++;
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static int
run_dir(const char *dir)
{
	DIR		   *d = opendir(dir);
	struct dirent *de;
	char	  **names = NULL;
	int			n = 0,
				cap = 0,
				rc = 0;

	if (d == NULL)
	{
		perror(dir);
		return 1;
	}
	while ((de = readdir(d)) != NULL)
	{
		if (de->d_name[0] == '.')
			continue;
		if (n == cap)
		{
			cap = cap ? cap * 2 : 64;
			names = realloc(names, sizeof(char *) * (size_t) cap);
		}
		names[n] = malloc(strlen(dir) + strlen(de->d_name) + 2);
		sprintf(names[n], "%s/%s", dir, de->d_name);
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, (size_t) n, sizeof(char *), cmp_names);
	for (int i = 0; i < n; i++)
	{
		struct stat st;

		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
			rc |= run_file(names[i]);
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	int			rc = 0;

	if (argc < 2)
	{
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++)
	{
		struct stat st;

		if (stat(argv[i], &st) != 0)
		{
			perror(argv[i]);
			rc = 1;
		}
		else if (S_ISDIR(st.st_mode))
			rc |= run_dir(argv[i]);
		else
			rc |= run_file(argv[i]);
	}
	printf("%s: %d inputs replayed\n", argv[0], nfiles);
	return rc;
}
