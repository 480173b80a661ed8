-- plausible_calls: the token counts rollups and cost queries trust (0005_token_bound).
-- The bound in force is the one the last rollup run applied, kept in `watermarks` under
-- 'rollup.max_tokens_per_call' (analytics/rollups.py; a new bound rewrites every
-- window); before any run it is the documented default (ingest.max_tokens_per_call in core/settings.py).
-- params: none
-- grain: one row per llm_calls row with ts in [lo, hi).
CREATE OR REPLACE MACRO token_bound() AS
    coalesce((SELECT TRY_CAST(value AS BIGINT) FROM watermarks
              WHERE name = 'rollup.max_tokens_per_call'), 100000000);

-- llm_calls with ts in [lo, hi), with `implausible_tokens` set and every count NULL when
-- any count is negative or above token_bound(): one garbage count makes the call's whole
-- usage suspect, and a partial count would understate its cost without saying so.
CREATE OR REPLACE MACRO plausible_calls(lo, hi) AS TABLE
SELECT * REPLACE (
           CASE WHEN implausible_tokens THEN NULL ELSE input_tokens END AS input_tokens,
           CASE WHEN implausible_tokens THEN NULL ELSE cache_read_tokens END AS cache_read_tokens,
           CASE WHEN implausible_tokens THEN NULL ELSE cache_write_tokens END AS cache_write_tokens,
           CASE WHEN implausible_tokens THEN NULL ELSE output_tokens END AS output_tokens,
           CASE WHEN implausible_tokens THEN NULL ELSE reasoning_tokens END AS reasoning_tokens,
           CASE WHEN implausible_tokens THEN NULL ELSE otps END AS otps)
FROM (SELECT *,
             -- least/greatest skip NULLs; a call with no counts at all is plausible
             coalesce(least(input_tokens, cache_read_tokens, cache_write_tokens, output_tokens,
                            reasoning_tokens) < 0
                      OR greatest(input_tokens, cache_read_tokens, cache_write_tokens,
                                  output_tokens, reasoning_tokens) > token_bound(),
                      false) AS implausible_tokens
      FROM llm_calls WHERE ts >= lo AND ts < hi);
