-- newest_write: the largest write_seq written or deleted since the watermark, which the
-- run stores as its new watermark once it commits. Filtered on the watermark so that
-- row-group statistics skip everything already rolled up.
-- params: $since = the largest write_seq already rolled up, -1 before any run (BIGINT)
-- grain: one row (NULL when nothing was written since)
SELECT greatest((SELECT max(write_seq) FROM llm_calls WHERE write_seq > $since),
                (SELECT max(write_seq) FROM llm_call_deletions WHERE write_seq > $since))
