//! What the bounded fuzz runs share: an allocator that counts the bytes held (so a test
//! can bound one decode's peak), a seeded random source, and the mutations.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

pub struct Counting;

/// The counters are process-wide: tests that measure take this lock, one at a time.
pub static SERIAL: Mutex<()> = Mutex::new(());
pub static CURRENT: AtomicUsize = AtomicUsize::new(0);
pub static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// xorshift64*: a fixed seed, so a failure is the same input every run.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// `seed` changed one to eight times: a byte replaced, the tail cut, random bytes put in,
/// a slice repeated (many keys or nested values from few bytes, up to `max_len`), or one of
/// `tokens` (the format's punctuation) put in.
pub fn mutate(rng: &mut Rng, seed: &[u8], max_len: usize, tokens: &[u8]) -> Vec<u8> {
    let mut body = seed.to_vec();
    for _ in 0..1 + rng.below(8) {
        match rng.below(5) {
            0 if !body.is_empty() => {
                let i = rng.below(body.len());
                body[i] = rng.next() as u8;
            }
            1 => body.truncate(rng.below(body.len() + 1)),
            2 => {
                let i = rng.below(body.len() + 1);
                let bytes: Vec<u8> = (0..rng.below(16)).map(|_| rng.next() as u8).collect();
                body.splice(i..i, bytes);
            }
            3 if !body.is_empty() => {
                let (a, b) = (rng.below(body.len()), rng.below(body.len()));
                let (a, b) = (a.min(b), a.max(b));
                let chunk = body[a..b].to_vec();
                for _ in 0..rng.below(64) {
                    body.splice(b..b, chunk.iter().copied());
                    if body.len() > max_len {
                        break;
                    }
                }
            }
            _ => {
                let i = rng.below(body.len() + 1);
                body.insert(i, tokens[rng.below(tokens.len())]);
            }
        }
    }
    body
}
