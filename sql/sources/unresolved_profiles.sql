-- unresolved_profiles: the inference profiles whose model is unknown, and why; their
-- calls stay unpriced.
-- params: none
-- grain: one row per unresolved profile
SELECT profile, error FROM inference_profiles WHERE status = 'unresolved' ORDER BY 1
