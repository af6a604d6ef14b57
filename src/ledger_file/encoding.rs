//! The text of a CSV ledger as units' spreadsheet programs save it: UTF-8 (with or without a
//! byte-order mark), GBK/GB18030 (Excel's and WPS's "CSV (逗号分隔)" on Chinese Windows), and
//! UTF-16 (their "Unicode 文本", tab-separated, with a byte-order mark). Decoding is bounded by
//! the file's own limit, checked before: every encoding here grows a text by at most half again.

use encoding_rs::{Encoding, GB18030, UTF_16BE, UTF_16LE};

use crate::error::{AppError, AppResult};

/// The file's text, its encoding detected; refused only when no encoding reads it whole.
pub fn decode(bytes: &[u8]) -> AppResult<String> {
    // A byte-order mark names the encoding (UTF-8, UTF-16 LE or BE).
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        return whole(encoding, &bytes[bom..]);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_owned());
    }
    if let Some(encoding) = utf16_without_bom(bytes) {
        return whole(encoding, bytes);
    }
    // Not UTF-8: what Chinese Windows writes, GB18030 (a superset of GBK and GB2312). Bytes it
    // cannot read either are no text we can tell.
    whole(GB18030, bytes)
}

/// The text in `encoding`, or the refusal when any of it is not valid there (never replaced
/// by U+FFFD: a ledger must come back as written).
fn whole(encoding: &'static Encoding, bytes: &[u8]) -> AppResult<String> {
    encoding
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|text| text.into_owned())
        .ok_or_else(|| AppError::bad_input("file", t!("file-csv-encoding")))
}

/// UTF-16 saved without a byte-order mark: ASCII characters (digits, commas, tabs, line ends)
/// leave a zero byte in every other place, which no GB18030 or UTF-8 text has.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    if bytes.len() < 4 || !bytes.len().is_multiple_of(2) {
        return None;
    }
    let pairs = bytes.len() / 2;
    let zero_at = |offset: usize| {
        bytes
            .chunks_exact(2)
            .filter(|pair| pair[offset] == 0)
            .count()
    };
    let (even, odd) = (zero_at(0), zero_at(1));
    // A quarter of the characters ASCII is plenty for a ledger's separators and numbers.
    if odd * 4 >= pairs && even == 0 {
        Some(UTF_16LE)
    } else if even * 4 >= pairs && odd == 0 {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// The field separator: a tab when the first line has more tabs than commas ("Unicode 文本"
/// and tab-separated text), otherwise a comma.
pub fn delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or_default();
    let tabs = first.matches('\t').count();
    let commas = first.matches(',').count();
    if tabs > commas { b'\t' } else { b',' }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_encoding_a_unit_saves_reads_as_written() {
        let text = "序号,问题\r\n１,财务制度不健全\r\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        assert_eq!(decode(&gbk).unwrap(), text);
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for unit in text.encode_utf16() {
            le.extend(unit.to_le_bytes());
            be.extend(unit.to_be_bytes());
        }
        assert_eq!(decode(&le).unwrap(), text);
        assert_eq!(decode(&be).unwrap(), text);
        assert_eq!(decode(&le[2..]).unwrap(), text, "UTF-16 LE without a mark");
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend(text.as_bytes());
        assert_eq!(decode(&bom).unwrap(), text);
        assert_eq!(decode(text.as_bytes()).unwrap(), text);
        // Bytes no encoding reads whole.
        assert!(decode(b"\x81\x20\xFF\xFF,abc").is_err());
    }

    #[test]
    fn tabs_separate_unicode_text() {
        assert_eq!(delimiter("序号\t问题\t整改措施\n"), b'\t');
        assert_eq!(delimiter("序号,问题,整改措施\n"), b',');
    }
}
