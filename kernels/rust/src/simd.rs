//! Vectors of doubles for the group walk ([`crate::lanes`]), one lane per
//! symbol: [`Lanes`] is what the walk needs (IEEE add, sub, mul, div, C's
//! comparisons, selects), implemented on x86-64 by the vector registers
//! themselves — [`X2`] (SSE2, SSE4.1's blend at the project's x86-64-v2
//! level) and [`X4`] (AVX, inside functions compiled with AVX2 enabled) —
//! and everywhere by [`Arr`], plain arrays the compiler may vectorise.
//! Each operation is the scalar one per lane, so every type gives the
//! scalar pipeline's bits.

use std::ops::{Add, BitAnd, BitOr, Div, Mul, Neg, Sub};

/// A lane-wise condition: all bits set (true) or clear per lane.
pub trait Mask: Copy + BitAnd<Output = Self> + BitOr<Output = Self> {
    /// set in any lane?
    fn any(self) -> bool;
}

/// N doubles operated on lane by lane.
pub trait Lanes:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + Add<f64, Output = Self>
    + Sub<f64, Output = Self>
    + Mul<f64, Output = Self>
    + Div<f64, Output = Self>
{
    type M: Mask;
    /// symbols per vector
    const N: usize;
    /// x in every lane
    fn splat(x: f64) -> Self;
    /// lane l is f(l)
    fn from_fn(f: impl FnMut(usize) -> f64) -> Self;
    fn lane(self, l: usize) -> f64;
    /// C's ==, !=, <, <=, >, >= (NaN compares false, != true)
    fn eq(self, o: Self) -> Self::M;
    fn ne(self, o: Self) -> Self::M;
    fn lt(self, o: Self) -> Self::M;
    fn le(self, o: Self) -> Self::M;
    fn gt(self, o: Self) -> Self::M;
    fn ge(self, o: Self) -> Self::M;
    /// a where m is set, else b
    fn select(m: Self::M, a: Self, b: Self) -> Self;
    /// 1.0 where m is set, else 0.0
    fn one(m: Self::M) -> Self;
    fn abs(self) -> Self;

    #[inline(always)]
    fn is_nan(self) -> Self::M {
        self.ne(self)
    }

    /// finite (not NaN, not infinite): x - x is 0 exactly then, one
    /// subtraction and one comparison (the C engine's test)
    #[inline(always)]
    #[allow(clippy::eq_op)]
    fn finite(self) -> Self::M {
        (self - self).eq(Self::splat(0.0))
    }

    /// NaN or infinite: the complement of [`Lanes::finite`]
    #[inline(always)]
    #[allow(clippy::eq_op)]
    fn nonfinite(self) -> Self::M {
        (self - self).ne(Self::splat(0.0))
    }

    /// NaN counted as 0
    #[inline(always)]
    fn nz(self) -> Self {
        Self::select(self.is_nan(), Self::splat(0.0), self)
    }

    /// The lanes of v as one slice of doubles, vector after vector (lane l
    /// of v[i] at i * N + l): each lane read with one load, not a vector
    /// stored to read one of its doubles back.
    #[inline(always)]
    fn flat(v: &[Self]) -> &[f64] {
        // every Lanes type is #[repr(transparent)] over N doubles in lane
        // order (an array, __m128d, __m256d), aligned at least as f64
        assert!(std::mem::size_of::<Self>() == Self::N * std::mem::size_of::<f64>());
        // SAFETY: the layout above; the length covers v exactly
        unsafe { std::slice::from_raw_parts(v.as_ptr() as *const f64, v.len() * Self::N) }
    }

    /// [`Lanes::flat`], to write.
    #[inline(always)]
    fn flat_mut(v: &mut [Self]) -> &mut [f64] {
        assert!(std::mem::size_of::<Self>() == Self::N * std::mem::size_of::<f64>());
        // SAFETY: as in flat; v is borrowed mutably for the slice's life
        unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr() as *mut f64, v.len() * Self::N) }
    }

    /// C's rint() in the default rounding mode, as
    /// [`crate::math::round_half_even`]: below 2^52 adding and taking away
    /// 2^52 rounds |x| to an integer (x's sign put back), above every
    /// double is one.
    fn rint(self) -> Self;
}

