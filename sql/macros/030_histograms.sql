-- histograms: the log-scale bins of the mergeable histograms, a bin's value and the
-- interpolated value at a fractional rank.
-- params: none
-- grain: scalar macros.
-- Log-scale histogram bucket: bin i holds (1.04^(i-1), 1.04^i]. Reporting a bin as
-- 2*1.04^i/2.04 is within (1.04-1)/(1.04+1) = 1.96% of every value in it (DDSketch).
-- Values <= 0 go to a sentinel bin (the SMALLINT minimum) that reads back as 0.
CREATE OR REPLACE MACRO hist_bin(x) AS
    CASE WHEN x IS NULL THEN NULL
         WHEN x <= 1e-9 THEN -32768
         ELSE ceil(ln(x) / ln(1.04)) END::SMALLINT;
CREATE OR REPLACE MACRO hist_value(i) AS
    CASE WHEN i = -32768 THEN 0.0 ELSE 2.0 * pow(1.04, i) / 2.04 END;
-- Value at fractional rank r, given the bins of ranks floor(r) and floor(r)+1.
CREATE OR REPLACE MACRO hist_quantile(bin_lo, bin_hi, r) AS
    hist_value(bin_lo) + (r - floor(r)) * (hist_value(coalesce(bin_hi, bin_lo)) - hist_value(bin_lo));
