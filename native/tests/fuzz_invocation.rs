//! A bounded fuzz run of the invocation-log decoder: random and mutated JSON lines and gzip
//! bodies never panic, every line gets its row, and the memory one decode holds at its peak
//! stays within a fixed multiple of the input (for gzip, of the decompression bound).
//! Run by `cargo test --release` (a fixed seed, a fixed number of inputs and a time cap).

use std::io::Write;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use arrow_array::{Array, StringArray};
use flate2::write::GzEncoder;
use outcrop_native::invocation::{decode_lines, gunzip, Config, Inflate};

mod common;

use common::{mutate, Rng, CURRENT, PEAK, SERIAL};

/// Peak bytes held by one decode, per input byte, plus a fixed allowance: the batch's
/// builders reserve for a row per 512 input bytes and text columns beside them.
const PER_BYTE: usize = 16;
const FIXED: usize = 1 << 20;
/// Mutations: how long a repeated slice may grow a body, and the punctuation put in.
const MAX_LEN: usize = 1 << 17;
const TOKENS: &[u8] = b"{}[]\",:0\\\n";

fn config() -> Config {
    Config::new(1_000_000, 1 << 16, &[("metadata.tenant".into(), vec!["tenant".into(), "tenant_id".into()]),
                                      ("metadata.route".into(), vec!["route".into()])])
}

const LINES: &str = concat!(
    r#"{"schemaType":"ModelInvocationLog","timestamp":"2026-11-20T14:03:27.25+01:00","accountId":"111122223333","#,
    r#""identity":{"arn":"arn:aws:sts::1:assumed-role/a/b"},"region":"us-east-1","requestId":"r-1","operation":"Converse","#,
    r#""modelId":"us.anthropic.claude-3-5-haiku-20241022-v1:0","requestMetadata":{"tenant":"acme","route":"fast"},"#,
    r#""input":{"inputTokenCount":1000,"cacheReadInputTokenCount":"3000","inputBodyJson":{"messages":[{"content":"\u00e9"}]}},"#,
    r#""output":{"outputTokenCount":200.0,"outputBodyJson":{"stopReason":"end_turn","metrics":{"latencyMs":1850},"#,
    r#""choices":[{"finish_reason":"stop"}],"__type":"a#ThrottlingException"}}}"#, "\n",
    r#"{"requestId":"r-2","timestamp":1732111407000,"operation":"InvokeModelWithResponseStream","#,
    r#""output":{"outputBodyJson":[{"delta":{"stop_reason":"end_turn"}},{"metadata":{"metrics":{"latencyMs":9}}},"#,
    r#"{"throttlingException":{},"amazon-bedrock-invocationMetrics":{"invocationLatency":2300,"firstByteLatency":300}}]}}"#, "\n",
    "\n",
    r#"{"requestId":"r-3","timestamp":"2026-11-20T10:00:00Z","output":{"outputBodyS3Path":"s3://b/k"}}"#, "\n",
);

fn line_count(body: &[u8]) -> usize {
    let newlines = body.iter().filter(|b| **b == b'\n').count();
    newlines + usize::from(!body.is_empty() && !body.ends_with(b"\n"))
}

/// Decodes one body, checking its rows and the memory held at the peak.
fn decode_bounded(body: &[u8], cfg: &Config) -> usize {
    let before = CURRENT.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let batch = decode_lines(body, cfg).expect("a batch for any bytes");
    assert_eq!(batch.num_rows(), line_count(body));
    let status = batch.column_by_name("status").unwrap().as_any().downcast_ref::<StringArray>().unwrap();
    let ok = (0..status.len()).filter(|i| status.value(*i) == "ok").count();
    drop(batch);
    let held = PEAK.load(Ordering::Relaxed) - before;
    assert!(held <= PER_BYTE * body.len() + FIXED, "decoding {} bytes held {held} bytes at its peak", body.len());
    ok
}

#[test]
fn the_decoder_survives_mutated_lines_in_bounded_memory() {
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let cfg = config();
    // r-1, r-2 decided here; the blank line skipped; r-3's body is in S3 (deferred)
    assert_eq!(decode_bounded(LINES.as_bytes(), &cfg), 2);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let deadline = Instant::now() + Duration::from_secs(10);
    let (mut n, mut ok) = (0, 0);
    while n < 100_000 && Instant::now() < deadline {
        let body = if n % 10 == 0 {
            (0..rng.below(2048)).map(|_| rng.next() as u8).collect()
        } else {
            mutate(&mut rng, LINES.as_bytes(), MAX_LEN, TOKENS)
        };
        ok += decode_bounded(&body, &cfg);
        n += 1;
    }
    assert!(n >= 1000 && ok > n / 2, "{n} bodies, {ok} rows decided natively");
}

fn gz(body: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(body).unwrap();
    enc.finish().unwrap()
}

#[test]
fn gzip_bodies_are_inflated_within_their_bound_or_refused() {
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let limit = 1 << 20;
    // a bomb: 64 MiB of zeros in ~64 KiB, refused having held little more than the bound
    let bomb = gz(&vec![0u8; 64 << 20]);
    let before = CURRENT.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    assert_eq!(gunzip(&bomb, limit), Err(Inflate::TooLarge(limit)));
    let held = PEAK.load(Ordering::Relaxed) - before;
    assert!(held <= 2 * limit + FIXED, "a refused bomb held {held} bytes");
    let body = gz(LINES.as_bytes());
    assert_eq!(gunzip(&body, limit).as_deref(), Ok(LINES.as_bytes()));
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut n = 0;
    while n < 20_000 && Instant::now() < deadline {
        let damaged = mutate(&mut rng, &body, MAX_LEN, TOKENS);
        PEAK.store(CURRENT.load(Ordering::Relaxed), Ordering::Relaxed);
        let before = CURRENT.load(Ordering::Relaxed);
        if let Ok(plain) = gunzip(&damaged, limit) {
            decode_bounded(&plain, &config());
        }
        let held = PEAK.load(Ordering::Relaxed) - before;
        assert!(held <= 2 * limit + PER_BYTE * limit + FIXED, "a damaged body held {held} bytes");
        n += 1;
    }
    assert!(n >= 1000);
}