// ---- plain arrays ---------------------------------------------------------

/// N doubles in an array, lane by lane: the portable form.
#[derive(Clone, Copy, Debug)]
#[repr(transparent)]
pub struct Arr<const N: usize>(pub [f64; N]);

/// Arr's conditions.
#[derive(Clone, Copy, Debug)]
pub struct ArrMask<const N: usize>([bool; N]);

macro_rules! lanewise {
    ($n:expr, |$l:ident| $e:expr) => {{
        let mut r = [Default::default(); $n];
        for $l in 0..$n {
            r[$l] = $e;
        }
        r
    }};
}

macro_rules! arr_binop {
    ($tr:ident, $f:ident, $op:tt) => {
        impl<const N: usize> $tr for Arr<N> {
            type Output = Arr<N>;
            #[inline(always)]
            fn $f(self, o: Arr<N>) -> Arr<N> {
                Arr(lanewise!(N, |l| self.0[l] $op o.0[l]))
            }
        }
        impl<const N: usize> $tr<f64> for Arr<N> {
            type Output = Arr<N>;
            #[inline(always)]
            fn $f(self, o: f64) -> Arr<N> {
                Arr(lanewise!(N, |l| self.0[l] $op o))
            }
        }
    };
}
arr_binop!(Add, add, +);
arr_binop!(Sub, sub, -);
arr_binop!(Mul, mul, *);
arr_binop!(Div, div, /);

impl<const N: usize> Neg for Arr<N> {
    type Output = Arr<N>;
    #[inline(always)]
    fn neg(self) -> Arr<N> {
        Arr(lanewise!(N, |l| -self.0[l]))
    }
}

macro_rules! arr_maskop {
    ($tr:ident, $f:ident, $op:tt) => {
        impl<const N: usize> $tr for ArrMask<N> {
            type Output = ArrMask<N>;
            #[inline(always)]
            fn $f(self, o: ArrMask<N>) -> ArrMask<N> {
                ArrMask(lanewise!(N, |l| self.0[l] $op o.0[l]))
            }
        }
    };
}
arr_maskop!(BitAnd, bitand, &);
arr_maskop!(BitOr, bitor, |);

impl<const N: usize> Mask for ArrMask<N> {
    #[inline(always)]
    fn any(self) -> bool {
        self.0.iter().any(|&b| b)
    }
}

macro_rules! arr_cmp {
    ($f:ident, $op:tt) => {
        #[inline(always)]
        fn $f(self, o: Self) -> ArrMask<N> {
            ArrMask(lanewise!(N, |l| self.0[l] $op o.0[l]))
        }
    };
}

impl<const N: usize> Lanes for Arr<N> {
    type M = ArrMask<N>;
    const N: usize = N;

    #[inline(always)]
    fn splat(x: f64) -> Self {
        Arr([x; N])
    }

    #[inline(always)]
    fn from_fn(mut f: impl FnMut(usize) -> f64) -> Self {
        Arr(lanewise!(N, |l| f(l)))
    }

    #[inline(always)]
    fn lane(self, l: usize) -> f64 {
        self.0[l]
    }

    arr_cmp!(eq, ==);
    arr_cmp!(ne, !=);
    arr_cmp!(lt, <);
    arr_cmp!(le, <=);
    arr_cmp!(gt, >);
    arr_cmp!(ge, >=);

    #[inline(always)]
    fn select(m: ArrMask<N>, a: Self, b: Self) -> Self {
        Arr(lanewise!(N, |l| if m.0[l] { a.0[l] } else { b.0[l] }))
    }

    #[inline(always)]
    fn one(m: ArrMask<N>) -> Self {
        Arr(lanewise!(N, |l| if m.0[l] { 1.0 } else { 0.0 }))
    }

    #[inline(always)]
    fn abs(self) -> Self {
        Arr(lanewise!(N, |l| self.0[l].abs()))
    }

