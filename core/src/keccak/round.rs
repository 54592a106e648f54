//! The lane-generic Keccak-f[1600] round, written once for every kernel.
//!
//! Each kernel supplies a [`Lanes`] type (a `u64`, or a SIMD register holding
//! 2, 4 or 8 independent states' copies of one lane) and this module does the
//! rest, so every kernel runs literally the same sequence of operations.
//!
//! The round follows the "theta once per column, output row by row" layout
//! (as in XKCP's 64-bit reference): the five column parities and the five
//! theta offsets are computed once, then each output row of five lanes is
//! produced from five rotated inputs and written straight into the other
//! state buffer. At any point only ~10 vectors are live besides the two
//! states, which keeps a 25-lane state in registers on AVX-512 (32 registers)
//! and limits spills on AVX2 (16 registers). The round body was generated
//! from the rho and pi definitions rather than typed by hand; the tests in
//! `keccak::tests` check it bit for bit against the `keccak` crate.

/// One lane of `N` independent Keccak states, held in one register.
///
/// The methods are the only operations the permutation needs. They are
/// `#[inline(always)]` in every implementation so that, once inlined into a
/// kernel entry point compiled with its `#[target_feature]`, they become
/// single instructions.
pub(crate) trait Lanes: Copy {
    /// How many independent states one value carries.
    const N: usize;
    /// The same `u64` in every lane.
    fn splat(x: u64) -> Self;
    /// Lane `i` from `x[i]`; `x` holds at least `N` values.
    fn load(x: &[u64]) -> Self;
    /// Lane `i` into `out[i]`; `out` holds at least `N` values.
    fn store(self, out: &mut [u64]);
    /// `a ^ b`.
    fn xor(a: Self, b: Self) -> Self;
    /// `a ^ b ^ c ^ d ^ e` (theta's column parity).
    fn xor5(a: Self, b: Self, c: Self, d: Self, e: Self) -> Self;
    /// `a ^ (!b & c)` (chi).
    fn chi(a: Self, b: Self, c: Self) -> Self;
    /// Rotate every lane left by `L` bits; `R` is always `64 - L` (passed
    /// separately because stable Rust cannot compute it in a const generic).
    fn rol<const L: i32, const R: i32>(self) -> Self;
}

/// Keccak-f[1600] round constants (iota).
pub(crate) const RC: [u64; 24] = [
    0x0000_0000_0000_0001,
    0x0000_0000_0000_8082,
    0x8000_0000_0000_808A,
    0x8000_0000_8000_8000,
    0x0000_0000_0000_808B,
    0x0000_0000_8000_0001,
    0x8000_0000_8000_8081,
    0x8000_0000_0000_8009,
    0x0000_0000_0000_008A,
    0x0000_0000_0000_0088,
    0x0000_0000_8000_8009,
    0x0000_0000_8000_000A,
    0x0000_0000_8000_808B,
    0x8000_0000_0000_008B,
    0x8000_0000_0000_8089,
    0x8000_0000_0000_8003,
    0x8000_0000_0000_8002,
    0x8000_0000_0000_0080,
    0x0000_0000_0000_800A,
    0x8000_0000_8000_000A,
    0x8000_0000_8000_8081,
    0x8000_0000_0000_8080,
    0x0000_0000_8000_0001,
    0x8000_0000_8000_8008,
];

/// One full round: `e = round(a)` with round constant `rc`.
#[inline(always)]
fn round<V: Lanes>(a: &[V; 25], e: &mut [V; 25], rc: V) {
    let c0 = V::xor5(a[0], a[5], a[10], a[15], a[20]);
    let c1 = V::xor5(a[1], a[6], a[11], a[16], a[21]);
    let c2 = V::xor5(a[2], a[7], a[12], a[17], a[22]);
    let c3 = V::xor5(a[3], a[8], a[13], a[18], a[23]);
    let c4 = V::xor5(a[4], a[9], a[14], a[19], a[24]);
    let d0 = V::xor(c4, c1.rol::<1, 63>());
    let d1 = V::xor(c0, c2.rol::<1, 63>());
    let d2 = V::xor(c1, c3.rol::<1, 63>());
    let d3 = V::xor(c2, c4.rol::<1, 63>());
    let d4 = V::xor(c3, c0.rol::<1, 63>());
    // Output row 0.
    let b0 = V::xor(a[0], d0);
    let b1 = V::xor(a[6], d1).rol::<44, 20>();
    let b2 = V::xor(a[12], d2).rol::<43, 21>();
    let b3 = V::xor(a[18], d3).rol::<21, 43>();
    let b4 = V::xor(a[24], d4).rol::<14, 50>();
    e[0] = V::xor(V::chi(b0, b1, b2), rc);
    e[1] = V::chi(b1, b2, b3);
    e[2] = V::chi(b2, b3, b4);
    e[3] = V::chi(b3, b4, b0);
    e[4] = V::chi(b4, b0, b1);
    // Output row 1.
    let b0 = V::xor(a[3], d3).rol::<28, 36>();
    let b1 = V::xor(a[9], d4).rol::<20, 44>();
    let b2 = V::xor(a[10], d0).rol::<3, 61>();
    let b3 = V::xor(a[16], d1).rol::<45, 19>();
    let b4 = V::xor(a[22], d2).rol::<61, 3>();
    e[5] = V::chi(b0, b1, b2);
    e[6] = V::chi(b1, b2, b3);
    e[7] = V::chi(b2, b3, b4);
    e[8] = V::chi(b3, b4, b0);
    e[9] = V::chi(b4, b0, b1);
    // Output row 2.
    let b0 = V::xor(a[1], d1).rol::<1, 63>();
    let b1 = V::xor(a[7], d2).rol::<6, 58>();
    let b2 = V::xor(a[13], d3).rol::<25, 39>();
    let b3 = V::xor(a[19], d4).rol::<8, 56>();
    let b4 = V::xor(a[20], d0).rol::<18, 46>();
    e[10] = V::chi(b0, b1, b2);
    e[11] = V::chi(b1, b2, b3);
    e[12] = V::chi(b2, b3, b4);
    e[13] = V::chi(b3, b4, b0);
    e[14] = V::chi(b4, b0, b1);
    // Output row 3.
    let b0 = V::xor(a[4], d4).rol::<27, 37>();
    let b1 = V::xor(a[5], d0).rol::<36, 28>();
    let b2 = V::xor(a[11], d1).rol::<10, 54>();
    let b3 = V::xor(a[17], d2).rol::<15, 49>();
    let b4 = V::xor(a[23], d3).rol::<56, 8>();
    e[15] = V::chi(b0, b1, b2);
    e[16] = V::chi(b1, b2, b3);
    e[17] = V::chi(b2, b3, b4);
    e[18] = V::chi(b3, b4, b0);
    e[19] = V::chi(b4, b0, b1);
    // Output row 4.
    let b0 = V::xor(a[2], d2).rol::<62, 2>();
    let b1 = V::xor(a[8], d3).rol::<55, 9>();
    let b2 = V::xor(a[14], d4).rol::<39, 25>();
    let b3 = V::xor(a[15], d0).rol::<41, 23>();
    let b4 = V::xor(a[21], d1).rol::<2, 62>();
    e[20] = V::chi(b0, b1, b2);
    e[21] = V::chi(b1, b2, b3);
    e[22] = V::chi(b2, b3, b4);
    e[23] = V::chi(b3, b4, b0);
    e[24] = V::chi(b4, b0, b1);
}

