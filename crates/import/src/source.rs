//! Reading CSV as a stream: the first line is looked at (byte order mark,
//! delimiter, UTF-8) and then the whole input goes through one `csv` reader,
//! so memory stays at a few buffers whatever the file's size.

use std::io::{Cursor, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::ImportError;

/// How much of the input is looked at for the header line.
const PEEK: usize = 64 * 1024;

/// Counts the bytes read, for progress.
pub(crate) struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R> Counted<R> {
    pub fn new(inner: R, count: Arc<AtomicU64>) -> Self {
        Counted { inner, count }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

pub(crate) type Input<R> = std::io::Chain<Cursor<Vec<u8>>, Counted<R>>;

pub(crate) struct Opened<R: Read> {
    pub reader: csv::Reader<Input<R>>,
    pub delimiter: u8,
    pub headers: Vec<String>,
}

/// Opens `source` as CSV and reads its header row.
pub(crate) fn open<R: Read>(source: R, delimiter: Option<u8>, count: Arc<AtomicU64>) -> Result<Opened<R>, ImportError> {
    let mut source = Counted::new(source, count);
    let mut peeked = Vec::new();
    let mut chunk = [0u8; 8 * 1024];
    while peeked.len() < PEEK && !peeked.contains(&b'\n') {
        let n = source.read(&mut chunk).map_err(|err| ImportError::Unreadable(err.to_string()))?;
        if n == 0 {
            break;
        }
        peeked.extend_from_slice(&chunk[..n]);
    }
    // Spreadsheets often save UTF-8 with a byte order mark (the csv reader skips it).
    let text = peeked.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&peeked);
    if let Err(err) = std::str::from_utf8(text)
        && err.error_len().is_some()
    {
        let line = text[..err.valid_up_to()].iter().filter(|b| **b == b'\n').count() as u64 + 1;
        return Err(ImportError::NotUtf8 { line });
    }
    let delimiter = delimiter.unwrap_or_else(|| sniff_delimiter(text));
    let mut reader =
        csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(Cursor::new(peeked).chain(source));
    let headers: Vec<String> = reader.headers().map_err(read_error)?.iter().map(|h| h.trim().to_owned()).collect();
    if headers.iter().all(String::is_empty) {
        return Err(ImportError::Empty);
    }
    Ok(Opened { reader, delimiter, headers })
}

/// A csv error as the import's: where and why the file could not be read.
pub(crate) fn read_error(err: csv::Error) -> ImportError {
    let line = err.position().map(|p| p.line());
    match err.into_kind() {
        csv::ErrorKind::Io(err) => ImportError::Unreadable(err.to_string()),
        csv::ErrorKind::Utf8 { pos, .. } => ImportError::NotUtf8 { line: pos.map(|p| p.line()).or(line).unwrap_or(1) },
        other => ImportError::Malformed { line: line.unwrap_or(1), reason: format!("{other:?}") },
    }
}

/// The candidate seen most often outside quotes on the header line; a comma when none is.
pub(crate) fn sniff_delimiter(bytes: &[u8]) -> u8 {
    const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];
    let mut counts = [0usize; 4];
    let mut quoted = false;
    for &byte in bytes {
        if byte == b'\n' && !quoted {
            break;
        }
        if byte == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(i) = CANDIDATES.iter().position(|c| *c == byte) {
            counts[i] += 1;
        }
    }
    let best = (0..CANDIDATES.len()).rev().max_by_key(|i| counts[*i]).unwrap_or(0);
    CANDIDATES[best]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delimiter_is_the_commonest_outside_quotes() {
        assert_eq!(sniff_delimiter(b"a;b;\"c,d,e\"\n1,2,3"), b';');
        assert_eq!(sniff_delimiter(b"a\tb\tc"), b'\t');
        assert_eq!(sniff_delimiter(b"name"), b',');
    }

    #[test]
    fn a_byte_order_mark_and_a_long_header_are_read() {
        let long: String = (0..20_000).map(|i| format!("h{i},")).collect();
        let text = format!("\u{feff}{long}last\n1\n");
        let opened = open(text.as_bytes(), None, Arc::default()).unwrap();
        assert_eq!(opened.headers[0], "h0");
        assert_eq!(opened.headers.len(), 20_001);
        assert!(matches!(open(&b"a,b\n\xff\n"[..], None, Arc::default()), Err(ImportError::NotUtf8 { line: 2 })));
        assert!(matches!(open(&b""[..], None, Arc::default()), Err(ImportError::Empty)));
    }
}
