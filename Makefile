# Makefile for the migrations extension (PGXS)

EXTENSION = migrations
MODULE_big = migrations

# CORE_SRCS, CORE_OBJS, CORE_HDRS: the revision-graph core, relative to src/
include $(dir $(lastword $(MAKEFILE_LIST)))src/core.mk
CORE_SRC_PATHS = $(addprefix src/,$(CORE_SRCS))
CORE_HDR_PATHS = $(addprefix src/,$(CORE_HDRS))

OBJS = src/migrations.o src/mg_register.o src/mg_run.o src/mg_catalog.o \
	src/mg_catalog_read.o src/mg_execute.o src/mg_guard.o \
	$(addprefix src/,$(CORE_OBJS))
# issue 12: schema snapshot (catalog reading), model parsing, the pure diff
OBJS += src/mg_snapshot.o src/mg_schema_model.o src/mg_diff.o
# issue 12, item 5: migrate_roundtrip (upgrade, downgrade, compare; rolled back)
OBJS += src/mg_roundtrip.o
# issue 15, items 5 and 9: body checksums, provenance, the graph check at commit
OBJS += src/mg_provenance.o
# issue 13, item 5: alembic_version kept in step with migrate_version
OBJS += src/mg_alembic_version.o
# issue 14: the stepwise procedures (a commit after each revision)
OBJS += src/mg_stepwise.o
DATA = sql/migrations--0.1.sql sql/migrations--0.2.sql sql/migrations--0.1--0.2.sql
DATA += sql/migrations--0.3.sql sql/migrations--0.2--0.3.sql
DATA += sql/migrations--0.4.sql sql/migrations--0.3--0.4.sql
PGFILEDESC = "migrations - schema migrations inside the database"

PG_CPPFLAGS = -I$(srcdir)/src
# -Wextra; PostgreSQL's own headers (ilist.h, bufpage.h) have unused parameters
PG_CFLAGS = -Wextra -Wno-unused-parameter

REGRESS = setup register graph_errors targets upgrade downgrade stamp \
	listings execution invenio privileges catalog_guard register_cost graph_cache search_path \
	core_limits hardening_exec lock_timeout_guc drop_guard
REGRESS += schema_diff
REGRESS += roundtrip
REGRESS_OPTS = --load-extension=plpgsql

ISOLATION = concurrent_upgrade concurrent_downgrade concurrent_stamp concurrent_register concurrent_three concurrent_serializable concurrent_snapshot concurrent_drop concurrent_graph_cache
ISOLATION_OPTS = --inputdir=$(srcdir)/test/isolation

EXTRA_CLEAN = test/unit/mg_replay test/unit/test_core test/unit/test_diff test/unit/test_revfile test/unit/test_split test/unit/results \
	test/isolation/output_iso test/fuzz/build

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

ifeq ($(wildcard $(PGXS)),)
# The server development files are missing: install them (as root), then
# run the requested target again.
.DEFAULT_GOAL := all
all install installcheck test demo unittest fuzz bench:
	bash $(CURDIR)/test/install-deps.sh
	$(MAKE) $@
else
include $(PGXS)

# PGXS tracks no header dependencies: an object built against an older
# struct layout would still link
$(OBJS): $(CORE_HDR_PATHS) src/mg_backend.h src/mg_catalog_int.h src/mg_schema.h

# The client, pg_migrate: built and installed with the extension.  Debian
# keeps PostgreSQL's bindir off PATH, so install also links the program
# into PG_MIGRATE_LINKDIR (empty: no link).
PG_MIGRATE_LINKDIR ?= /usr/local/bin

all: pg_migrate-bin

pg_migrate-bin:
	$(MAKE) --no-print-directory -C src/bin/pg_migrate PG_CONFIG=$(PG_CONFIG)

install: install-pg_migrate

install-pg_migrate: pg_migrate-bin
	$(MAKE) --no-print-directory -C src/bin/pg_migrate PG_CONFIG=$(PG_CONFIG) install
ifneq ($(PG_MIGRATE_LINKDIR),)
	@if [ "$(bindir)" != "$(PG_MIGRATE_LINKDIR)" ]; then \
		$(MKDIR_P) '$(DESTDIR)$(PG_MIGRATE_LINKDIR)' && \
		ln -sf '$(bindir)/pg_migrate' '$(DESTDIR)$(PG_MIGRATE_LINKDIR)/pg_migrate'; \
	fi
endif

# issue 16, item 7: pg_migrate's manual page, in PostgreSQL's man
# directory (pg_config --mandir, PGXS's mandir), beside psql's
install: install-man
install-man:
	$(MKDIR_P) '$(DESTDIR)$(mandir)/man1'
	$(INSTALL_DATA) $(srcdir)/doc/pg_migrate.1 '$(DESTDIR)$(mandir)/man1/pg_migrate.1'

uninstall: uninstall-pg_migrate uninstall-man

uninstall-man:
	rm -f '$(DESTDIR)$(mandir)/man1/pg_migrate.1'

uninstall-pg_migrate:
	$(MAKE) --no-print-directory -C src/bin/pg_migrate PG_CONFIG=$(PG_CONFIG) uninstall
ifneq ($(PG_MIGRATE_LINKDIR),)
	rm -f '$(DESTDIR)$(PG_MIGRATE_LINKDIR)/pg_migrate'
endif

clean: clean-pg_migrate

clean-pg_migrate:
	$(MAKE) --no-print-directory -C src/bin/pg_migrate PG_CONFIG=$(PG_CONFIG) clean

