-- 0009_read_time_cost: on-demand cost is computed when a rollup is read, not when it is
-- written, so a changed price shows in every report at once and needs no rebuild
-- (docs/cost.md, "Cost at read time"). The count tables keep token sums per price class
-- (the model, region, inference profile and operation a price depends on); reads multiply
-- them by rollup_rates, the rate of each class over each price interval. Provisioned
-- Throughput hours are shared by the tokens they served, which a read cannot know from
-- one bucket, so their calls keep a cost fixed at rollup time. The first rollup run after
-- this migration rewrites every window (a provisioned fingerprint it has never stored).
-- params: none

-- Cost fixed at rollup time: Provisioned Throughput calls only (price_class NULL).
ALTER TABLE rollup_counts_1m RENAME COLUMN cost_usd TO provisioned_cost_usd;
ALTER TABLE rollup_counts_1h RENAME COLUMN cost_usd TO provisioned_cost_usd;
ALTER TABLE rollup_counts_1d RENAME COLUMN cost_usd TO provisioned_cost_usd;
-- Calls whose cost is unknown whatever the prices: implausible token counts (0005).
ALTER TABLE rollup_counts_1m RENAME COLUMN unpriced_requests TO implausible_requests;
ALTER TABLE rollup_counts_1h RENAME COLUMN unpriced_requests TO implausible_requests;
ALTER TABLE rollup_counts_1d RENAME COLUMN unpriced_requests TO implausible_requests;
-- rollup_price_classes.pclass of the row's calls; NULL for calls served by Provisioned Throughput.
ALTER TABLE rollup_counts_1m ADD COLUMN price_class UBIGINT;
ALTER TABLE rollup_counts_1h ADD COLUMN price_class UBIGINT;
ALTER TABLE rollup_counts_1d ADD COLUMN price_class UBIGINT;

-- Every price class rolled up: what a call's price depends on besides its time, with the
-- lookups of sql/macros/040_price_keys.sql done once per class.
CREATE TABLE rollup_price_classes (
    pclass                  UBIGINT PRIMARY KEY, -- price_class(model, region, inference_profile, operation)
    model                   VARCHAR,
    region                  VARCHAR,
    inference_profile       VARCHAR,
    operation               VARCHAR,
    pk                      VARCHAR,             -- price_key(model)
    plk                     VARCHAR,             -- price_loose_key(model)
    scope                   VARCHAR NOT NULL,    -- call_scope(inference_profile)
    batch                   BOOLEAN NOT NULL     -- is_batch(operation)
);

-- The on-demand rates of every price class over each interval of price_book (exact price
-- key first, else the loose key), batch discount applied. Rebuilt from price_book whenever
-- prices or the classes change; no interval means the class is unpriced then.
CREATE TABLE rollup_rates (
    pclass                  UBIGINT NOT NULL,    -- rollup_price_classes.pclass
    lo                      TIMESTAMP NOT NULL,
    hi                      TIMESTAMP NOT NULL,  -- exclusive
    input_rate              DOUBLE NOT NULL,     -- USD per token, multiplier and batch discount applied
    cache_read_rate         DOUBLE NOT NULL,
    cache_write_rate        DOUBLE NOT NULL,
    output_rate             DOUBLE NOT NULL,
    source                  VARCHAR NOT NULL
);
