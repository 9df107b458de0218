/* migrations--0.1--0.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION migrations UPDATE TO '0.2'" to load this file. \quit

-- Version 0.2: hardening (the catalog changes only through the extension's
-- functions; the history survives DROP EXTENSION only when asked to go).
