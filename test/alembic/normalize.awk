# Normalizes a replay transcript for comparison (used by
# test/unit/run_replay.sh and test/alembic/replay_sql.sh):
#   - commands listed for this fixture in the divergences file are dropped,
#     with their output;
#   - an error line compares as "error" (messages differ by design);
#   - empty lines are dropped.
# Variables: fixture (the fixture's name), divfile (test/alembic/divergences).
BEGIN {
    FS = "\t"
    while ((getline line < divfile) > 0) {
        if (line ~ /^#/ || line == "") continue
        split(line, f, "\t")
        skip[f[1] "\t" f[2]] = 1
    }
    FS = " "
}
/^> / { cmd = substr($0, 3); dropping = ((fixture "\t" cmd) in skip) }
dropping { next }
/^$/ { next }
/^error/ { print "error"; next }
{ print }
