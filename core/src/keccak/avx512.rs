//! AVX-512 kernels: 8 states in `__m512i` (AVX-512F), or 4 states in
//! `__m256i` using the AVX-512VL forms of the same instructions.
//!
//! AVX-512 turns the two costly pieces of a Keccak round into one
//! instruction each: the 64-bit rotate (`vprolq`) and any three-input
//! boolean function (`vpternlogq`: chi is `a ^ (!b & c)`, table 0xD2; a
//! three-way XOR is table 0x96). The VL variant exists because some CPUs
//! execute 512-bit instructions at half rate, where 4 lanes on 256-bit
//! registers can match 8 lanes on 512-bit ones with half the state size.

// The kernels are SIMD intrinsics: `unsafe` is confined to this module, and
// every block says why it is sound.
#![allow(unsafe_code)]

use std::arch::x86_64::{
    __m256i, __m512i, _mm256_add_epi64, _mm256_rol_epi64, _mm256_set_epi64x, _mm256_set1_epi64x,
    _mm256_ternarylogic_epi64, _mm256_xor_si256, _mm512_add_epi64, _mm512_rol_epi64,
    _mm512_set_epi64, _mm512_set1_epi64, _mm512_ternarylogic_epi64, _mm512_xor_si512,
};

use super::round::{self, Lanes};

/// `vpternlogq` truth table of `a ^ b ^ c`.
const XOR3: i32 = 0x96;
/// `vpternlogq` truth table of `a ^ (!b & c)`.
const CHI: i32 = 0xD2;

/// Eight lanes. Values of this type only exist inside the AVX-512F entry
/// points below, which run after AVX-512F was detected.
#[derive(Clone, Copy)]
struct Avx512(__m512i);

impl Lanes for Avx512 {
    const N: usize = 8;
    #[inline(always)]
    fn splat(x: u64) -> Self {
        // SAFETY: only reached from the `#[target_feature(enable =
        // "avx512f")]` entry points, called once AVX-512F is detected.
        Self(unsafe { _mm512_set1_epi64(x as i64) })
    }
    #[inline(always)]
    fn load(x: &[u64]) -> Self {
        let x = &x[..8];
        // SAFETY: as for `splat`; the values are passed by value.
        Self(unsafe {
            _mm512_set_epi64(
                x[7] as i64,
                x[6] as i64,
                x[5] as i64,
                x[4] as i64,
                x[3] as i64,
                x[2] as i64,
                x[1] as i64,
                x[0] as i64,
            )
        })
    }
    #[inline(always)]
    fn store(self, out: &mut [u64]) {
        // SAFETY: `__m512i` and `[u64; 8]` have the same size and every bit
        // pattern is valid for both.
        let lanes: [u64; 8] = unsafe { std::mem::transmute::<__m512i, [u64; 8]>(self.0) };
        out[..8].copy_from_slice(&lanes);
    }
    #[inline(always)]
    fn xor(a: Self, b: Self) -> Self {
        // SAFETY: as for `splat`.
        Self(unsafe { _mm512_xor_si512(a.0, b.0) })
    }
    #[inline(always)]
    fn add(a: Self, b: Self) -> Self {
        // SAFETY: as for `splat`.
        Self(unsafe { _mm512_add_epi64(a.0, b.0) })
    }
    #[inline(always)]
    fn xor5(a: Self, b: Self, c: Self, d: Self, e: Self) -> Self {
        // SAFETY: as for `splat`.
        unsafe {
            let abc = _mm512_ternarylogic_epi64::<XOR3>(a.0, b.0, c.0);
            Self(_mm512_ternarylogic_epi64::<XOR3>(abc, d.0, e.0))
        }
    }
    #[inline(always)]
    fn chi(a: Self, b: Self, c: Self) -> Self {
        // SAFETY: as for `splat`.
        Self(unsafe { _mm512_ternarylogic_epi64::<CHI>(a.0, b.0, c.0) })
    }
    #[inline(always)]
    fn rol<const L: i32, const R: i32>(self) -> Self {
        // SAFETY: as for `splat`.
        Self(unsafe { _mm512_rol_epi64::<L>(self.0) })
    }
}