# Unit tests of the graph core: no server needed.  MG_CORE_ASSERTS turns
# on the core's internal assertions (MG_ASSERT in src/mg_core_int.h).
UNIT_CC ?= cc
UNIT_CFLAGS = -g -O1 -Wall -Wextra -Wno-format-truncation -fsanitize=address,undefined -fno-omit-frame-pointer -DMG_CORE_ASSERTS -I$(srcdir)/src

test/unit/mg_replay: test/unit/mg_replay.c $(CORE_SRC_PATHS) $(CORE_HDR_PATHS)
	$(UNIT_CC) $(UNIT_CFLAGS) -o $@ test/unit/mg_replay.c $(CORE_SRC_PATHS)

test/unit/test_core: test/unit/test_core.c test/unit/unit_check.h test/unit/ref_labels.h $(CORE_SRC_PATHS) $(CORE_HDR_PATHS)
	$(UNIT_CC) $(UNIT_CFLAGS) -o $@ test/unit/test_core.c $(CORE_SRC_PATHS)

# the core's SQL statement splitter (src/mg_split.c)
test/unit/test_split: test/unit/test_split.c test/unit/unit_check.h $(CORE_SRC_PATHS) $(CORE_HDR_PATHS)
	$(UNIT_CC) $(UNIT_CFLAGS) -o $@ test/unit/test_split.c $(CORE_SRC_PATHS)

# the client's revision-file parser (mg_revfile.c) and directory reader (mg_revdir.c)
REVFILE_C = src/bin/pg_migrate/mg_revfile.c src/bin/pg_migrate/mg_revdir.c
REVFILE_SRC = $(REVFILE_C) src/bin/pg_migrate/mg_revfile.h

test/unit/test_revfile: test/unit/test_revfile.c test/unit/unit_check.h $(REVFILE_SRC) $(CORE_SRC_PATHS) $(CORE_HDR_PATHS)
	$(UNIT_CC) $(UNIT_CFLAGS) -I$(srcdir)/src/bin/pg_migrate -o $@ test/unit/test_revfile.c $(REVFILE_C) $(CORE_SRC_PATHS)

# The fuzz targets' seed corpora and regression inputs, replayed without
# libFuzzer: each target built with a plain main() under ASan and UBSan.
FUZZ_TARGETS = revfile target graph alembic
FUZZ_REPLAY = $(patsubst %,test/fuzz/build/replay_%,$(FUZZ_TARGETS))
FUZZ_DEPS = test/fuzz/fuzz_common.h test/fuzz/replay_main.c $(CORE_SRC_PATHS) $(CORE_HDR_PATHS)

test/fuzz/build/replay_revfile: test/fuzz/fuzz_revfile.c $(FUZZ_DEPS) $(REVFILE_SRC)
	@mkdir -p $(@D)
	$(UNIT_CC) $(UNIT_CFLAGS) -fno-sanitize-recover=undefined -I$(srcdir)/src/bin/pg_migrate -o $@ $< test/fuzz/replay_main.c $(REVFILE_C) $(CORE_SRC_PATHS)

# issue 13, item 4: the reader of Alembic revision headers
ALEMBIC_C = src/bin/pg_migrate/mg_alembic.c
test/fuzz/build/replay_alembic: test/fuzz/fuzz_alembic.c $(FUZZ_DEPS) $(REVFILE_SRC) $(ALEMBIC_C) src/bin/pg_migrate/mg_alembic.h
	@mkdir -p $(@D)
	$(UNIT_CC) $(UNIT_CFLAGS) -fno-sanitize-recover=undefined -I$(srcdir)/src/bin/pg_migrate -o $@ $< test/fuzz/replay_main.c $(ALEMBIC_C) $(REVFILE_C) $(CORE_SRC_PATHS)

test/fuzz/build/replay_%: test/fuzz/fuzz_%.c test/fuzz/fuzz_graphs.h $(FUZZ_DEPS)
	@mkdir -p $(@D)
	$(UNIT_CC) $(UNIT_CFLAGS) -fno-sanitize-recover=undefined -o $@ $< test/fuzz/replay_main.c $(CORE_SRC_PATHS)

fuzzreplay: $(FUZZ_REPLAY)
	@for t in $(FUZZ_TARGETS); do \
		test/fuzz/build/replay_$$t $(srcdir)/test/fuzz/corpus/$$t \
			$$(ls -d $(srcdir)/test/fuzz/regress/$$t 2>/dev/null) || exit 1; \
	done

# the schema diff over models built by hand (issue 12, item 7)
test/unit/test_diff: test/unit/test_diff.c test/unit/unit_check.h src/mg_diff.c src/mg_schema.h
	$(UNIT_CC) $(UNIT_CFLAGS) -o $@ test/unit/test_diff.c src/mg_diff.c

unittest: test/unit/mg_replay test/unit/test_core test/unit/test_split test/unit/test_revfile test/unit/test_diff fuzzreplay
	test/unit/test_core
	test/unit/test_split
	test/unit/test_diff
	test/unit/test_revfile
	bash $(srcdir)/test/unit/run_replay.sh

# Everything: unit tests, then build, install and run the regression and
# isolation tests in a throwaway cluster.
test:
	bash $(srcdir)/test/run-tests.sh

demo:
	bash $(srcdir)/test/demo.sh

# libFuzzer targets (clang), each run for a bounded time; never part of test.
FUZZ_SECONDS ?= 60
fuzz:
	bash $(srcdir)/test/fuzz/run.sh $(FUZZ_SECONDS)

# Benchmarks against psql and Alembic; never part of test.
bench:
	bash $(srcdir)/test/bench/run.sh

.PHONY: install-man uninstall-man test demo unittest fuzzreplay fuzz bench pg_migrate-bin install-pg_migrate uninstall-pg_migrate clean-pg_migrate
endif
