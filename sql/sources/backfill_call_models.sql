-- backfill_call_models: a profile that resolves late gives its model to the calls stored
-- while it was unknown, with a new write_seq so the rollups re-price their windows.
-- params: $1 = model, $2 = inference profile
UPDATE llm_calls SET model = ?, write_seq = nextval('llm_calls_write_seq')
WHERE inference_profile = ? AND model IS NULL
