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
    /// `a + b` per 64-bit lane, wrapping (the solver's nonce counter).
    fn add(a: Self, b: Self) -> Self;
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

/// Lane 0 of the last round's output, from the state after round 23: of
/// the last round just the five inputs that feed output lane 0. That is
/// all the solver needs for difficulties up to 64 bits (lane 0 is hash
/// bytes 0..8).
#[inline(always)]
fn last_round_lane0<V: Lanes>(a: &[V; 25]) -> V {
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

/// The state lane the solver varies: the PoW nonce (input bytes 80..88).
pub(crate) const NONCE_LANE: usize = 10;

/// Round 1's rho-pi outputs `B` (five per output row, in the order the
/// round uses them) of the template with the nonce lane set to 0.
///
/// Only lane 10 varies between tries, and theta, rho and pi are linear, so
/// for any nonce `n` the round's `B` values are these constants XOR a
/// rotation of `n`: lane 10 is in column 0, so `n` enters column parity
/// `C0`, hence `D1 = D1(0) ^ n` and `D4 = D4(0) ^ rol(n, 1)`; every input
/// of column 1 picks up `n`, of column 4 `rol(n, 1)`, and lane 10 itself
/// `n`. That makes 11 of the 25 `B` values `const ^ rol(n, s)` and the
/// other 14 constant, which [`first_round`] exploits: theta of round 1 is
/// never computed per try.
pub(crate) fn first_round_constants(template: &[u64; 25]) -> [u64; 25] {
    // (source lane, rho rotation) of each B, by output row.
    const RHO_PI: [[(usize, u32); 5]; 5] = [
        [(0, 0), (6, 44), (12, 43), (18, 21), (24, 14)],
        [(3, 28), (9, 20), (10, 3), (16, 45), (22, 61)],
        [(1, 1), (7, 6), (13, 25), (19, 8), (20, 18)],
        [(4, 27), (5, 36), (11, 10), (17, 15), (23, 56)],
        [(2, 62), (8, 55), (14, 39), (15, 41), (21, 2)],
    ];
    let mut a = *template;
    a[NONCE_LANE] = 0;
    let c: [u64; 5] = std::array::from_fn(|x| a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20]);
    let d: [u64; 5] = std::array::from_fn(|x| c[(x + 4) % 5] ^ c[(x + 1) % 5].rotate_left(1));
    let mut b = [0u64; 25];
    for (row, sources) in RHO_PI.iter().enumerate() {
        for (x, (lane, rot)) in sources.iter().enumerate() {
            b[row * 5 + x] = (a[*lane] ^ d[lane % 5]).rotate_left(*rot);
        }
    }
    b
}

