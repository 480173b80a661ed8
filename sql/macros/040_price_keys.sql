-- price_keys: how a call is looked up in price_book: its price keys, call scope, batch
-- flag and price class.
-- params: none
-- grain: scalar macros, one value per call.
-- Price lookup keys: lower case, no ARN, no cross-region prefix, no ':N' suffix.
-- The loose key also drops a trailing -vN, for seed ids that omit the version.
CREATE OR REPLACE MACRO price_key(m) AS
    regexp_replace(
        regexp_replace(regexp_replace(lower(m), '^.*/', ''),
                       '^(global|us-gov|us|eu|apac|jp|au|ca|in|regional)\.', ''),
        ':\d+$', '');
CREATE OR REPLACE MACRO price_loose_key(m) AS regexp_replace(price_key(m), '-v\d+$', '');

-- Where a call was served: a global or geo (us., eu., ...) profile, else in-region.
CREATE OR REPLACE MACRO call_scope(profile) AS
    CASE WHEN regexp_matches(lower(coalesce(profile, '')), '(^|/)global\.') THEN 'global'
         WHEN regexp_matches(lower(coalesce(profile, '')),
                             '(^|/)(us-gov|us|eu|apac|jp|au|ca|in)\.') THEN 'geo'
         ELSE 'in_region' END;

-- Batch inference is billed at a discount; Bedrock names those operations *Batch*
-- (CreateModelInvocationJob results are logged with a batch operation name).
CREATE OR REPLACE MACRO is_batch(operation) AS coalesce(lower(operation) LIKE '%batch%', false);

-- Calls priced alike share a price class: same model, region, profile and operation.
CREATE OR REPLACE MACRO price_class(model, region, profile, operation) AS hash(model, region, profile, operation);
