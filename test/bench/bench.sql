-- Helpers that make bench creates in each database it measures planning in
-- (schema bench, beside the extension; never part of the extension).

CREATE SCHEMA bench;

-- A field of the backend's /proc/self/status, in kB (VmRSS, VmHWM, RssShmem).
CREATE FUNCTION bench.vm(key text) RETURNS bigint
LANGUAGE sql AS $$
    SELECT (pg_catalog.regexp_match(pg_catalog.pg_read_file('/proc/self/status'),
                                    key || ':\s+(\d+) kB'))[1]::bigint
$$;

-- Run one statement and return its server-side time and the backend's peak
-- memory growth while it ran:
--   ms       clock_timestamp() around EXECUTE q (parse, plan and run, all rows)
--   peak_kb  VmHWM after q (the high-water mark was reset to the current RSS
--            just before, by writing 5 to /proc/self/clear_refs) minus VmRSS
--            before q, minus the growth of RssShmem (shared buffers the
--            backend mapped for the first time: the catalog pages it read,
--            which are shared memory, not the backend's own)
CREATE FUNCTION bench.measure(q text,
                              OUT ms float8, OUT peak_kb bigint,
                              OUT rss0_kb bigint, OUT hwm_kb bigint,
                              OUT shm0_kb bigint, OUT shm1_kb bigint)
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    t1 timestamptz;
BEGIN
    EXECUTE 'COPY (SELECT 5) TO ''/proc/self/clear_refs''';
    rss0_kb := bench.vm('VmRSS');
    shm0_kb := bench.vm('RssShmem');
    t0 := pg_catalog.clock_timestamp();
    EXECUTE q;
    t1 := pg_catalog.clock_timestamp();
    hwm_kb := bench.vm('VmHWM');
    shm1_kb := bench.vm('RssShmem');
    ms := 1000 * pg_catalog.date_part('epoch', t1 - t0);
    peak_kb := hwm_kb - rss0_kb - (shm1_kb - shm0_kb);
END
$$;

-- For profiling: run q n times.
CREATE FUNCTION bench.loop(q text, n int) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. n LOOP
        EXECUTE q;
    END LOOP;
END
$$;
