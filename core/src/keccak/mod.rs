//! Multi-lane Keccak-f[1600]: many independent states per permutation call.
//!
//! The proof-of-work solver hashes one SHA3-256 block per try in which only
//! state lane 10 (the nonce) changes, so N tries are N independent
//! permutations of almost identical states: exactly the shape SIMD wants.
//! A kernel keeps lane `i` of N states in one register (u64 × N) and runs the
//! ordinary round on registers instead of words.
//!
//! Kernels (all bit-identical, see the tests):
//! - [`Kernel::Portable`]: one state at a time on `u64`, everywhere;
//! - [`Kernel::Avx2`]: 4 states in `__m256i` (x86-64 with AVX2);
//! - [`Kernel::Avx512`]: 8 states in `__m512i`, rotates and chi as single
//!   `vprolq`/`vpternlogq` instructions (AVX-512F);
//! - [`Kernel::Avx512Vl`]: 4 states in `__m256i` but with the AVX-512VL
//!   instructions, for CPUs that run 512-bit instructions at half rate;
//! - [`Kernel::Simd128`]: 2 states in `v128` (wasm32 built with `simd128`).
//!
//! x86 kernels are chosen at run time (`is_x86_feature_detected!`, cached
//! once); the wasm one at compile time, since wasm has no feature detection.
//! The core stays sans-IO: the detection reads CPUID, nothing else.

mod round;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128;

use std::sync::OnceLock;

use round::Lanes;
#[cfg(test)]
pub(crate) use round::NONCE_LANE;

/// A Keccak-f[1600] implementation the solver can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// Scalar, one state per call; available everywhere.
    Portable,
    /// AVX2, 4 states per call.
    Avx2,
    /// AVX-512F, 8 states per call.
    Avx512,
    /// AVX-512F + AVX-512VL on 256-bit registers, 4 states per call.
    Avx512Vl,
    /// wasm `simd128`, 2 states per call.
    Simd128,
}

impl Kernel {
    /// Every kernel this crate knows, whether or not this machine has it.
    pub const ALL: [Kernel; 5] = [
        Kernel::Portable,
        Kernel::Avx2,
        Kernel::Avx512,
        Kernel::Avx512Vl,
        Kernel::Simd128,
    ];

    /// States per permutation call.
    pub fn lanes(self) -> usize {
        match self {
            Self::Portable => 1,
            Self::Simd128 => 2,
            Self::Avx2 | Self::Avx512Vl => 4,
            Self::Avx512 => 8,
        }
    }

    /// Short stable name (bench output, logs).
    pub fn name(self) -> &'static str {
        match self {
            Self::Portable => "portable",
            Self::Avx2 => "avx2",
            Self::Avx512 => "avx512",
            Self::Avx512Vl => "avx512vl",
            Self::Simd128 => "simd128",
        }
    }

    /// Whether this build on this CPU can run the kernel.
    pub fn is_available(self) -> bool {
        match self {
            Self::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Self::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(target_arch = "x86_64")]
            Self::Avx512Vl => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512vl")
            }
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            Self::Simd128 => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The kernels this machine can run, portable first.
    pub fn available() -> Vec<Kernel> {
        Self::ALL.into_iter().filter(|k| k.is_available()).collect()
    }

    /// The fastest available kernel, detected once per process.
    ///
    /// Preference order is by measured speed on AVX-512 hardware (see
    /// BENCHMARKS.md): on the CI machines the 8-lane kernel beat the 4-lane
    /// VL one by about a third despite their half-rate 512-bit units, and
    /// both beat plain AVX2, which lacks rotate and three-input logic.
    pub fn best() -> Kernel {
        static BEST: OnceLock<Kernel> = OnceLock::new();
        *BEST.get_or_init(|| {
            [
                Kernel::Avx512,
                Kernel::Avx512Vl,
                Kernel::Avx2,
                Kernel::Simd128,
            ]
            .into_iter()
            .find(|k| k.is_available())
            .unwrap_or(Kernel::Portable)
        })
    }
}

impl std::fmt::Display for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Scalar lanes: the portable kernel is the generic round on plain `u64`.
impl Lanes for u64 {
    const N: usize = 1;
    #[inline(always)]
    fn splat(x: u64) -> Self {
        x
    }
    #[inline(always)]
    fn load(x: &[u64]) -> Self {
        x[0]
    }
    #[inline(always)]
    fn store(self, out: &mut [u64]) {
        out[0] = self;
    }
    #[inline(always)]
    fn xor(a: Self, b: Self) -> Self {
        a ^ b
    }
    #[inline(always)]
    fn add(a: Self, b: Self) -> Self {
        a.wrapping_add(b)
    }
    #[inline(always)]
    fn xor5(a: Self, b: Self, c: Self, d: Self, e: Self) -> Self {
        a ^ b ^ c ^ d ^ e
    }
    #[inline(always)]
    fn chi(a: Self, b: Self, c: Self) -> Self {
        a ^ (!b & c)
    }
    #[inline(always)]
    fn rol<const L: i32, const R: i32>(self) -> Self {
        self.rotate_left(L as u32)
    }
}

