//! Test support: deterministic random mutations of valid samples, for the robustness tests of
//! every parser that reads what peers and files send (they must never panic).

/// A small deterministic generator (xorshift), so failures reproduce.
pub struct Rng(u64);
impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Random mutations of valid samples: flipped bytes, truncations, splices, repeats.
pub fn mutants(samples: &[&[u8]], rounds: usize, mut check: impl FnMut(&[u8])) {
    let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
    for i in 0..rounds {
        let mut b = samples[i % samples.len()].to_vec();
        for _ in 0..1 + rng.below(8) {
            match rng.below(5) {
                0 if !b.is_empty() => {
                    let at = rng.below(b.len());
                    b[at] = rng.next() as u8;
                }
                1 => b.truncate(rng.below(b.len() + 1)),
                2 => {
                    let at = rng.below(b.len() + 1);
                    let piece: Vec<u8> =
                        (0..rng.below(16)).map(|_| b"<>&;:\t\n.%[]=#0123456789"[rng.below(23)]).collect();
                    b.splice(at..at, piece);
                }
                3 if !b.is_empty() => {
                    let from = rng.below(b.len());
                    let to = (from + rng.below(32)).min(b.len());
                    let dup = b[from..to].to_vec();
                    b.extend_from_slice(&dup);
                }
                _ => b.extend((0..rng.below(8)).map(|_| rng.next() as u8)),
            }
        }
        check(&b);
    }
}
