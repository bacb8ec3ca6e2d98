//! The write key check: HTTP Basic auth with the key as the user name and an empty
//! password (what the Segment SDKs send), or `writeKey` in a tracking call's JSON body.
//! The comparison takes the same time whatever the bytes, so response times do not tell
//! how much of a guessed key was right.

/// Whether an `Authorization` header value carries `key`.
pub fn header_has_key(header: &[u8], key: &str) -> bool {
    let Some(encoded) = header
        .strip_prefix(b"Basic ")
        .or_else(|| header.strip_prefix(b"basic "))
    else {
        return false;
    };
    let Some(decoded) = base64_decode(trim(encoded)) else {
        return false;
    };
    // `user:password`; the SDKs send `KEY:`, some clients just `KEY`.
    let user = match decoded.iter().position(|&b| b == b':') {
        Some(i) => &decoded[..i],
        None => &decoded[..],
    };
    constant_time_eq(user, key.as_bytes())
}

/// Whether `given` (a body's `writeKey`) is `key`.
pub fn body_has_key(given: &str, key: &str) -> bool {
    constant_time_eq(given.as_bytes(), key.as_bytes())
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &s[start..end.max(start)]
}

/// Standard base64 with or without padding; `None` for anything else.
fn base64_decode(s: &[u8]) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let s = match s.iter().position(|&c| c == b'=') {
        Some(i) if s[i..].iter().all(|&c| c == b'=') && s[i..].len() <= 2 => &s[..i],
        Some(_) => return None,
        None => s,
    };
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_with_the_key_as_user_name() {
        // base64("wk_test:") and base64("wk_test")
        assert!(header_has_key(b"Basic d2tfdGVzdDo=", "wk_test"));
        assert!(header_has_key(b"Basic d2tfdGVzdA==", "wk_test"));
        assert!(header_has_key(b"Basic d2tfdGVzdA", "wk_test"));
        assert!(!header_has_key(b"Basic d2tfdGVzdDo=", "wk_tesT"));
        assert!(!header_has_key(b"Bearer d2tfdGVzdDo=", "wk_test"));
        assert!(!header_has_key(b"Basic !!!!", "wk_test"));
        assert!(!header_has_key(b"Basic ", "wk_test"));
        assert!(!header_has_key(b"Basic =d2t", "wk_test"));
    }

    #[test]
    fn decodes_base64() {
        assert_eq!(base64_decode(b"aGVsbG8="), Some(b"hello".to_vec()));
        assert_eq!(base64_decode(b"aGVsbG8h"), Some(b"hello!".to_vec()));
        assert_eq!(base64_decode(b"aGVsbA=="), Some(b"hell".to_vec()));
        assert_eq!(base64_decode(b"a"), None);
    }

    #[test]
    fn compares_in_constant_time_by_content() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
