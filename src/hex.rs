//! Hexadecimal encoding, in the two cases the API uses.

const LOWER: &[u8; 16] = b"0123456789abcdef";
const UPPER: &[u8; 16] = b"0123456789ABCDEF";

fn encode(bytes: &[u8], digits: &[u8; 16]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(digits[usize::from(b >> 4)] as char);
        out.push(digits[usize::from(b & 0x0f)] as char);
    }
    out
}

pub fn lower(bytes: &[u8]) -> String {
    encode(bytes, LOWER)
}

pub fn upper(bytes: &[u8]) -> String {
    encode(bytes, UPPER)
}

/// Decodes hex of either case; `None` for odd lengths or non-hex characters.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let high = (pair[0] as char).to_digit(16)?;
            let low = (pair[1] as char).to_digit(16)?;
            Some((high * 16 + low) as u8)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_both_cases() {
        let bytes = [0x00, 0x7f, 0x80, 0xff, 0x12];
        assert_eq!(lower(&bytes), "007f80ff12");
        assert_eq!(upper(&bytes), "007F80FF12");
        assert_eq!(decode("007F80ff12").unwrap(), bytes);
    }

    #[test]
    fn rejects_odd_lengths_and_non_hex() {
        assert_eq!(decode("abc"), None);
        assert_eq!(decode("zz"), None);
        assert_eq!(decode("é1"), None);
    }
}
