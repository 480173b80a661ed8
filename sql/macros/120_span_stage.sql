-- span_stage: the stage of the request path one span belongs to (retrieval, prompt,
-- inference, ...), from the [stages] settings (core/settings.py StagesSettings), which the
-- read API binds as two parallel lists in priority order: `names[i]` is the stage of
-- `patterns[i]` (lower-case globs). The first pattern matching the lower-cased span name
-- wins; else an LLM call is `llm_stage`; else NULL (no stage). A top-level span is the
-- request itself (`POST /api/search`), so it is never matched by name, only as an LLM call.
-- Arguments: span_name, is_llm = the span became an llm_calls row, is_top = no parent in the
-- trace's spans, names, patterns, llm_stage.
-- params: none
-- grain: scalar macro, one value per span.
CREATE OR REPLACE MACRO span_stage(span_name, is_llm, is_top, names, patterns, llm_stage) AS
    CASE WHEN is_top AND NOT is_llm THEN NULL
         ELSE coalesce(names[list_position(list_transform(patterns, lambda p: lower(span_name) GLOB p), true)],
                       CASE WHEN is_llm THEN llm_stage END)
    END;
