//! AVX2 kernel: lane `i` of 4 states in one `__m256i`.
//!
//! AVX2 has no 64-bit rotate and no three-input logic, so a rotate is two
//! shifts and an OR and chi is an ANDN and an XOR; that is why this kernel
//! sits well below the AVX-512 ones on the same core. A round is then about
//! 184 vector instructions for three vector ALU ports, so the kernel is
//! port-bound, not latency- or memory-bound (the state does not fit in 16
//! registers, but the spilled lanes are folded into the XORs as memory
//! operands and the load ports are otherwise idle). What is left to win is
//! instructions and shifter pressure: byte rotates as `vpshufb`, rotate by
//! one via `vpaddq`, and round 1 mostly precomputed (`round::first_round`).

// The kernel is SIMD intrinsics: `unsafe` is confined to this module, and
// every block says why it is sound.
#![allow(unsafe_code)]

use std::arch::x86_64::{
    __m256i, _mm256_add_epi64, _mm256_andnot_si256, _mm256_or_si256, _mm256_set_epi64x,
    _mm256_set1_epi64x, _mm256_shuffle_epi8, _mm256_slli_epi64, _mm256_srli_epi64,
    _mm256_xor_si256,
};

use super::round::{self, Lanes};

/// `vpshufb` source bytes that rotate each little-endian 64-bit lane left
/// by 8 bits: output byte `i` is input byte `i - 1` (mod 8).
const ROL8: u64 = 0x0605_0403_0201_0007;
/// The same for a rotate left by 56 (right by 8): output byte `i` is input
/// byte `i + 1` (mod 8).
const ROR8: u64 = 0x0007_0605_0403_0201;

/// The `vpshufb` control for a byte rotation `pattern` of lane 0, repeated
/// for all four lanes (the shuffle indexes within each 128-bit half, so the
/// second lane of each half adds 8).
#[inline(always)]
fn byte_rotation(pattern: u64) -> __m256i {
    let hi = pattern + 0x0808_0808_0808_0808;
    // SAFETY: `_mm256_set_epi64x` only needs AVX, implied by AVX2, which
    // every caller (the AVX2 `Lanes` methods) runs under.
    unsafe { _mm256_set_epi64x(hi as i64, pattern as i64, hi as i64, pattern as i64) }
}

/// Four lanes. Values of this type only exist inside the `avx2` entry
/// points below, which run after AVX2 was detected.
#[derive(Clone, Copy)]
struct Avx2(__m256i);

impl Lanes for Avx2 {
    const N: usize = 4;
    #[inline(always)]
    fn splat(x: u64) -> Self {
        // SAFETY: only reached from the `#[target_feature(enable = "avx2")]`
        // entry points, which are only called once AVX2 is detected.
        Self(unsafe { _mm256_set1_epi64x(x as i64) })
    }
    #[inline(always)]
    fn load(x: &[u64]) -> Self {
        // SAFETY: as for `splat`; the values are passed by value.
        Self(unsafe { _mm256_set_epi64x(x[3] as i64, x[2] as i64, x[1] as i64, x[0] as i64) })
    }
    #[inline(always)]
    fn store(self, out: &mut [u64]) {
        // SAFETY: `__m256i` and `[u64; 4]` have the same size and every bit
        // pattern is valid for both.
        let lanes: [u64; 4] = unsafe { std::mem::transmute::<__m256i, [u64; 4]>(self.0) };
        out[..4].copy_from_slice(&lanes);
    }
    #[inline(always)]
    fn xor(a: Self, b: Self) -> Self {
        // SAFETY: as for `splat`.
        Self(unsafe { _mm256_xor_si256(a.0, b.0) })
    }
    #[inline(always)]
    fn add(a: Self, b: Self) -> Self {
        // SAFETY: as for `splat`.
        Self(unsafe { _mm256_add_epi64(a.0, b.0) })
    }
    #[inline(always)]
    fn xor5(a: Self, b: Self, c: Self, d: Self, e: Self) -> Self {
        // SAFETY: as for `splat`.
        unsafe {
            Self(_mm256_xor_si256(
                _mm256_xor_si256(_mm256_xor_si256(a.0, b.0), _mm256_xor_si256(c.0, d.0)),
                e.0,
            ))
        }
    }
    #[inline(always)]
    fn chi(a: Self, b: Self, c: Self) -> Self {
        // SAFETY: as for `splat`. `andnot(b, c)` is `!b & c`.
        Self(unsafe { _mm256_xor_si256(a.0, _mm256_andnot_si256(b.0, c.0)) })
    }
    /// Three instructions in general (two shifts, an OR), but the vector
    /// shifters are only two of the three vector ALU ports, and shifts are
    /// a quarter of the round: rotates by whole bytes are one `vpshufb`
    /// (the shuffle port), and a rotate by 1 shifts left with `vpaddq`
    /// (any port). `L` is a constant, so the branches fold away.
    #[inline(always)]
    fn rol<const L: i32, const R: i32>(self) -> Self {
        // SAFETY: as for `splat`.
        Self(unsafe {
            if L == 8 {
                _mm256_shuffle_epi8(self.0, byte_rotation(ROL8))
            } else if L == 56 {
                _mm256_shuffle_epi8(self.0, byte_rotation(ROR8))
            } else if L == 1 {
                _mm256_or_si256(
                    _mm256_add_epi64(self.0, self.0),
                    _mm256_srli_epi64::<63>(self.0),
                )
            } else {
                _mm256_or_si256(
                    _mm256_slli_epi64::<L>(self.0),
                    _mm256_srli_epi64::<R>(self.0),
                )
            }
        })
    }
}

#[target_feature(enable = "avx2")]
fn search_inner(
    template: &[u64; 25],
    next: u64,
    stride: u64,
    batches: u64,
    mask_le: u64,
) -> Option<u64> {
    round::search::<Avx2>(template, next, stride, batches, mask_le)
}

#[target_feature(enable = "avx2")]
fn permute_inner(chunk: &mut [[u64; 25]]) {
    super::permute_chunk::<Avx2>(chunk);
}

/// [`super::search`] on AVX2, or on the portable kernel if this CPU lacks it.
pub(super) fn search_avx2(
    template: &[u64; 25],
    next: u64,
    stride: u64,
    batches: u64,
    mask_le: u64,
) -> Option<u64> {
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 is present, checked just above.
        unsafe { search_inner(template, next, stride, batches, mask_le) }
    } else {
        round::search::<u64>(template, next, stride, batches * 4, mask_le)
    }
}

/// Permute 4 states (`chunk.len() == 4`) on AVX2, or portably without it.
pub(super) fn permute_avx2(chunk: &mut [[u64; 25]]) {
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 is present, checked just above.
        unsafe { permute_inner(chunk) }
    } else {
        super::permute_chunk::<u64>(chunk);
    }
}
