# src/core.mk: the sources of the revision-graph core, relative to src/.
#
# Included by the top Makefile (the extension's OBJS, the unit tests, the
# fuzz replays) and by src/bin/pg_migrate/Makefile (the client).  The core
# has no server dependencies; its public header is mg_core.h and its files
# share the private header mg_core_int.h.

CORE_SRCS = mg_alloc.c mg_graph.c mg_walk.c mg_labels.c mg_target.c \
	mg_toposort.c mg_plan.c mg_listing.c mg_split.c
CORE_OBJS = $(CORE_SRCS:.c=.o)
CORE_HDRS = mg_core.h mg_core_int.h mg_split.h
