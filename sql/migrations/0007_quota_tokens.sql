-- 0007_quota_tokens: tokens as Bedrock counts them against its per-minute quotas.
-- A request's quota tokens are input + cache write + output x the model's output burndown
-- rate (cache reads do not count against Bedrock's quotas), so a minute's quota TPM is not
-- its raw TPM. The rates the rollups were written with are kept in rollup_burndown, synced
-- from capacity.output_burndown at each rollup run (analytics/capacity.py); a change, or
-- the first run after this migration, rewrites every window (docs/capacity.md).
-- params: none

-- Output burndown rates by foundation-model id prefix (geo prefix such as `us.` removed;
-- the longest matching prefix wins, a model matching none counts its output once).
CREATE TABLE rollup_burndown (
    model_prefix            VARCHAR PRIMARY KEY,
    rate                    DOUBLE NOT NULL
);

-- NULL until the first rollup run after this migration rewrites the row.
ALTER TABLE rollup_capacity_1m ADD COLUMN quota_tokens BIGINT;
ALTER TABLE rollup_peaks_1d ADD COLUMN peak_quota_tpm BIGINT;