/// Round 1 for the nonces `n` from [`first_round_constants`] `bc`: the
/// eleven nonce-dependent `B` values are `bc ^ rol(n, s)` (`s` is the rho
/// rotation, plus 1 for column 4 inputs, which see `rol(n, 1)` through
/// `D4`), then chi and iota as in [`round`].
#[inline(always)]
fn first_round<V: Lanes>(bc: &[V; 25], n: V, e: &mut [V; 25]) {
    let rc = V::splat(RC[0]);
    // Row 0: lane 6 (column 1) and lane 24 (column 4) vary.
    let (b0, b2, b3) = (bc[0], bc[2], bc[3]);
    let b1 = V::xor(bc[1], n.rol::<44, 20>());
    let b4 = V::xor(bc[4], n.rol::<15, 49>());
    e[0] = V::xor(V::chi(b0, b1, b2), rc);
    e[1] = V::chi(b1, b2, b3);
    e[2] = V::chi(b2, b3, b4);
    e[3] = V::chi(b3, b4, b0);
    e[4] = V::chi(b4, b0, b1);
    // Row 1: lane 9 (column 4), lane 10 (the nonce), lane 16 (column 1).
    let (b0, b4) = (bc[5], bc[9]);
    let b1 = V::xor(bc[6], n.rol::<21, 43>());
    let b2 = V::xor(bc[7], n.rol::<3, 61>());
    let b3 = V::xor(bc[8], n.rol::<45, 19>());
    e[5] = V::chi(b0, b1, b2);
    e[6] = V::chi(b1, b2, b3);
    e[7] = V::chi(b2, b3, b4);
    e[8] = V::chi(b3, b4, b0);
    e[9] = V::chi(b4, b0, b1);
    // Row 2: lane 1 (column 1), lane 19 (column 4).
    let (b1, b2, b4) = (bc[11], bc[12], bc[14]);
    let b0 = V::xor(bc[10], n.rol::<1, 63>());
    let b3 = V::xor(bc[13], n.rol::<9, 55>());
    e[10] = V::chi(b0, b1, b2);
    e[11] = V::chi(b1, b2, b3);
    e[12] = V::chi(b2, b3, b4);
    e[13] = V::chi(b3, b4, b0);
    e[14] = V::chi(b4, b0, b1);
    // Row 3: lane 4 (column 4), lane 11 (column 1).
    let (b1, b3, b4) = (bc[16], bc[18], bc[19]);
    let b0 = V::xor(bc[15], n.rol::<28, 36>());
    let b2 = V::xor(bc[17], n.rol::<10, 54>());
    e[15] = V::chi(b0, b1, b2);
    e[16] = V::chi(b1, b2, b3);
    e[17] = V::chi(b2, b3, b4);
    e[18] = V::chi(b3, b4, b0);
    e[19] = V::chi(b4, b0, b1);
    // Row 4: lane 14 (column 4), lane 21 (column 1).
    let (b0, b1, b3) = (bc[20], bc[21], bc[23]);
    let b2 = V::xor(bc[22], n.rol::<40, 24>());
    let b4 = V::xor(bc[24], n.rol::<2, 62>());
    e[20] = V::chi(b0, b1, b2);
    e[21] = V::chi(b1, b2, b3);
    e[22] = V::chi(b2, b3, b4);
    e[23] = V::chi(b3, b4, b0);
    e[24] = V::chi(b4, b0, b1);
}

/// Lane 0 of the permutation of the template with lane 10 set to `n`:
/// round 1 from the precomputed constants, 22 full rounds, and the lane-0
/// part of the last one.
#[inline(always)]
fn hash_lane0<V: Lanes>(bc: &[V; 25], n: V) -> V {
    let mut s = [n; 25];
    first_round(bc, n, &mut s);
    let mut e = s;
    for pair in RC[1..23].chunks_exact(2) {
        round(&s, &mut e, V::splat(pair[0]));
        round(&e, &mut s, V::splat(pair[1]));
    }
    last_round_lane0(&s)
}

/// The solver's inner loop, generic over the kernel: hash `batches × N`
/// nonces `next, next + stride, …` (wrapping) over `template`, whose lane
/// [`NONCE_LANE`] is replaced by each nonce. Returns the index (in that
/// sequence) of the first nonce whose lane 0 has no bit of `mask_le` set.
///
/// Within a batch the lowest lane wins, so the answer is the first solution
/// in sequence order whatever `N` is. The nonce register is advanced by a
/// vector add, so nothing crosses between scalar and vector registers in the
/// loop except the final lane-0 check.
#[inline(always)]
pub(crate) fn search<V: Lanes>(
    template: &[u64; 25],
    next: u64,
    stride: u64,
    batches: u64,
    mask_le: u64,
) -> Option<u64> {
    let bc = first_round_constants(template).map(V::splat);
    let n_lanes = V::N as u64;
    let mut first = [0u64; 8];
    for (i, slot) in first[..V::N].iter_mut().enumerate() {
        *slot = next.wrapping_add((i as u64).wrapping_mul(stride));
    }
    let mut nonces = V::load(&first);
    let step = V::splat(stride.wrapping_mul(n_lanes));
    let mut out = [0u64; 8];
    for batch in 0..batches {
        hash_lane0(&bc, nonces).store(&mut out);
        if let Some(i) = out[..V::N].iter().position(|lane0| lane0 & mask_le == 0) {
            return Some(batch * n_lanes + i as u64);
        }
        nonces = V::add(nonces, step);
    }
    None
}
