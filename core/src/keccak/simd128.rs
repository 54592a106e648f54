//! wasm `simd128` kernel: lane `i` of 2 states in one `v128`.
//!
//! Compiled only when the crate is built with `-C target-feature=+simd128`
//! (wasm has no run-time feature detection: a module either validates with
//! SIMD opcodes or it does not). The wasm intrinsics are safe functions, so
//! this kernel needs no `unsafe`.

use std::arch::wasm32::{
    i64x2_add, i64x2_shl, i64x2_splat, u64x2, u64x2_extract_lane, u64x2_shr, v128, v128_andnot,
    v128_or, v128_xor,
};

use super::round::{self, Lanes};

/// Two lanes.
#[derive(Clone, Copy)]
struct Simd128(v128);

impl Lanes for Simd128 {
    const N: usize = 2;
    #[inline(always)]
    fn splat(x: u64) -> Self {
        Self(i64x2_splat(x as i64))
    }
    #[inline(always)]
    fn load(x: &[u64]) -> Self {
        Self(u64x2(x[0], x[1]))
    }
    #[inline(always)]
    fn store(self, out: &mut [u64]) {
        out[0] = u64x2_extract_lane::<0>(self.0);
        out[1] = u64x2_extract_lane::<1>(self.0);
    }
    #[inline(always)]
    fn xor(a: Self, b: Self) -> Self {
        Self(v128_xor(a.0, b.0))
    }
    #[inline(always)]
    fn add(a: Self, b: Self) -> Self {
        Self(i64x2_add(a.0, b.0))
    }
    #[inline(always)]
    fn xor5(a: Self, b: Self, c: Self, d: Self, e: Self) -> Self {
        Self(v128_xor(
            v128_xor(v128_xor(a.0, b.0), v128_xor(c.0, d.0)),
            e.0,
        ))
    }
    #[inline(always)]
    fn chi(a: Self, b: Self, c: Self) -> Self {
        // `v128_andnot(c, b)` is `c & !b`.
        Self(v128_xor(a.0, v128_andnot(c.0, b.0)))
    }
    #[inline(always)]
    fn rol<const L: i32, const R: i32>(self) -> Self {
        Self(v128_or(
            i64x2_shl(self.0, L as u32),
            u64x2_shr(self.0, R as u32),
        ))
    }
}

/// [`super::search`] on 2 wasm SIMD lanes.
pub(super) fn search_simd128(
    template: &[u64; 25],
    next: u64,
    stride: u64,
    batches: u64,
    mask_le: u64,
) -> Option<u64> {
    round::search::<Simd128>(template, next, stride, batches, mask_le)
}

/// Permute 2 states (`chunk.len() == 2`).
pub(super) fn permute_simd128(chunk: &mut [[u64; 25]]) {
    super::permute_chunk::<Simd128>(chunk);
}