/// Four lanes on 256-bit registers with AVX-512VL instructions. Values of
/// this type only exist inside the AVX-512VL entry points below.
#[derive(Clone, Copy)]
struct Avx512Vl(__m256i);

impl Lanes for Avx512Vl {
    const N: usize = 4;
    #[inline(always)]
    fn splat(x: u64) -> Self {
        // SAFETY: only reached from the `#[target_feature(enable =
        // "avx512f,avx512vl")]` entry points, called once both are detected.
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
            let abc = _mm256_ternarylogic_epi64::<XOR3>(a.0, b.0, c.0);
            Self(_mm256_ternarylogic_epi64::<XOR3>(abc, d.0, e.0))
        }
    }
    #[inline(always)]
    fn chi(a: Self, b: Self, c: Self) -> Self {
        // SAFETY: as for `splat`.
        Self(unsafe { _mm256_ternarylogic_epi64::<CHI>(a.0, b.0, c.0) })
    }
    #[inline(always)]
    fn rol<const L: i32, const R: i32>(self) -> Self {
        // SAFETY: as for `splat`.
        Self(unsafe { _mm256_rol_epi64::<L>(self.0) })
    }
}

fn has_avx512f() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
}

fn has_avx512vl() -> bool {
    has_avx512f() && std::arch::is_x86_feature_detected!("avx512vl")
}

#[target_feature(enable = "avx512f")]
fn search_inner(
    template: &[u64; 25],
    next: u64,
    stride: u64,
    batches: u64,
    mask_le: u64,
) -> Option<u64> {
    round::search::<Avx512>(template, next, stride, batches, mask_le)
}

#[target_feature(enable = "avx512f,avx512vl")]
fn search_inner_vl(
    template: &[u64; 25],
    next: u64,
    stride: u64,
    batches: u64,
    mask_le: u64,
) -> Option<u64> {
    round::search::<Avx512Vl>(template, next, stride, batches, mask_le)
}

#[target_feature(enable = "avx512f")]
fn permute_inner(chunk: &mut [[u64; 25]]) {
    super::permute_chunk::<Avx512>(chunk);
}

#[target_feature(enable = "avx512f,avx512vl")]
fn permute_inner_vl(chunk: &mut [[u64; 25]]) {
    super::permute_chunk::<Avx512Vl>(chunk);
}

/// [`super::search`] on 8 AVX-512 lanes, or portably without AVX-512F.
pub(super) fn search_avx512(
    template: &[u64; 25],
    next: u64,
    stride: u64,
    batches: u64,
    mask_le: u64,
) -> Option<u64> {
    if has_avx512f() {
        // SAFETY: AVX-512F is present, checked just above.
        unsafe { search_inner(template, next, stride, batches, mask_le) }
    } else {
        round::search::<u64>(template, next, stride, batches * 8, mask_le)
    }
}

/// [`super::search`] on 4 AVX-512VL lanes, or portably without AVX-512VL.
pub(super) fn search_avx512vl(
    template: &[u64; 25],
    next: u64,
    stride: u64,
    batches: u64,
    mask_le: u64,
) -> Option<u64> {
    if has_avx512vl() {
        // SAFETY: AVX-512F and AVX-512VL are present, checked just above.
        unsafe { search_inner_vl(template, next, stride, batches, mask_le) }
    } else {
        round::search::<u64>(template, next, stride, batches * 4, mask_le)
    }
}

/// Permute 8 states (`chunk.len() == 8`) on AVX-512F, or portably.
pub(super) fn permute_avx512(chunk: &mut [[u64; 25]]) {
    if has_avx512f() {
        // SAFETY: AVX-512F is present, checked just above.
        unsafe { permute_inner(chunk) }
    } else {
        super::permute_chunk::<u64>(chunk);
    }
}

/// Permute 4 states (`chunk.len() == 4`) on AVX-512VL, or portably.
pub(super) fn permute_avx512vl(chunk: &mut [[u64; 25]]) {
    if has_avx512vl() {
        // SAFETY: AVX-512F and AVX-512VL are present, checked just above.
        unsafe { permute_inner_vl(chunk) }
    } else {
        super::permute_chunk::<u64>(chunk);
    }
}
