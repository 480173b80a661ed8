-- clock_window: whether `ts` falls in the `window_minutes` before the clock time of `hi` on
-- some day (the drift baseline's "same hours of the previous days"). A test on ts alone,
-- so the scan of the calls applies it before anything else is read. A window of a day or
-- more holds every clock time. The length is widened to BIGINT before it is multiplied
-- (60 minutes in microseconds overflows 32 bits).
-- Arguments: ts = the call's time, hi = the exclusive end of the windows, window_minutes = their length.
-- params: none
-- grain: scalar macro, one value per call.
CREATE OR REPLACE MACRO clock_window(ts, hi, window_minutes) AS
    window_minutes >= 1440
    OR (epoch_us(hi) - epoch_us(ts) - 1) % 86400000000 < window_minutes::BIGINT * 60000000;
