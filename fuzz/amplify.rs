//! Amplification for the PHP fuzz targets: a small input stands for a deep or long one, so that
//! the reader's bounds (nesting, values, text size) are reached from a corpus of a few bytes.
//!
//! An input that starts with 0xFF is `0xFF, n_hi, n_lo, prefix, 0x00, unit, 0x00, suffix`: the
//! text is `prefix`, then `unit` repeated `n` times (up to 65 535), then `suffix`, cut at a
//! little over the reader's size limit. Any other input is used as is.

/// The bytes the fuzzer's input stands for.
pub fn amplify(data: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let (Some(&0xFF), Some(&hi), Some(&lo)) = (data.first(), data.get(1), data.get(2)) else {
        return data.into();
    };
    let rest = &data[3..];
    let mut parts = rest.splitn(3, |&b| b == 0);
    let (Some(prefix), Some(unit), Some(suffix)) = (parts.next(), parts.next(), parts.next()) else {
        return data.into();
    };
    let limit = pen_doctor::sei::php::MAX_SOURCE_BYTES + 4096;
    let times = usize::from(u16::from_be_bytes([hi, lo]));
    let mut out = Vec::with_capacity(limit.min(prefix.len() + unit.len() * times + suffix.len()));
    out.extend_from_slice(prefix);
    for _ in 0..times {
        if out.len() + unit.len() > limit {
            break;
        }
        out.extend_from_slice(unit);
    }
    out.extend_from_slice(suffix);
    out.into()
}
