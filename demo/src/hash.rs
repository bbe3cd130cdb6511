//! FNV-1a, 32 bits: a fingerprint of the trained weights' exact bits.

const OFFSET: u32 = 0x811c_9dc5;
const PRIME: u32 = 0x0100_0193;

/// The FNV-1a hash of the little-endian bytes of every value's bits, in order.
pub fn fnv1a_f32(values: &[f32]) -> u32 {
    fnv1a(values.iter().flat_map(|v| v.to_bits().to_le_bytes()))
}

fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u32 {
    bytes
        .into_iter()
        .fold(OFFSET, |h, byte| (h ^ u32::from(byte)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_test_vectors() {
        assert_eq!(fnv1a(*b""), 0x811c_9dc5);
        assert_eq!(fnv1a(*b"a"), 0xe40c_292c);
        assert_eq!(fnv1a(*b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn floats_hash_their_little_endian_bits() {
        assert_eq!(fnv1a_f32(&[1.0]), fnv1a([0x00, 0x00, 0x80, 0x3f]));
        let next = f32::from_bits(1.0f32.to_bits() + 1);
        assert_ne!(fnv1a_f32(&[1.0]), fnv1a_f32(&[next]));
    }
}