/// The full permutation, 24 rounds, ping-ponging between two buffers.
#[inline(always)]
pub(crate) fn permute<V: Lanes>(a: &mut [V; 25]) {
    let mut e = *a;
    for pair in RC.chunks_exact(2) {
        round(a, &mut e, V::splat(pair[0]));
        round(&e, a, V::splat(pair[1]));
    }
}

/// Lane 0 of the permuted state only: 23 full rounds, then of the last round
/// just the five inputs that feed output lane 0. That is all the solver
/// needs for difficulties up to 64 bits (lane 0 is hash bytes 0..8).
#[inline(always)]
pub(crate) fn permute_lane0<V: Lanes>(a: &[V; 25]) -> V {
    let mut s = *a;
    let mut e = *a;
    for pair in RC[..22].chunks_exact(2) {
        round(&s, &mut e, V::splat(pair[0]));
        round(&e, &mut s, V::splat(pair[1]));
    }
    round(&s, &mut e, V::splat(RC[22]));
    let a = &e;
    let c0 = V::xor5(a[0], a[5], a[10], a[15], a[20]);
    let c1 = V::xor5(a[1], a[6], a[11], a[16], a[21]);
    let c2 = V::xor5(a[2], a[7], a[12], a[17], a[22]);
    let c3 = V::xor5(a[3], a[8], a[13], a[18], a[23]);
    let c4 = V::xor5(a[4], a[9], a[14], a[19], a[24]);
    let d0 = V::xor(c4, c1.rol::<1, 63>());
    let d1 = V::xor(c0, c2.rol::<1, 63>());
    let d2 = V::xor(c1, c3.rol::<1, 63>());
    let b0 = V::xor(a[0], d0);
    let b1 = V::xor(a[6], d1).rol::<44, 20>();
    let b2 = V::xor(a[12], d2).rol::<43, 21>();
    V::xor(V::chi(b0, b1, b2), V::splat(RC[23]))
}

/// The solver's inner loop, generic over the kernel: hash `batches × N`
/// nonces `next, next + stride, …` (wrapping) over `template`, whose lane
/// `nonce_lane` is replaced by each nonce. Returns the index (in that
/// sequence) of the first nonce whose lane 0 has no bit of `mask_le` set.
///
/// Within a batch the lowest lane wins, so the answer is the first solution
/// in sequence order whatever `N` is.
#[inline(always)]
pub(crate) fn search<V: Lanes>(
    template: &[u64; 25],
    nonce_lane: usize,
    next: u64,
    stride: u64,
    batches: u64,
    mask_le: u64,
) -> Option<u64> {
    let mut state = [V::splat(0); 25];
    for (s, t) in state.iter_mut().zip(template) {
        *s = V::splat(*t);
    }
    let mut nonces = [0u64; 8];
    let mut out = [0u64; 8];
    let n = V::N as u64;
    for batch in 0..batches {
        let base = next.wrapping_add(batch.wrapping_mul(n).wrapping_mul(stride));
        for (i, slot) in nonces[..V::N].iter_mut().enumerate() {
            *slot = base.wrapping_add((i as u64).wrapping_mul(stride));
        }
        state[nonce_lane] = V::load(&nonces);
        permute_lane0(&state).store(&mut out);
        if let Some(i) = out[..V::N].iter().position(|lane0| lane0 & mask_le == 0) {
            return Some(batch * n + i as u64);
        }
    }
    None
}