    #[inline(always)]
    fn rint(self) -> Self {
        const TWO52: f64 = 4_503_599_627_370_496.0;
        Arr(lanewise!(N, |l| {
            let x = self.0[l];
            let a = x.abs();
            if a < TWO52 {
                ((a + TWO52) - TWO52).copysign(x)
            } else {
                x
            }
        }))
    }
}

// ---- x86-64 vector registers ----------------------------------------------

#[cfg(target_arch = "x86_64")]
pub use x86::{X2, X4};
#[cfg(all(target_arch = "x86_64", tg_avx512))]
pub use x86::X8;

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Lanes, Mask};
    use std::arch::x86_64::*;
    use std::ops::{Add, BitAnd, BitOr, Div, Mul, Neg, Sub};

    /// Two doubles in an SSE register (SSE2 is every x86-64's baseline).
    #[derive(Clone, Copy, Debug)]
    #[repr(transparent)]
    pub struct X2(__m128d);

    /// Four doubles in an AVX register. Only [`crate::lanes::group_avx2`]
    /// makes them, after checking that the CPU runs AVX2, inside a
    /// function compiled with AVX2 enabled (every method is inlined there).
    #[derive(Clone, Copy, Debug)]
    #[repr(transparent)]
    pub struct X4(__m256d);

    /// Eight doubles in an AVX-512 register, lane masks in mask registers
    /// (a bit per lane). Only [`crate::lanes::group_avx512`] makes them,
    /// after checking that the CPU runs AVX-512F, inside a function
    /// compiled with it enabled. (Its intrinsics are Rust 1.89's: build.rs
    /// sets `tg_avx512` from the compiler's version.)
    #[cfg(tg_avx512)]
    #[derive(Clone, Copy, Debug)]
    #[repr(transparent)]
    pub struct X8(__m512d);

    #[cfg(tg_avx512)]
    #[derive(Clone, Copy, Debug)]
    pub struct X8Mask(__mmask8);

    #[derive(Clone, Copy, Debug)]
    pub struct X2Mask(__m128d);

    #[derive(Clone, Copy, Debug)]
    pub struct X4Mask(__m256d);

    // SAFETY (every `unsafe` below): SSE2 is part of x86-64; the AVX
    // intrinsics run only on an X4, which exists only on a CPU with AVX2
    // (see X4), the AVX-512 ones only on an X8 (a CPU with AVX-512F, see
    // X8). The operations read and write registers only.
    macro_rules! binops {
        ($t:ident, $splat:ident, $(($tr:ident, $f:ident, $intr:ident)),*) => {$(
            impl $tr for $t {
                type Output = $t;
                #[inline(always)]
                fn $f(self, o: $t) -> $t {
                    $t(unsafe { $intr(self.0, o.0) })
                }
            }
            impl $tr<f64> for $t {
                type Output = $t;
                #[inline(always)]
                fn $f(self, o: f64) -> $t {
                    $t(unsafe { $intr(self.0, $splat(o)) })
                }
            }
        )*};
    }
    binops!(X2, _mm_set1_pd, (Add, add, _mm_add_pd), (Sub, sub, _mm_sub_pd), (Mul, mul, _mm_mul_pd), (Div, div, _mm_div_pd));
    binops!(X4, _mm256_set1_pd, (Add, add, _mm256_add_pd), (Sub, sub, _mm256_sub_pd), (Mul, mul, _mm256_mul_pd), (Div, div, _mm256_div_pd));
    #[cfg(tg_avx512)]
    binops!(X8, _mm512_set1_pd, (Add, add, _mm512_add_pd), (Sub, sub, _mm512_sub_pd), (Mul, mul, _mm512_mul_pd), (Div, div, _mm512_div_pd));

    impl Neg for X2 {
        type Output = X2;
        #[inline(always)]
        fn neg(self) -> X2 {
            X2(unsafe { _mm_xor_pd(self.0, _mm_set1_pd(-0.0)) })
        }
    }

    impl Neg for X4 {
        type Output = X4;
        #[inline(always)]
        fn neg(self) -> X4 {
            X4(unsafe { _mm256_xor_pd(self.0, _mm256_set1_pd(-0.0)) })
        }
    }

    macro_rules! maskops {
        ($t:ident, $and:ident, $or:ident, $movemask:ident) => {
            impl BitAnd for $t {
                type Output = $t;
                #[inline(always)]
                fn bitand(self, o: $t) -> $t {
                    $t(unsafe { $and(self.0, o.0) })
                }
            }
            impl BitOr for $t {
                type Output = $t;
                #[inline(always)]
                fn bitor(self, o: $t) -> $t {
                    $t(unsafe { $or(self.0, o.0) })
                }
            }
            impl Mask for $t {
                #[inline(always)]
                fn any(self) -> bool {
                    unsafe { $movemask(self.0) != 0 }
                }
            }
        };
    }
    maskops!(X2Mask, _mm_and_pd, _mm_or_pd, _mm_movemask_pd);
    maskops!(X4Mask, _mm256_and_pd, _mm256_or_pd, _mm256_movemask_pd);

    /// SSE4.1's blend where the build has it (x86-64-v2 and up), else the
    /// SSE2 and/andnot/or form: the same bits.
    #[inline(always)]
    fn blend2(m: __m128d, a: __m128d, b: __m128d) -> __m128d {
        #[cfg(target_feature = "sse4.1")]
        unsafe {
            _mm_blendv_pd(b, a, m)
        }
        #[cfg(not(target_feature = "sse4.1"))]
        unsafe {
            _mm_or_pd(_mm_and_pd(m, a), _mm_andnot_pd(m, b))
        }
    }

    impl Lanes for X2 {
        type M = X2Mask;
        const N: usize = 2;

        #[inline(always)]
        fn splat(x: f64) -> Self {
            X2(unsafe { _mm_set1_pd(x) })
        }

        #[inline(always)]
        fn from_fn(mut f: impl FnMut(usize) -> f64) -> Self {
            let (a, b) = (f(0), f(1));
            X2(unsafe { _mm_set_pd(b, a) })
        }

        #[inline(always)]
        fn lane(self, l: usize) -> f64 {
            let mut a = [0.0; 2];
            unsafe { _mm_storeu_pd(a.as_mut_ptr(), self.0) };
            a[l]
        }

        #[inline(always)]
        fn eq(self, o: Self) -> X2Mask {
            X2Mask(unsafe { _mm_cmpeq_pd(self.0, o.0) })
        }
        #[inline(always)]
        fn ne(self, o: Self) -> X2Mask {
            X2Mask(unsafe { _mm_cmpneq_pd(self.0, o.0) })
        }
        #[inline(always)]
        fn lt(self, o: Self) -> X2Mask {
            X2Mask(unsafe { _mm_cmplt_pd(self.0, o.0) })
        }
        #[inline(always)]
        fn le(self, o: Self) -> X2Mask {
            X2Mask(unsafe { _mm_cmple_pd(self.0, o.0) })
        }
        #[inline(always)]
        fn gt(self, o: Self) -> X2Mask {
            X2Mask(unsafe { _mm_cmpgt_pd(self.0, o.0) })
        }
        #[inline(always)]
        fn ge(self, o: Self) -> X2Mask {
            X2Mask(unsafe { _mm_cmpge_pd(self.0, o.0) })
        }

        #[inline(always)]
        fn select(m: X2Mask, a: Self, b: Self) -> Self {
            X2(blend2(m.0, a.0, b.0))
        }

        #[inline(always)]
        fn one(m: X2Mask) -> Self {
            X2(unsafe { _mm_and_pd(m.0, _mm_set1_pd(1.0)) })
        }

        #[inline(always)]
        fn abs(self) -> Self {
            X2(unsafe { _mm_andnot_pd(_mm_set1_pd(-0.0), self.0) })
        }

        #[inline(always)]
        fn rint(self) -> Self {
            unsafe {
                let sign = _mm_set1_pd(-0.0);
                let two52 = _mm_set1_pd(4_503_599_627_370_496.0);
                let a = _mm_andnot_pd(sign, self.0);
                let r = _mm_sub_pd(_mm_add_pd(a, two52), two52);
                let signed = _mm_or_pd(r, _mm_and_pd(self.0, sign));
                X2(blend2(_mm_cmplt_pd(a, two52), signed, self.0))
            }
        }

    }

    impl Lanes for X4 {
        type M = X4Mask;
        const N: usize = 4;

        #[inline(always)]
        fn splat(x: f64) -> Self {
            X4(unsafe { _mm256_set1_pd(x) })
        }

        #[inline(always)]
        fn from_fn(mut f: impl FnMut(usize) -> f64) -> Self {
            let (a, b, c, d) = (f(0), f(1), f(2), f(3));
            X4(unsafe { _mm256_set_pd(d, c, b, a) })
        }

        #[inline(always)]
        fn lane(self, l: usize) -> f64 {
            let mut a = [0.0; 4];
            unsafe { _mm256_storeu_pd(a.as_mut_ptr(), self.0) };
            a[l]
        }

        #[inline(always)]
        fn eq(self, o: Self) -> X4Mask {
            X4Mask(unsafe { _mm256_cmp_pd(self.0, o.0, _CMP_EQ_OQ) })
        }
        #[inline(always)]
        fn ne(self, o: Self) -> X4Mask {
            X4Mask(unsafe { _mm256_cmp_pd(self.0, o.0, _CMP_NEQ_UQ) })
        }
        #[inline(always)]
        fn lt(self, o: Self) -> X4Mask {
            X4Mask(unsafe { _mm256_cmp_pd(self.0, o.0, _CMP_LT_OQ) })
        }
        #[inline(always)]
        fn le(self, o: Self) -> X4Mask {
            X4Mask(unsafe { _mm256_cmp_pd(self.0, o.0, _CMP_LE_OQ) })
        }
        #[inline(always)]
        fn gt(self, o: Self) -> X4Mask {
            X4Mask(unsafe { _mm256_cmp_pd(self.0, o.0, _CMP_GT_OQ) })
        }
        #[inline(always)]
        fn ge(self, o: Self) -> X4Mask {
            X4Mask(unsafe { _mm256_cmp_pd(self.0, o.0, _CMP_GE_OQ) })
        }

        #[inline(always)]
        fn select(m: X4Mask, a: Self, b: Self) -> Self {
            X4(unsafe { _mm256_blendv_pd(b.0, a.0, m.0) })
        }

        #[inline(always)]
        fn one(m: X4Mask) -> Self {
            X4(unsafe { _mm256_and_pd(m.0, _mm256_set1_pd(1.0)) })
        }

        #[inline(always)]
        fn abs(self) -> Self {
            X4(unsafe { _mm256_andnot_pd(_mm256_set1_pd(-0.0), self.0) })
        }

        #[inline(always)]
        fn rint(self) -> Self {
            unsafe {
                let sign = _mm256_set1_pd(-0.0);
                let two52 = _mm256_set1_pd(4_503_599_627_370_496.0);
                let a = _mm256_andnot_pd(sign, self.0);
                let r = _mm256_sub_pd(_mm256_add_pd(a, two52), two52);
                let signed = _mm256_or_pd(r, _mm256_and_pd(self.0, sign));
                X4(_mm256_blendv_pd(self.0, signed, _mm256_cmp_pd(a, two52, _CMP_LT_OQ)))
            }
        }

    }

    /// the bits of a and b combined by an integer operation (AVX-512F has
    /// no and/or/xor of doubles: those are AVX-512DQ's)
    #[cfg(tg_avx512)]
    #[inline(always)]
    fn bits512(a: __m512d, b: __m512d, f: impl Fn(__m512i, __m512i) -> __m512i) -> __m512d {
        unsafe { _mm512_castsi512_pd(f(_mm512_castpd_si512(a), _mm512_castpd_si512(b))) }
    }

    #[cfg(tg_avx512)]
    impl Neg for X8 {
        type Output = X8;
        #[inline(always)]
        fn neg(self) -> X8 {
            X8(bits512(self.0, unsafe { _mm512_set1_pd(-0.0) }, |a, b| unsafe { _mm512_xor_si512(a, b) }))
        }
    }

    #[cfg(tg_avx512)]
    impl BitAnd for X8Mask {
        type Output = X8Mask;
        #[inline(always)]
        fn bitand(self, o: X8Mask) -> X8Mask {
            X8Mask(self.0 & o.0)
        }
    }

    #[cfg(tg_avx512)]
    impl BitOr for X8Mask {
        type Output = X8Mask;
        #[inline(always)]
        fn bitor(self, o: X8Mask) -> X8Mask {
            X8Mask(self.0 | o.0)
        }
    }

    #[cfg(tg_avx512)]
    impl Mask for X8Mask {
        #[inline(always)]
        fn any(self) -> bool {
            self.0 != 0
        }
    }

    #[cfg(tg_avx512)]
    impl Lanes for X8 {
        type M = X8Mask;
        const N: usize = 8;

        #[inline(always)]
        fn splat(x: f64) -> Self {
            X8(unsafe { _mm512_set1_pd(x) })
        }

        #[inline(always)]
        fn from_fn(mut f: impl FnMut(usize) -> f64) -> Self {
            let a: [f64; 8] = [f(0), f(1), f(2), f(3), f(4), f(5), f(6), f(7)];
            X8(unsafe { _mm512_loadu_pd(a.as_ptr()) })
        }

        #[inline(always)]
        fn lane(self, l: usize) -> f64 {
            let mut a = [0.0; 8];
            unsafe { _mm512_storeu_pd(a.as_mut_ptr(), self.0) };
            a[l]
        }

        #[inline(always)]
        fn eq(self, o: Self) -> X8Mask {
            X8Mask(unsafe { _mm512_cmp_pd_mask::<_CMP_EQ_OQ>(self.0, o.0) })
        }
        #[inline(always)]
        fn ne(self, o: Self) -> X8Mask {
            X8Mask(unsafe { _mm512_cmp_pd_mask::<_CMP_NEQ_UQ>(self.0, o.0) })
        }
        #[inline(always)]
        fn lt(self, o: Self) -> X8Mask {
            X8Mask(unsafe { _mm512_cmp_pd_mask::<_CMP_LT_OQ>(self.0, o.0) })
        }
        #[inline(always)]
        fn le(self, o: Self) -> X8Mask {
            X8Mask(unsafe { _mm512_cmp_pd_mask::<_CMP_LE_OQ>(self.0, o.0) })
        }
        #[inline(always)]
        fn gt(self, o: Self) -> X8Mask {
            X8Mask(unsafe { _mm512_cmp_pd_mask::<_CMP_GT_OQ>(self.0, o.0) })
        }
        #[inline(always)]
        fn ge(self, o: Self) -> X8Mask {
            X8Mask(unsafe { _mm512_cmp_pd_mask::<_CMP_GE_OQ>(self.0, o.0) })
        }

        #[inline(always)]
        fn select(m: X8Mask, a: Self, b: Self) -> Self {
            X8(unsafe { _mm512_mask_blend_pd(m.0, b.0, a.0) })
        }

        #[inline(always)]
        fn one(m: X8Mask) -> Self {
            X8(unsafe { _mm512_maskz_mov_pd(m.0, _mm512_set1_pd(1.0)) })
        }

        #[inline(always)]
        fn abs(self) -> Self {
            X8(unsafe { _mm512_abs_pd(self.0) })
        }

        #[inline(always)]
        fn rint(self) -> Self {
            unsafe {
                let sign = _mm512_set1_pd(-0.0);
                let two52 = _mm512_set1_pd(4_503_599_627_370_496.0);
                let a = _mm512_abs_pd(self.0);
                let r = _mm512_sub_pd(_mm512_add_pd(a, two52), two52);
                let signed = bits512(r, bits512(self.0, sign, |x, y| _mm512_and_si512(x, y)), |x, y| _mm512_or_si512(x, y));
                X8(_mm512_mask_blend_pd(_mm512_cmp_pd_mask::<_CMP_LT_OQ>(a, two52), self.0, signed))
            }
        }
    }
}