/// Permute every state in `states` with `kernel`, `kernel.lanes()` at a
/// time (a leftover tail goes through the portable path). An unavailable
/// kernel falls back to the portable one, so the result never depends on the
/// choice.
pub fn f1600_many(kernel: Kernel, states: &mut [[u64; 25]]) {
    let kernel = if kernel.is_available() {
        kernel
    } else {
        Kernel::Portable
    };
    let n = kernel.lanes();
    let split = states.len() - states.len() % n;
    let (full, tail) = states.split_at_mut(split);
    for chunk in full.chunks_exact_mut(n) {
        match kernel {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => avx2::permute_avx2(chunk),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => avx512::permute_avx512(chunk),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512Vl => avx512::permute_avx512vl(chunk),
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            Kernel::Simd128 => simd128::permute_simd128(chunk),
            _ => permute_chunk::<u64>(chunk),
        }
    }
    for state in tail {
        permute_chunk::<u64>(std::slice::from_mut(state));
    }
}

/// Permute `V::N` states (`chunk.len() == V::N`) by transposing them into
/// lane registers and back. Only for checking and batch verification; the
/// solver never transposes.
#[inline(always)]
pub(crate) fn permute_chunk<V: Lanes>(chunk: &mut [[u64; 25]]) {
    let mut regs = [V::splat(0); 25];
    let mut column = [0u64; 8];
    for (lane, reg) in regs.iter_mut().enumerate() {
        for (slot, state) in column.iter_mut().zip(chunk.iter()) {
            *slot = state[lane];
        }
        *reg = V::load(&column);
    }
    round::permute(&mut regs);
    for (lane, reg) in regs.iter().enumerate() {
        reg.store(&mut column);
        for (state, value) in chunk.iter_mut().zip(column) {
            state[lane] = value;
        }
    }
}

/// Solver inner loop: over `template` with lane 10 (the nonce) set to
/// `next, next + stride, …`, try `batches × kernel.lanes()` nonces and
/// return the index of the first whose output lane 0 has no bit of
/// `mask_le` set. An unavailable kernel falls back to the portable one.
pub(crate) fn search(
    kernel: Kernel,
    template: &[u64; 25],
    next: u64,
    stride: u64,
    batches: u64,
    mask_le: u64,
) -> Option<u64> {
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 if kernel.is_available() => {
            avx2::search_avx2(template, next, stride, batches, mask_le)
        }
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512 if kernel.is_available() => {
            avx512::search_avx512(template, next, stride, batches, mask_le)
        }
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512Vl if kernel.is_available() => {
            avx512::search_avx512vl(template, next, stride, batches, mask_le)
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        Kernel::Simd128 => simd128::search_simd128(template, next, stride, batches, mask_le),
        _ => {
            let n = kernel.lanes() as u64;
            round::search::<u64>(template, next, stride, batches.saturating_mul(n), mask_le)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// splitmix64: deterministic "random" test inputs without a dependency.
    fn rng(seed: u64) -> impl FnMut() -> u64 {
        let mut x = seed;
        move || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
    }

    #[test]
    fn every_kernel_matches_the_keccak_crate_on_random_states() {
        let mut next = rng(42);
        // 43 states: several full batches of every width plus a tail.
        let states: Vec<[u64; 25]> = (0..43).map(|_| std::array::from_fn(|_| next())).collect();
        let mut expected = states.clone();
        for s in &mut expected {
            ::keccak::f1600(s);
        }
        for kernel in Kernel::ALL {
            let mut got = states.clone();
            f1600_many(kernel, &mut got);
            assert_eq!(got, expected, "kernel {kernel}");
        }
    }

    /// Lane 0 of the permutation of `template` with the nonce lane set to
    /// `nonce`, by the `keccak` crate.
    fn reference_lane0(template: &[u64; 25], nonce: u64) -> u64 {
        let mut state = *template;
        state[NONCE_LANE] = nonce;
        ::keccak::f1600(&mut state);
        state[0]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// The solver kernels (first round from precomputed constants,
        /// nonces advanced by a vector add, last round cut to lane 0) on
        /// arbitrary 25-lane templates, not only PoW blocks: with the mask
        /// `!lane0(nonce k)` nonce `k` is a solution, and an earlier nonce
        /// `j` is one only if its lane 0 is a bit subset of `k`'s, which the
        /// reference decides too. So every kernel must return exactly the
        /// reference's first hit, which it can only do if it computed lane 0
        /// of every nonce up to `k` bit for bit.
        #[test]
        fn every_kernel_searches_like_the_keccak_crate(
            template in proptest::array::uniform25(proptest::prelude::any::<u64>()),
            next in proptest::prelude::any::<u64>(),
            stride in 1u64..1000,
            k in 0u64..24,
        ) {
            let lane0 = |i: u64| reference_lane0(&template, next.wrapping_add(i.wrapping_mul(stride)));
            let mask_le = !lane0(k);
            let expected = (0..=k).find(|j| lane0(*j) & mask_le == 0);
            for kernel in Kernel::ALL {
                // Enough batches to cover index k on every width.
                let batches = 24 / kernel.lanes() as u64 + 1;
                let found = search(kernel, &template, next, stride, batches, mask_le);
                proptest::prop_assert_eq!(found, expected, "kernel {}", kernel);
            }
        }
    }

    #[test]
    fn kernels_are_reported_consistently() {
        let available = Kernel::available();
        assert_eq!(available.first(), Some(&Kernel::Portable));
        assert!(available.contains(&Kernel::best()));
        assert!(Kernel::best().lanes() >= 1);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            assert_eq!(Kernel::best(), Kernel::Avx512);
        }
        for k in Kernel::ALL {
            assert!(k.lanes().is_power_of_two() && k.lanes() <= 8);
        }
    }
}
