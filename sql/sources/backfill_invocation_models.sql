-- backfill_invocation_models: a profile that resolves late gives its model to the
-- invocation logs stored while it was unknown.
-- params: $1 = model, $2 = inference profile
UPDATE bedrock_invocations SET model = ? WHERE inference_profile = ? AND model IS NULL
